/**
 * Mints keyhole's own access and refresh tokens. Values are random (256 bits) and prefixed for secret
 * scanners; only their SHA-256 is stored (docs/invariants.md #1).
 */
import type { KeyholeConfig } from '../config/schema.js';
import type { Store } from '../store/types.js';
import { fingerprintOfHash, randomToken, sha256Hex } from '../store/crypto/hash.js';
import { formatScope } from '../oauth/scope.js';

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token: string;
  scope: string;
}

export async function issueTokenPair(
  deps: { store: Store; config: Pick<KeyholeConfig, 'tokens'>; clock: () => number },
  p: {
    grantId: string; familyId: string; clientId: string; resource: string;
    /** Scopes of the access token (and of the response's `scope`). */
    scopes: string[];
    /** Scopes of the refresh token when they differ: a refresh that narrows the access token keeps the refresh token's scope. */
    refreshScopes?: string[];
  },
): Promise<{ response: TokenResponse; fingerprints: { access_fp: string; refresh_fp: string } }> {
  const { store, config, clock } = deps;
  const now = clock();
  const access = randomToken('kh_at_');
  const refresh = randomToken('kh_rt_');
  const accessHash = sha256Hex(access);
  const refreshHash = sha256Hex(refresh);
  const { accessTokenTtlSeconds, refreshTokenTtlSeconds } = config.tokens;
  await store.transaction(async (tx) => {
    await tx.tokens.createAccess({ hash: accessHash, grantId: p.grantId, familyId: p.familyId, clientId: p.clientId, resource: p.resource, scopes: p.scopes, expiresAt: now + accessTokenTtlSeconds, revokedAt: null });
    await tx.tokens.createRefresh({ hash: refreshHash, grantId: p.grantId, familyId: p.familyId, clientId: p.clientId, resource: p.resource, scopes: p.refreshScopes ?? p.scopes, expiresAt: now + refreshTokenTtlSeconds, usedAt: null, revokedAt: null });
  });
  return {
    response: { access_token: access, token_type: 'Bearer', expires_in: accessTokenTtlSeconds, refresh_token: refresh, scope: formatScope(p.scopes) },
    fingerprints: { access_fp: fingerprintOfHash(accessHash), refresh_fp: fingerprintOfHash(refreshHash) },
  };
}
