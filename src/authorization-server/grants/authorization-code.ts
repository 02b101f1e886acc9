/**
 * grant_type=authorization_code: keyhole's single-use code + PKCE → access and refresh token.
 * A replayed code revokes every token it issued (invariant 4); a code presented with the wrong client, redirect_uri or
 * PKCE verifier is refused and stays redeemable by its client.
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1.3
 * @see https://www.rfc-editor.org/rfc/rfc9700#section-4.2.1 (code replay)
 */
import type { GrantTypeHandler } from './grant-type.js';
import { InvalidGrantError, InvalidRequestError, InvalidTargetError } from '../../oauth/errors.js';
import { fingerprint, sha256Hex } from '../../store/crypto/hash.js';
import { assertCodeVerifier } from '../../oauth/pkce.js';
import { resolveResource } from '../../oauth/resource.js';
import { issueTokenPair } from '../issue-tokens.js';
import type { CodeRecord } from '../../store/types.js';

export const authorizationCodeGrant: GrantTypeHandler = async (deps, _c, form, client) => {
  const { store, events, clock } = deps;
  const code = form.get('code');
  if (!code) throw new InvalidRequestError('code is required');
  const now = clock();
  const hash = sha256Hex(code);
  // Read, check who presents it, and only then mark it used (issue 9 F10): a code presented with the wrong client,
  // redirect_uri or PKCE verifier is refused without being burned, so whoever merely saw a code cannot make the
  // legitimate redemption fail, nor revoke what it issued.
  // https://www.rfc-editor.org/rfc/rfc9700#section-4.5.3.1 — PKCE binds the code to the client instance that asked for it.
  const seen = await store.tokens.findCode(hash);
  if (!seen) throw new InvalidGrantError('the authorization code is invalid');
  assertPresentedBy(seen, client.clientId, form);
  const record = await store.tokens.consumeCode(hash, now);
  if (!record) throw new InvalidGrantError('the authorization code is invalid');
  const base = { grantId: record.grantId, clientId: record.clientId };
  if (record.usedAt !== null) {
    // https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2 — "If an authorization code is used more than once, the
    // authorization server MUST deny the request and SHOULD revoke (when possible) all tokens previously issued".
    // Only the client holding the verifier reaches this line, so a replay revokes the family (invariant 4).
    await store.tokens.revokeFamily(record.familyId, now);
    await events.record({ type: 'code.replayed', ...base, outcome: 'failure', detail: { code_fp: fingerprint(code), family_id: record.familyId } });
    throw new InvalidGrantError('the authorization code was already used');
  }
  if (record.expiresAt <= now) throw new InvalidGrantError('the authorization code has expired');
  const grant = await store.grants.find(record.grantId);
  const resourceParam = form.get('resource');
  if (resourceParam !== null) {
    // RFC 8707 §2.2: the resource at the token endpoint must be one the grant covers.
    const { resource } = resolveResource(deps.resources, resourceParam, grant?.server);
    if (resource !== record.resource) throw new InvalidTargetError('resource does not match the authorization request');
  }
  if (!grant || grant.status !== 'active') throw new InvalidGrantError('the grant has been revoked');
  const { response, fingerprints } = await issueTokenPair(deps, { grantId: grant.id, familyId: record.familyId, clientId: client.clientId, resource: record.resource, scopes: record.scopes });
  await events.record({ type: 'code.redeemed', ...base, server: grant.server, subject: grant.subject, detail: { code_fp: fingerprint(code), family_id: record.familyId } });
  await events.record({ type: 'token.issued', ...base, server: grant.server, subject: grant.subject, detail: { ...fingerprints, family_id: record.familyId, scopes: record.scopes, via: 'authorization_code' } });
  return response;
};

/** The code's client, redirect_uri and PKCE verifier must all match; a mismatch leaves the code untouched. */
function assertPresentedBy(record: CodeRecord, clientId: string, form: URLSearchParams): void {
  if (record.clientId !== clientId) throw new InvalidGrantError('the authorization code was issued to another client');
  // https://www.rfc-editor.org/rfc/rfc6749#section-4.1.3 — redirect_uri must be identical to the one used at authorize.
  if (form.get('redirect_uri') !== null && form.get('redirect_uri') !== record.redirectUri) throw new InvalidGrantError('redirect_uri does not match the authorization request');
  // https://www.rfc-editor.org/rfc/rfc7636#section-4.6
  assertCodeVerifier(form.get('code_verifier') ?? undefined, record.codeChallenge);
}
