/** SQLite upstream-credentials repository over `upstream_credentials` (./migrations.ts). */
import type {
  RefreshLocationCounts,
  Sealed,
  UpstreamCredential,
  UpstreamCredentialRepository,
  UpstreamCredentialWrite,
} from '../types.js';
import type { Synchronous } from './async-repositories.js';
import { sealedKid } from '../rows/sealed-kid.js';
import { clampBatch, joinScopes, preparer, splitScopes, type SqliteContext } from './shared.js';

interface CredentialRow {
  grant_id: string;
  access_token: string;
  access_expires_at: number | null;
  refresh_token: string | null;
  scopes: string;
  updated_at: number;
  refresh_failing_since: number | null;
  refresh_in_keychain: number;
  version: number;
}

function credentialFromRow(r: CredentialRow): UpstreamCredential {
  return {
    grantId: r.grant_id,
    accessToken: r.access_token,
    accessExpiresAt: r.access_expires_at,
    refreshToken: r.refresh_token,
    scopes: splitScopes(r.scopes),
    updatedAt: r.updated_at,
    refreshFailingSince: r.refresh_failing_since,
    refreshInKeychain: r.refresh_in_keychain === 1,
    version: r.version,
  };
}

/** The named parameters of a write (refuses a refresh token both sealed here and in the keychain). */
function writeParams(c: UpstreamCredentialWrite): Record<string, string | number | null> {
  const inKeychain = c.refreshInKeychain === true;
  if (inKeychain && c.refreshToken !== null) {
    throw new TypeError('refreshToken must be null when the refresh token is in the keychain (refreshInKeychain)');
  }
  return {
    grantId: c.grantId,
    accessToken: c.accessToken,
    accessKid: sealedKid(c.accessToken),
    accessExpiresAt: c.accessExpiresAt,
    refreshToken: c.refreshToken,
    refreshKid: sealedKid(c.refreshToken),
    refreshInKeychain: inKeychain ? 1 : 0,
    scopes: joinScopes(c.scopes),
    updatedAt: c.updatedAt,
    refreshFailingSince: c.refreshFailingSince,
  };
}

export class SqliteUpstreamCredentials implements Synchronous<UpstreamCredentialRepository> {
  readonly #s;

  constructor(ctx: SqliteContext) {
    const p = preparer(ctx.db);
    this.#s = {
      put: p(`INSERT INTO upstream_credentials
        (grant_id, access_token, access_kid, access_expires_at, refresh_token, refresh_kid, refresh_in_keychain, scopes,
         updated_at, refresh_failing_since)
        SELECT @grantId, @accessToken, @accessKid, @accessExpiresAt, @refreshToken, @refreshKid, @refreshInKeychain, @scopes,
          @updatedAt, @refreshFailingSince
        WHERE EXISTS (SELECT 1 FROM grants WHERE id = @grantId AND status = 'active')
        ON CONFLICT (grant_id) DO UPDATE SET
          access_token = excluded.access_token, access_kid = excluded.access_kid, access_expires_at = excluded.access_expires_at,
          refresh_token = excluded.refresh_token, refresh_kid = excluded.refresh_kid,
          refresh_in_keychain = excluded.refresh_in_keychain, scopes = excluded.scopes, updated_at = excluded.updated_at,
          refresh_failing_since = excluded.refresh_failing_since, version = upstream_credentials.version + 1`),
      putIfVersion: p<CredentialRow>(`UPDATE upstream_credentials SET
          access_token = @accessToken, access_kid = @accessKid, access_expires_at = @accessExpiresAt,
          refresh_token = @refreshToken, refresh_kid = @refreshKid, refresh_in_keychain = @refreshInKeychain,
          scopes = @scopes, updated_at = @updatedAt, refresh_failing_since = @refreshFailingSince, version = version + 1
        WHERE grant_id = @grantId AND version = @expectedVersion
          AND EXISTS (SELECT 1 FROM grants WHERE id = @grantId AND status = 'active')
        RETURNING *`),
      get: p<CredentialRow>('SELECT * FROM upstream_credentials WHERE grant_id = @grantId'),
      getMany: p<CredentialRow>('SELECT * FROM upstream_credentials WHERE grant_id IN (SELECT value FROM json_each(@ids))'),
      markRefreshFailing: p('UPDATE upstream_credentials SET refresh_failing_since = @since, version = version + 1 WHERE grant_id = @grantId'),
      countRefreshLocations: p<{ sqlite: number | null; keychain: number | null; none: number | null }>(`SELECT
          sum(CASE WHEN refresh_token IS NOT NULL THEN 1 ELSE 0 END) AS sqlite,
          sum(CASE WHEN refresh_in_keychain = 1 THEN 1 ELSE 0 END) AS keychain,
          sum(CASE WHEN refresh_token IS NULL AND refresh_in_keychain = 0 THEN 1 ELSE 0 END) AS none
        FROM upstream_credentials`),
      listRefreshInStore: p<{ grant_id: string }>(`SELECT grant_id FROM upstream_credentials
        WHERE refresh_token IS NOT NULL AND grant_id > @after ORDER BY grant_id LIMIT @limit`),
      listRefreshInKeychain: p<{ grant_id: string }>(`SELECT grant_id FROM upstream_credentials
        WHERE refresh_in_keychain = 1 AND grant_id > @after ORDER BY grant_id LIMIT @limit`),
      markRefreshInKeychain: p(`UPDATE upstream_credentials SET refresh_token = NULL, refresh_kid = NULL, refresh_in_keychain = 1, version = version + 1
        WHERE grant_id = @grantId AND refresh_token = @expected`),
      markRefreshInStore: p(`UPDATE upstream_credentials SET refresh_token = @sealed, refresh_kid = @kid, refresh_in_keychain = 0, version = version + 1
        WHERE grant_id = @grantId AND refresh_in_keychain = 1`),
    };
  }

  put(c: UpstreamCredentialWrite): void {
    this.#s.put.run(writeParams(c));
  }

  putIfVersion(c: UpstreamCredentialWrite, expectedVersion: number): UpstreamCredential | undefined {
    const row = this.#s.putIfVersion.get({ ...writeParams(c), expectedVersion });
    return row && credentialFromRow(row);
  }

  find(grantId: string): UpstreamCredential | undefined {
    const row = this.#s.get.get({ grantId });
    return row && credentialFromRow(row);
  }

  findMany(grantIds: string[]): UpstreamCredential[] {
    return grantIds.length ? this.#s.getMany.all({ ids: JSON.stringify(grantIds) }).map(credentialFromRow) : [];
  }

  markRefreshFailing(grantId: string, since: number | null): void {
    this.#s.markRefreshFailing.run({ grantId, since });
  }

  countRefreshLocations(): RefreshLocationCounts {
    const r = this.#s.countRefreshLocations.get();
    return { sqlite: r?.sqlite ?? 0, keychain: r?.keychain ?? 0, none: r?.none ?? 0 };
  }

  listRefreshIdsIn(location: 'sqlite' | 'keychain', afterId: string | null, limit: number): string[] {
    const stmt = location === 'keychain' ? this.#s.listRefreshInKeychain : this.#s.listRefreshInStore;
    return stmt.all({ after: afterId ?? '', limit: clampBatch(limit) }).map((r) => r.grant_id);
  }

  markRefreshInKeychain(grantId: string, expected: Sealed): boolean {
    return this.#s.markRefreshInKeychain.run({ grantId, expected }).changes === 1;
  }

  markRefreshInStore(grantId: string, sealed: Sealed): boolean {
    return this.#s.markRefreshInStore.run({ grantId, sealed, kid: sealedKid(sealed) }).changes === 1;
  }
}
