/**
 * Seeds keyhole's store with real grants, through the Store interface (one transaction, prepared statements):
 * a public DCR client; per grant i: the grant row, keyhole's access token (stored as its SHA-256 only), and — when a
 * cipher is given — the upstream credential sealed with the VaultCipher (access token `up_<run>_<i>` valid for
 * 10 years, so the token endpoint of the upstream is never called on the hot path, plus a sealed upstream refresh
 * token); plus unused keyhole refresh tokens for the /token measurement.
 *
 * Token values are derived, not stored: `accessToken(i)` and `refreshToken(j)` recompute them from the run id, so
 * the load generator can present any of a million tokens without keeping them in memory.
 */
import { hash } from 'node:crypto';
import type { Store } from '../src/store/types.js';
import type { VaultCipher } from '../src/store/crypto/vault-cipher.js';
import { sha256Hex } from '../src/store/crypto/hash.js';
import { sealContext } from '../src/upstream/seal-context.js';

const TEN_YEARS = 10 * 365 * 86_400;

/** base64url SHA-256 of (run, kind, i): random-looking, reproducible ids and token values. */
function derive(runId: string, kind: string, i: number): string {
  return hash('sha256', `${runId}:${kind}:${i}`, 'base64url');
}

export class BenchIds {
  constructor(readonly runId: string, readonly server = 'bench') {}
  get clientId(): string {
    return `c_bench${this.runId}`;
  }
  grantId(i: number): string {
    return `g_${derive(this.runId, 'g', i).slice(0, 22)}`;
  }
  familyId(i: number): string {
    return `f_${derive(this.runId, 'f', i).slice(0, 22)}`;
  }
  /** keyhole's access token for grant i (the shape of randomToken('kh_at_')). */
  accessToken(i: number): string {
    return `kh_at_${derive(this.runId, 'at', i)}`;
  }
  /** keyhole's j-th unused refresh token; it belongs to grant `j % refreshGrants`. */
  refreshToken(j: number): string {
    return `kh_rt_${derive(this.runId, 'rt', j)}`;
  }
  /** The upstream access token stored (sealed) for grant i; the fast upstream accepts `${upstreamPrefix}${i}`. */
  get upstreamPrefix(): string {
    return `up_${this.runId}_`;
  }
  upstreamToken(i: number): string {
    return `${this.upstreamPrefix}${i}`;
  }
}

export interface SeedSpec {
  ids: BenchIds;
  /** Canonical resource of the server (`${publicUrl}/mcp/${server}`). */
  resource: string;
  grants: number;
  /** Seal and store an upstream credential per grant (needed to forward; not needed to measure lookups). */
  cipher?: VaultCipher;
  /** Unused refresh tokens to mint, spread over the first `refreshGrants` grants (one family per grant). */
  refreshTokens?: number;
  refreshGrants?: number;
  now?: number;
  onProgress?: (msg: string) => void;
}

export interface SeedResult {
  sealMs: number;
  insertMs: number;
}

export async function seedStore(store: Store, spec: SeedSpec): Promise<SeedResult> {
  const { ids, resource, grants } = spec;
  const now = spec.now ?? Math.floor(Date.now() / 1000);
  const scopes = ['mcp'];

  // Seal first (async), then write everything in one synchronous transaction.
  const t0 = performance.now();
  let sealedAccess: string[] = [];
  let sealedRefresh: string[] = [];
  if (spec.cipher) {
    const cipher = spec.cipher;
    sealedAccess = new Array<string>(grants);
    sealedRefresh = new Array<string>(grants);
    const batch = 512;
    for (let start = 0; start < grants; start += batch) {
      const end = Math.min(grants, start + batch);
      const jobs: Promise<void>[] = [];
      for (let i = start; i < end; i++) {
        const g = ids.grantId(i);
        jobs.push(cipher.seal(ids.upstreamToken(i), sealContext.access(g)).then((s) => void (sealedAccess[i] = s)));
        jobs.push(cipher.seal(`uprt_${ids.runId}_${i}`, sealContext.refresh(g)).then((s) => void (sealedRefresh[i] = s)));
      }
      await Promise.all(jobs);
      if (spec.onProgress && (end % 20_000 < batch || end === grants)) spec.onProgress(`sealed ${end}/${grants}`);
    }
  }
  const t1 = performance.now();

  const refreshTokens = spec.refreshTokens ?? 0;
  const refreshGrants = Math.max(1, Math.min(grants, spec.refreshGrants ?? 1));
  await store.transaction(async (tx) => {
    if (!await tx.clients.find(ids.clientId)) {
      await tx.clients.create({
        clientId: ids.clientId,
        kind: 'dcr',
        metadata: {
          client_name: 'keyhole bench',
          redirect_uris: ['http://127.0.0.1:9/callback'],
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          token_endpoint_auth_method: 'none',
        },
        secretHash: null,
        createdAt: now,
        blockedAt: null,
      });
    }
    for (let i = 0; i < grants; i++) {
      const grantId = ids.grantId(i);
      await tx.grants.create({
        id: grantId, clientId: ids.clientId, server: ids.server, subject: `user-${i}`, subjectName: null, scopes,
        status: 'active', statusReason: null, createdAt: now, lastUsedAt: null, revokedAt: null, person: null,
      });
      await tx.tokens.createAccess({
        hash: sha256Hex(ids.accessToken(i)), grantId, familyId: ids.familyId(i), clientId: ids.clientId, resource, scopes,
        expiresAt: now + TEN_YEARS, revokedAt: null,
      });
      if (spec.cipher) {
        await tx.upstreamCredentials.put({
          grantId, accessToken: sealedAccess[i]!, accessExpiresAt: now + TEN_YEARS, refreshToken: sealedRefresh[i]!,
          scopes: ['read'], updatedAt: now, refreshFailingSince: null,
        });
      }
    }
    for (let j = 0; j < refreshTokens; j++) {
      const g = j % refreshGrants;
      await tx.tokens.createRefresh({
        hash: sha256Hex(ids.refreshToken(j)), grantId: ids.grantId(g), familyId: ids.familyId(g), clientId: ids.clientId,
        resource, scopes, expiresAt: now + 30 * 86_400, usedAt: null, revokedAt: null,
      });
    }
  });
  const t2 = performance.now();
  return { sealMs: t1 - t0, insertMs: t2 - t1 };
}
