/**
 * PostgreSQL upstream-credentials repository over `upstream_credentials` (./migrations.ts;
 * ../repositories/upstream-credentials.ts). `put` stores nothing unless the grant is active, and locks the grant row
 * FOR SHARE while it writes, so that it cannot interleave with a revocation (see ./grants.ts).
 */
import type { RefreshLocationCounts, Sealed, UpstreamCredential, UpstreamCredentialRepository, UpstreamCredentialWrite } from '../types.js';
import { sealedKid } from '../rows/sealed-kid.js';
import { statement, type Executor } from './executor.js';
import { clampBatch, joinScopes, splitScopes } from './values.js';

interface CredentialRow {
  grant_id: string;
  access_token: string;
  access_expires_at: number | null;
  refresh_token: string | null;
  scopes: string;
  updated_at: number;
  refresh_failing_since: number | null;
  refresh_in_keychain: boolean;
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
    refreshInKeychain: r.refresh_in_keychain,
    version: r.version,
  };
}

const S = {
  put: statement('credentials.put', `INSERT INTO upstream_credentials
    (grant_id, access_token, access_kid, access_expires_at, refresh_token, refresh_kid, refresh_in_keychain, scopes,
     updated_at, refresh_failing_since)
    SELECT @grantId::text, @accessToken::text, @accessKid::text, @accessExpiresAt::bigint, @refreshToken::text, @refreshKid::text,
      @refreshInKeychain::boolean, @scopes::text, @updatedAt::bigint, @refreshFailingSince::bigint
    WHERE EXISTS (SELECT 1 FROM grants WHERE id = @grantId AND status = 'active' FOR SHARE)
    ON CONFLICT (grant_id) DO UPDATE SET
      access_token = excluded.access_token, access_kid = excluded.access_kid, access_expires_at = excluded.access_expires_at,
      refresh_token = excluded.refresh_token, refresh_kid = excluded.refresh_kid,
      refresh_in_keychain = excluded.refresh_in_keychain, scopes = excluded.scopes, updated_at = excluded.updated_at,
      refresh_failing_since = excluded.refresh_failing_since, version = upstream_credentials.version + 1`),
  putIfVersion: statement<CredentialRow>('credentials.put-if-version', `UPDATE upstream_credentials SET
      access_token = @accessToken::text, access_kid = @accessKid::text, access_expires_at = @accessExpiresAt::bigint,
      refresh_token = @refreshToken::text, refresh_kid = @refreshKid::text, refresh_in_keychain = @refreshInKeychain::boolean,
      scopes = @scopes::text, updated_at = @updatedAt::bigint, refresh_failing_since = @refreshFailingSince::bigint,
      version = version + 1
    WHERE grant_id = @grantId AND version = @expectedVersion::bigint
      AND EXISTS (SELECT 1 FROM grants WHERE id = @grantId AND status = 'active' FOR SHARE)
    RETURNING *`),
  get: statement<CredentialRow>('credentials.get', 'SELECT * FROM upstream_credentials WHERE grant_id = @grantId'),
  getMany: statement<CredentialRow>('credentials.get-many', 'SELECT * FROM upstream_credentials WHERE grant_id = ANY(@ids::text[])'),
  markRefreshFailing: statement('credentials.mark-refresh-failing', 'UPDATE upstream_credentials SET refresh_failing_since = @since, version = version + 1 WHERE grant_id = @grantId'),
  countRefreshLocations: statement<RefreshLocationCounts>('credentials.count-refresh-locations', `SELECT
      count(*) FILTER (WHERE refresh_token IS NOT NULL) AS sqlite,
      count(*) FILTER (WHERE refresh_in_keychain) AS keychain,
      count(*) FILTER (WHERE refresh_token IS NULL AND NOT refresh_in_keychain) AS none
    FROM upstream_credentials`),
  listRefreshInStore: statement<{ grant_id: string }>('credentials.list-refresh-in-store', `SELECT grant_id FROM upstream_credentials
    WHERE refresh_token IS NOT NULL AND grant_id > @after ORDER BY grant_id LIMIT @limit`),
  listRefreshInKeychain: statement<{ grant_id: string }>('credentials.list-refresh-in-keychain', `SELECT grant_id FROM upstream_credentials
    WHERE refresh_in_keychain AND grant_id > @after ORDER BY grant_id LIMIT @limit`),
  markRefreshInKeychain: statement('credentials.mark-refresh-in-keychain', `UPDATE upstream_credentials
    SET refresh_token = NULL, refresh_kid = NULL, refresh_in_keychain = true, version = version + 1
    WHERE grant_id = @grantId AND refresh_token = @expected`),
  markRefreshInStore: statement('credentials.mark-refresh-in-store', `UPDATE upstream_credentials
    SET refresh_token = @sealed, refresh_kid = @kid, refresh_in_keychain = false, version = version + 1
    WHERE grant_id = @grantId AND refresh_in_keychain`),
};

/** The named parameters of a write (refuses a refresh token both sealed here and in the keychain). */
function writeParams(c: UpstreamCredentialWrite): Record<string, unknown> {
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
    refreshInKeychain: inKeychain,
    scopes: joinScopes(c.scopes),
    updatedAt: c.updatedAt,
    refreshFailingSince: c.refreshFailingSince,
  };
}

export class PostgresUpstreamCredentials implements UpstreamCredentialRepository {
  /**
   * @param writes where the compare-and-swap of a refresh result runs (default `ex`): outside a transaction, a small
   *   pool of its own, so that the write of a rotated upstream refresh token never waits for a connection behind
   *   other work (docs/invariants.md #8).
   */
  constructor(private readonly ex: Executor, private readonly writes: Executor = ex) {}

  async put(c: UpstreamCredentialWrite): Promise<void> {
    await this.ex.run(S.put, writeParams(c));
  }

  async putIfVersion(c: UpstreamCredentialWrite, expectedVersion: number): Promise<UpstreamCredential | undefined> {
    const row = await this.writes.one(S.putIfVersion, { ...writeParams(c), expectedVersion });
    return row && credentialFromRow(row);
  }

  async find(grantId: string): Promise<UpstreamCredential | undefined> {
    const row = await this.ex.one(S.get, { grantId });
    return row && credentialFromRow(row);
  }

  async findMany(grantIds: string[]): Promise<UpstreamCredential[]> {
    return grantIds.length ? (await this.ex.rows(S.getMany, { ids: grantIds })).map(credentialFromRow) : [];
  }

  async markRefreshFailing(grantId: string, since: number | null): Promise<void> {
    await this.ex.run(S.markRefreshFailing, { grantId, since });
  }

  async countRefreshLocations(): Promise<RefreshLocationCounts> {
    const r = await this.ex.one(S.countRefreshLocations);
    return { sqlite: r?.sqlite ?? 0, keychain: r?.keychain ?? 0, none: r?.none ?? 0 };
  }

  async listRefreshIdsIn(location: 'sqlite' | 'keychain', afterId: string | null, limit: number): Promise<string[]> {
    const s = location === 'keychain' ? S.listRefreshInKeychain : S.listRefreshInStore;
    return (await this.ex.rows(s, { after: afterId ?? '', limit: clampBatch(limit) })).map((r) => r.grant_id);
  }

  async markRefreshInKeychain(grantId: string, expected: Sealed): Promise<boolean> {
    return (await this.ex.run(S.markRefreshInKeychain, { grantId, expected })) === 1;
  }

  async markRefreshInStore(grantId: string, sealed: Sealed): Promise<boolean> {
    return (await this.ex.run(S.markRefreshInStore, { grantId, sealed, kid: sealedKid(sealed) })) === 1;
  }
}
