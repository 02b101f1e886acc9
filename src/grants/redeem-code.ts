/**
 * Redeeming keyhole's single-use authorization code (grant_type=authorization_code): code + PKCE → token pair.
 * A replayed code revokes every token it issued (docs/invariants.md #4); a code presented with the wrong client, redirect_uri or
 * PKCE verifier is refused and stays redeemable by its client.
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1.3
 * @see https://www.rfc-editor.org/rfc/rfc9700#section-4.2.1 (code replay)
 */
import type { KeyholeConfig } from '../config/schema.js';
import type { CodeRecord, Store } from '../store/types.js';
import type { EventRecorder } from '../events/recorder.js';
import { InvalidGrantError, InvalidTargetError } from '../oauth/errors.js';
import { fingerprintOfHash, sha256Hex } from '../store/crypto/hash.js';
import { assertCodeVerifier } from '../oauth/pkce.js';
import { issueTokenPair, type TokenResponse } from './issue-tokens.js';

export interface CodeRedemptionDeps {
  store: Store;
  events: Pick<EventRecorder, 'record'>;
  config: Pick<KeyholeConfig, 'tokens'>;
  clock: () => number;
}

export interface CodeRedemption {
  code: string;
  clientId: string;
  /** As sent; null when absent. */
  redirectUri: string | null;
  codeVerifier: string | undefined;
  /**
   * The canonical resource the request names for the grant's server (RFC 8707 §2.2), or undefined when it names none;
   * may throw the request's own error (invalid_target).
   */
  resourceFor(server: string | undefined): string | undefined;
}

export async function redeemCode(deps: CodeRedemptionDeps, r: CodeRedemption): Promise<TokenResponse> {
  const { store, events, clock } = deps;
  const now = clock();
  const hash = sha256Hex(r.code);
  // Read, check who presents it, and only then mark it used (issue 9 F10): a code presented with the wrong client,
  // redirect_uri or PKCE verifier is refused without being burned, so whoever merely saw a code cannot make the
  // legitimate redemption fail, nor revoke what it issued.
  // https://www.rfc-editor.org/rfc/rfc9700#section-4.5.3.1 — PKCE binds the code to the client instance that asked for it.
  const seen = await store.tokens.findCode(hash);
  if (!seen) throw new InvalidGrantError('the authorization code is invalid');
  assertPresentedBy(seen, r);
  const record = await store.tokens.consumeCode(hash, now);
  if (!record) throw new InvalidGrantError('the authorization code is invalid');
  const base = { grantId: record.grantId, clientId: record.clientId };
  if (record.usedAt !== null) {
    // https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2 — "If an authorization code is used more than once, the
    // authorization server MUST deny the request and SHOULD revoke (when possible) all tokens previously issued".
    // Only the client holding the verifier reaches this line, so a replay revokes the family (docs/invariants.md #4).
    await store.tokens.revokeFamily(record.familyId, now);
    await events.record({ type: 'code.replayed', ...base, outcome: 'failure', detail: { code_fp: fingerprintOfHash(hash), family_id: record.familyId } });
    throw new InvalidGrantError('the authorization code was already used');
  }
  if (record.expiresAt <= now) throw new InvalidGrantError('the authorization code has expired');
  const grant = await store.grants.find(record.grantId);
  const resource = r.resourceFor(grant?.server);
  if (resource !== undefined && resource !== record.resource) throw new InvalidTargetError('resource does not match the authorization request');
  if (!grant || grant.status !== 'active') throw new InvalidGrantError('the grant has been revoked');
  // The pair and its two events in one transaction, as a rotation (issue 17: events batched into the grant's commit,
  // not one commit each): they commit together or not at all. `via: tx`, or the write would wait for this transaction.
  return await store.transaction(async (tx) => {
    const { response, fingerprints } = await issueTokenPair({ ...deps, store: tx }, { grantId: grant.id, familyId: record.familyId, clientId: r.clientId, resource: record.resource, scopes: record.scopes });
    await events.record({ type: 'code.redeemed', ...base, server: grant.server, subject: grant.subject, detail: { code_fp: fingerprintOfHash(hash), family_id: record.familyId } }, tx);
    await events.record({ type: 'token.issued', ...base, server: grant.server, subject: grant.subject, detail: { ...fingerprints, family_id: record.familyId, scopes: record.scopes, via: 'authorization_code' } }, tx);
    return response;
  });
}

/** The code's client, redirect_uri and PKCE verifier must all match; a mismatch leaves the code untouched. */
function assertPresentedBy(record: CodeRecord, r: CodeRedemption): void {
  if (record.clientId !== r.clientId) throw new InvalidGrantError('the authorization code was issued to another client');
  // https://www.rfc-editor.org/rfc/rfc6749#section-4.1.3 — redirect_uri must be identical to the one used at authorize.
  if (r.redirectUri !== null && r.redirectUri !== record.redirectUri) throw new InvalidGrantError('redirect_uri does not match the authorization request');
  // https://www.rfc-editor.org/rfc/rfc7636#section-4.6
  assertCodeVerifier(r.codeVerifier, record.codeChallenge);
}
