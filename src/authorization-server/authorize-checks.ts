/**
 * Authorization request validation in two phases (MCP SDK `handlers/authorize.ts`).
 * Phase 1 — client_id and redirect_uri. Failing here renders a page and NEVER redirects
 *   (https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2.1: "MUST NOT automatically redirect the user-agent
 *   to the invalid redirection URI").
 * Phase 2 — everything else. Failing here redirects to the client with `error`, `state` and `iss`.
 */
import type { ClientRecord, Store } from '../store/types.js';
import type { KeyholeConfig } from '../config/schema.js';
import { InvalidClientError, InvalidRequestError, InvalidTargetError, OAuthError, UnsupportedResponseTypeError } from '../oauth/errors.js';
import { matchRedirectUri } from '../oauth/redirect-uri.js';
import { assertCodeChallenge } from '../oauth/pkce.js';
import { resolveResource, type ResourceIndex } from '../oauth/resource.js';
import { parseScope } from '../oauth/scope.js';
import { grantableScopes } from '../config/scopes.js';
import { isMetadataDocumentClientId, type ClientIdMetadataResolver } from './client-id-metadata.js';

/**
 * Size caps on the authorization request (issue 9 F2: unbounded values were stored for every /authorize call).
 * Bytes of the UTF-8 value. `code_challenge` needs none: S256 challenges are exactly 43 characters
 * (assertCodeChallenge; RFC 7636 §4.2 allows 43–128 of the unreserved set, and S256 always gives 43).
 */
export const AUTHORIZE_LIMITS = {
  client_id: 2048,
  redirect_uri: 2048,
  state: 1024,
  scope: 1024,
  resource: 2048,
} as const;

function tooLong(q: Map<string, string>, name: keyof typeof AUTHORIZE_LIMITS): boolean {
  const v = q.get(name);
  return v !== undefined && Buffer.byteLength(v, 'utf8') > AUTHORIZE_LIMITS[name];
}

export interface ValidatedClient {
  client: ClientRecord;
  redirectUri: string;
}

/** Thrown in phase 1: shown as a page, never redirected. */
export class AuthorizePageError extends Error {
  constructor(readonly error: OAuthError) {
    super(error.message);
  }
}

/** Thrown in phase 2: redirected to the client's redirect_uri. */
export class AuthorizeRedirectError extends Error {
  constructor(readonly error: OAuthError, readonly redirectUri: string, readonly state: string | undefined) {
    super(error.message);
  }
}

export function registeredRedirectUris(client: ClientRecord): string[] {
  const uris = client.metadata.redirect_uris;
  return Array.isArray(uris) ? uris.filter((u): u is string => typeof u === 'string') : [];
}

/**
 * Phase 1, first step for a URL client_id: fetch, validate and persist its client ID metadata document, so that
 * checkClientAndRedirect finds the client. A refusal is a page, never a redirect (the redirect URIs are unverified).
 * @see https://datatracker.ietf.org/doc/html/draft-ietf-oauth-client-id-metadata-document#section-4
 */
export async function resolveMetadataDocumentClient(resolver: ClientIdMetadataResolver | undefined, q: Map<string, string>): Promise<void> {
  const clientId = q.get('client_id');
  if (!resolver || !clientId || !isMetadataDocumentClientId(clientId)) return;
  try {
    await resolver.resolve(clientId, 'authorize');
  } catch (e) {
    if (e instanceof OAuthError) throw new AuthorizePageError(e);
    throw e;
  }
}

/** Phase 1 sizes, checked before anything is looked up or fetched. */
export function checkRequestSizes(q: Map<string, string>): void {
  // https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2.1 — an oversized client_id or redirect_uri is invalid: a page, never a redirect.
  if (tooLong(q, 'client_id')) throw new AuthorizePageError(new InvalidRequestError(`client_id is longer than ${AUTHORIZE_LIMITS.client_id} bytes`));
  if (tooLong(q, 'redirect_uri')) throw new AuthorizePageError(new InvalidRequestError(`redirect_uri is longer than ${AUTHORIZE_LIMITS.redirect_uri} bytes`));
}

export async function checkClientAndRedirect(store: Store, q: Map<string, string>): Promise<ValidatedClient> {
  const clientId = q.get('client_id');
  if (!clientId) throw new AuthorizePageError(new InvalidRequestError('client_id is required'));
  checkRequestSizes(q);
  const client = await store.clients.find(clientId);
  if (!client) throw new AuthorizePageError(new InvalidClientError('unknown client_id: the application must register again'));
  if (client.blockedAt !== null) throw new AuthorizePageError(new InvalidClientError('this application has been blocked by an administrator'));
  const registered = registeredRedirectUris(client);
  const requested = q.get('redirect_uri');
  if (requested === undefined) {
    // https://www.rfc-editor.org/rfc/rfc6749#section-3.1.2.3 — may be omitted only when exactly one is registered.
    if (registered.length !== 1) throw new AuthorizePageError(new InvalidRequestError('redirect_uri is required'));
    return { client, redirectUri: registered[0]! };
  }
  if (!matchRedirectUri(registered, requested)) throw new AuthorizePageError(new InvalidRequestError('redirect_uri does not match a registered redirect URI'));
  return { client, redirectUri: requested };
}

export interface ValidatedRequest {
  codeChallenge: string;
  state: string | undefined;
  resource: string;
  server: string;
  scopes: string[];
}

export function checkAuthorizationParams(config: KeyholeConfig, resources: ResourceIndex, v: ValidatedClient, q: Map<string, string>): ValidatedRequest {
  // A state too long to store is too long to echo: the error goes back without it.
  const stateTooLong = tooLong(q, 'state');
  const state = stateTooLong ? undefined : q.get('state');
  const fail = (e: OAuthError): never => {
    throw new AuthorizeRedirectError(e, v.redirectUri, state);
  };
  try {
    if (stateTooLong) fail(new InvalidRequestError(`state is longer than ${AUTHORIZE_LIMITS.state} bytes`));
    if (tooLong(q, 'scope')) fail(new InvalidRequestError(`scope is longer than ${AUTHORIZE_LIMITS.scope} bytes`));
    if (tooLong(q, 'resource')) fail(new InvalidTargetError(`resource is longer than ${AUTHORIZE_LIMITS.resource} bytes`));
    if (q.get('response_type') !== 'code') fail(new UnsupportedResponseTypeError('response_type must be "code"'));
    // OAuth 2.1 / MCP: PKCE S256 is required. https://www.rfc-editor.org/rfc/rfc7636#section-4.4.1
    assertCodeChallenge(q.get('code_challenge'), q.get('code_challenge_method'));
    if (q.has('request') || q.has('request_uri')) fail(new InvalidRequestError('request objects are not supported'));
    // RFC 8707: bind the authorization to one canonical MCP endpoint.
    const { resource, server } = resolveResource(resources, q.get('resource'));
    const requested = parseScope(q.get('scope'));
    const scopes = grantableScopes(config.servers[server]!, requested);
    return { codeChallenge: q.get('code_challenge')!, state, resource, server, scopes };
  } catch (e) {
    if (e instanceof AuthorizeRedirectError) throw e;
    if (e instanceof OAuthError) fail(e);
    throw e;
  }
}
