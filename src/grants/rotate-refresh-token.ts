/**
 * Rotating keyhole's refresh token (OAuth 2.1 §4.3.1): the rules of grant_type=refresh_token.
 * - A fresh refresh token is exchanged once for a new pair; the old one is marked used.
 * - Real clients race (two tabs, two processes): a token used within `refreshGraceSeconds` still works and yields
 *   another pair in the same family.
 * - Beyond the grace window a used token is a replay: the whole family is revoked (docs/invariants.md #5).
 * - `scope` may only narrow (RFC 6749 §6): a wider scope is `invalid_scope`. Narrowing applies to the new access token
 *   only; the new refresh token keeps the scope of the one presented.
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-6
 * @see https://www.rfc-editor.org/rfc/rfc9700#section-4.14.2
 */
import type { KeyholeConfig } from '../config/schema.js';
import type { Store } from '../store/types.js';
import type { EventRecorder } from '../events/recorder.js';
import { InvalidGrantError, InvalidScopeError, InvalidTargetError, TemporarilyUnavailableError } from '../oauth/errors.js';
import type { PersonCheck } from './person-check.js';
import { fingerprintOfHash, sha256Hex } from '../store/crypto/hash.js';
import { isSubset } from '../oauth/scope.js';
import { issueTokenPair, type TokenResponse } from './issue-tokens.js';

export interface RefreshTokenRotationDeps {
  store: Store;
  /** Records inside the rotation's transaction (`via`): the event commits with the new pair, or not at all. */
  events: Pick<EventRecorder, 'record'>;
  config: Pick<KeyholeConfig, 'tokens'>;
  clock: () => number;
  /** Re-checks the grant's person at the organization's IdP (issue 13 §3); absent: no check. */
  personCheck?: PersonCheck;
}

export interface RefreshRequest {
  token: string;
  clientId: string;
  /** Scopes asked for (keyhole's own, client extras already dropped); empty: the refresh token's scopes. */
  requested: string[];
  /**
   * The canonical resource the request names for the grant's server (RFC 8707 §2.2), or undefined when it names none;
   * may throw the request's own error (invalid_target).
   */
  resourceFor(server: string): string | undefined;
}

export async function rotateRefreshToken(deps: RefreshTokenRotationDeps, r: RefreshRequest): Promise<TokenResponse> {
  const { store, events, clock, config } = deps;
  const now = clock();
  const hash = sha256Hex(r.token);
  const record = await store.tokens.findRefresh(hash);
  if (!record) throw new InvalidGrantError('the refresh token is invalid');
  if (record.clientId !== r.clientId) throw new InvalidGrantError('the refresh token was issued to another client');
  if (record.revokedAt !== null) throw new InvalidGrantError('the refresh token has been revoked');
  if (record.expiresAt <= now) throw new InvalidGrantError('the refresh token has expired');
  const grant = await store.grants.find(record.grantId);
  if (!grant || grant.status !== 'active') throw new InvalidGrantError('the grant has been revoked');
  const base = { grantId: grant.id, clientId: r.clientId, server: grant.server, subject: grant.subject };
  if (grant.person && deps.personCheck) {
    // Issue 13 §3: at most every identity.revalidateSeconds the person is re-checked at the IdP, before the refresh
    // token is used. A refusal has offboarded the person (this grant is revoked with every other of theirs).
    const outcome = await deps.personCheck.beforeRefresh(grant.person.id);
    // https://www.rfc-editor.org/rfc/rfc6749#section-5.2 — invalid_grant: the grant "is invalid, expired, revoked".
    if (outcome === 'refused') throw new InvalidGrantError('the organization\'s identity provider no longer allows this person');
    if (outcome === 'unavailable') throw new TemporarilyUnavailableError('the organization\'s identity provider could not confirm this person; retry later');
  }

  if (r.requested.length && !isSubset(r.requested, record.scopes)) {
    throw new InvalidScopeError('a refresh cannot widen the scope: authorize again to add scopes');
  }
  const scopes = r.requested.length ? r.requested : record.scopes;
  // Without `resource` (some clients omit it) the new tokens keep the refresh token's own resource.
  const resource = r.resourceFor(grant.server);
  if (resource !== undefined && resource !== record.resource) throw new InvalidTargetError('resource does not match the refresh token');

  // One transaction per rotation (issue 17): mark used, the new pair, the event (and the client's last use). Four
  // commits before, each rewriting the pages it touched; a replay's revocation stays outside (it throws).
  const outcome = await store.transaction(async (tx): Promise<{ response: TokenResponse } | { replayUsedAt: number }> => {
    let grace = false;
    if (!await tx.tokens.markRefreshUsed(hash, now)) {
      const usedAt = (await tx.tokens.findRefresh(hash))?.usedAt ?? now;
      if (now - usedAt > config.tokens.refreshGraceSeconds) return { replayUsedAt: usedAt };
      grace = true;
    }
    // https://www.rfc-editor.org/rfc/rfc6749#section-6 — "If a new refresh token is issued, the refresh token scope MUST be
    // identical to that of the refresh token included by the client in the request": only the access token narrows.
    const { response, fingerprints } = await issueTokenPair({ ...deps, store: tx }, { grantId: grant.id, familyId: record.familyId, clientId: r.clientId, resource: record.resource, scopes, refreshScopes: record.scopes });
    await events.record({ type: 'token.refreshed', ...base, detail: { ...fingerprints, previous_fp: fingerprintOfHash(hash), family_id: record.familyId, grace } }, tx);
    return { response };
  });
  if ('replayUsedAt' in outcome) {
    const usedAt = outcome.replayUsedAt;
    await store.tokens.revokeFamily(record.familyId, now);
    await events.record({ type: 'refresh.replay_detected', ...base, outcome: 'failure', detail: { refresh_fp: fingerprintOfHash(hash), family_id: record.familyId, used_seconds_ago: now - usedAt } });
    throw new InvalidGrantError('the refresh token was already used');
  }
  return outcome.response;
}
