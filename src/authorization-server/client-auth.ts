/**
 * Client authentication at the token and revocation endpoints: `none` (public clients, PKCE),
 * `client_secret_basic` and `client_secret_post`. Exactly one method per request.
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-2.3.1
 */
import type { Context } from 'hono';
import type { ClientRecord, Store } from '../store/types.js';
import { InvalidClientError, InvalidRequestError } from '../oauth/errors.js';
import { safeEqual, sha256Hex } from '../store/crypto/hash.js';
import type { AuthorizationServerDeps } from './deps.js';
import { isMetadataDocumentClientId } from './client-id-metadata.js';

function basicCredentials(header: string | undefined): { id: string; secret: string } | undefined {
  if (!header || !/^basic /i.test(header)) return undefined;
  let decoded: string;
  try {
    decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  } catch {
    throw new InvalidClientError('malformed Basic credentials');
  }
  const i = decoded.indexOf(':');
  if (i < 0) throw new InvalidClientError('malformed Basic credentials');
  try {
    // RFC 6749 §2.3.1: client_id and secret are form-urlencoded before Basic encoding.
    return { id: decodeURIComponent(decoded.slice(0, i).replace(/\+/g, ' ')), secret: decodeURIComponent(decoded.slice(i + 1).replace(/\+/g, ' ')) };
  } catch {
    throw new InvalidClientError('malformed Basic credentials');
  }
}

export async function authenticateClient(c: Context, form: URLSearchParams, store: Store): Promise<ClientRecord> {
  const basic = basicCredentials(c.req.header('authorization'));
  const formId = form.get('client_id') ?? undefined;
  const formSecret = form.get('client_secret') ?? undefined;
  if (basic && formSecret !== undefined) throw new InvalidRequestError('use one client authentication method, not several');
  if (basic && formId !== undefined && formId !== basic.id) throw new InvalidRequestError('client_id does not match the Basic credentials');
  const clientId = basic?.id ?? formId;
  if (!clientId) throw new InvalidClientError('client authentication is required (client_id)');
  const client = await store.clients.find(clientId);
  // Unknown client → invalid_client, so the SDK re-registers (docs/client-requirements.md C.13).
  if (!client) throw new InvalidClientError('unknown client');
  if (client.blockedAt !== null) throw new InvalidClientError('this client is blocked');
  const secret = basic?.secret ?? formSecret;
  if (client.secretHash) {
    if (secret === undefined || !safeEqual(sha256Hex(secret), client.secretHash)) throw new InvalidClientError('client authentication failed');
  } else if (secret !== undefined && secret !== '') {
    throw new InvalidClientError('this is a public client: it has no secret');
  }
  return client;
}

/**
 * authenticateClient, after resolving a URL client_id (client ID metadata document, public client) through
 * `deps.clientIdMetadata`: the cached document, or a re-fetch when it is stale. Refusals are `invalid_client`.
 * @see https://datatracker.ietf.org/doc/html/draft-ietf-oauth-client-id-metadata-document#section-4
 */
export async function authenticateRequestClient(c: Context, form: URLSearchParams, deps: Pick<AuthorizationServerDeps, 'store' | 'clientIdMetadata'>): Promise<ClientRecord> {
  const clientId = basicCredentials(c.req.header('authorization'))?.id ?? form.get('client_id') ?? undefined;
  if (clientId && deps.clientIdMetadata && isMetadataDocumentClientId(clientId)) await deps.clientIdMetadata.resolve(clientId, 'token');
  return authenticateClient(c, form, deps.store);
}
