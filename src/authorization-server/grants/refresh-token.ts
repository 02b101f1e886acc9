/**
 * grant_type=refresh_token with rotation (OAuth 2.1 §4.3.1 for public clients).
 * - A fresh refresh token is exchanged once for a new pair; the old one is marked used.
 * - Real clients race (two tabs, two processes): a token used within `refreshGraceSeconds` still works and
 *   yields another pair in the same family.
 * - Beyond the grace window a used token is a replay: the whole family is revoked (invariant 5).
 * - `resource` is optional: without it the tokens stay bound to the grant's resource (RFC 8707 §2.2).
 * - Scopes keyhole does not know (`openid`, `offline_access`, …) are ignored, as at /authorize (RFC 6749 §3.3).
 * - `scope` may only narrow (RFC 6749 §6): a wider scope is `invalid_scope`, never a silent widening. Narrowing applies
 *   to the new access token only; the new refresh token keeps the scope of the one presented.
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-6
 * @see https://www.rfc-editor.org/rfc/rfc9700#section-4.14.2
 */
import type { GrantTypeHandler } from './grant-type.js';
import { InvalidGrantError, InvalidRequestError, InvalidScopeError, InvalidTargetError } from '../../oauth/errors.js';
import { fingerprint, sha256Hex } from '../../store/crypto/hash.js';
import { isSubset, parseScope } from '../../oauth/scope.js';
import { resolveResource } from '../../oauth/resource.js';
import { issueTokenPair } from '../issue-tokens.js';
import { withoutClientExtras } from '../../config/scopes.js';

export const refreshTokenGrant: GrantTypeHandler = async (deps, _c, form, client) => {
  const { store, events, clock, config } = deps;
  const token = form.get('refresh_token');
  if (!token) throw new InvalidRequestError('refresh_token is required');
  const now = clock();
  const hash = sha256Hex(token);
  const record = await store.tokens.findRefresh(hash);
  if (!record) throw new InvalidGrantError('the refresh token is invalid');
  if (record.clientId !== client.clientId) throw new InvalidGrantError('the refresh token was issued to another client');
  if (record.revokedAt !== null) throw new InvalidGrantError('the refresh token has been revoked');
  if (record.expiresAt <= now) throw new InvalidGrantError('the refresh token has expired');
  const grant = await store.grants.find(record.grantId);
  if (!grant || grant.status !== 'active') throw new InvalidGrantError('the grant has been revoked');
  const base = { grantId: grant.id, clientId: client.clientId, server: grant.server, subject: grant.subject };

  // Clients resend what they first asked for (`openid offline_access …`); the extras were ignored at /authorize
  // (scopes.ts) and are ignored here too, instead of failing the refresh with invalid_scope.
  const requested = withoutClientExtras(config, parseScope(form.get('scope')));
  if (requested.length && !isSubset(requested, record.scopes)) {
    throw new InvalidScopeError('a refresh cannot widen the scope: authorize again to add scopes');
  }
  const scopes = requested.length ? requested : record.scopes;
  // RFC 8707 §2.2: `resource` on a refresh is optional. Without it (some clients omit it) the new tokens keep the
  // refresh token's own resource, i.e. the grant's server; with it, it must name that same resource.
  const resourceParam = form.get('resource');
  if (resourceParam !== null && resolveResource(deps.resources, resourceParam, grant.server).resource !== record.resource) {
    throw new InvalidTargetError('resource does not match the refresh token');
  }

  let grace = false;
  if (!await store.tokens.markRefreshUsed(hash, now)) {
    const usedAt = (await store.tokens.findRefresh(hash))?.usedAt ?? now;
    if (now - usedAt > config.tokens.refreshGraceSeconds) {
      await store.tokens.revokeFamily(record.familyId, now);
      await events.record({ type: 'refresh.replay_detected', ...base, outcome: 'failure', detail: { refresh_fp: fingerprint(token), family_id: record.familyId, used_seconds_ago: now - usedAt } });
      throw new InvalidGrantError('the refresh token was already used');
    }
    grace = true;
  }
  // https://www.rfc-editor.org/rfc/rfc6749#section-6 — "If a new refresh token is issued, the refresh token scope MUST be
  // identical to that of the refresh token included by the client in the request": only the access token narrows.
  const { response, fingerprints } = await issueTokenPair(deps, { grantId: grant.id, familyId: record.familyId, clientId: client.clientId, resource: record.resource, scopes, refreshScopes: record.scopes });
  await events.record({ type: 'token.refreshed', ...base, detail: { ...fingerprints, previous_fp: fingerprint(token), family_id: record.familyId, grace } });
  return response;
};
