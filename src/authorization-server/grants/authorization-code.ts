/**
 * grant_type=authorization_code: keyhole's single-use code + PKCE → access and refresh token.
 * A replayed code revokes every token it issued (invariant 4).
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1.3
 * @see https://www.rfc-editor.org/rfc/rfc9700#section-4.2.1 (code replay)
 */
import type { GrantTypeHandler } from './grant-type.js';
import { InvalidGrantError, InvalidRequestError, InvalidTargetError } from '../../oauth/errors.js';
import { fingerprint, sha256Hex } from '../../store/crypto/hash.js';
import { assertCodeVerifier } from '../../oauth/pkce.js';
import { resolveResource } from '../../oauth/resource.js';
import { issueTokenPair } from '../issue-tokens.js';

export const authorizationCodeGrant: GrantTypeHandler = (deps, _c, form, client) => {
  const { store, events, clock } = deps;
  const code = form.get('code');
  if (!code) throw new InvalidRequestError('code is required');
  const now = clock();
  const record = store.consumeCode(sha256Hex(code), now);
  if (!record) throw new InvalidGrantError('the authorization code is invalid');
  const base = { grantId: record.grantId, clientId: record.clientId };
  if (record.usedAt !== null) {
    // https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2 — "If an authorization code is used more than once, the
    // authorization server MUST deny the request and SHOULD revoke (when possible) all tokens previously issued".
    store.revokeFamily(record.familyId, now);
    events.record({ type: 'code.replayed', ...base, outcome: 'failure', detail: { code_fp: fingerprint(code), family_id: record.familyId } });
    throw new InvalidGrantError('the authorization code was already used');
  }
  if (record.expiresAt <= now) throw new InvalidGrantError('the authorization code has expired');
  if (record.clientId !== client.clientId) throw new InvalidGrantError('the authorization code was issued to another client');
  // https://www.rfc-editor.org/rfc/rfc6749#section-4.1.3 — redirect_uri must be identical to the one used at authorize.
  if (form.get('redirect_uri') !== null && form.get('redirect_uri') !== record.redirectUri) throw new InvalidGrantError('redirect_uri does not match the authorization request');
  assertCodeVerifier(form.get('code_verifier') ?? undefined, record.codeChallenge);
  const grant = store.getGrant(record.grantId);
  const resourceParam = form.get('resource');
  if (resourceParam !== null) {
    // RFC 8707 §2.2: the resource at the token endpoint must be one the grant covers.
    const { resource } = resolveResource(deps.resources, resourceParam, grant?.server);
    if (resource !== record.resource) throw new InvalidTargetError('resource does not match the authorization request');
  }
  if (!grant || grant.status !== 'active') throw new InvalidGrantError('the grant has been revoked');
  const { response, fingerprints } = issueTokenPair(deps, { grantId: grant.id, familyId: record.familyId, clientId: client.clientId, resource: record.resource, scopes: record.scopes });
  events.record({ type: 'code.redeemed', ...base, server: grant.server, subject: grant.subject, detail: { code_fp: fingerprint(code), family_id: record.familyId } });
  events.record({ type: 'token.issued', ...base, server: grant.server, subject: grant.subject, detail: { ...fingerprints, family_id: record.familyId, scopes: record.scopes, via: 'authorization_code' } });
  return response;
};
