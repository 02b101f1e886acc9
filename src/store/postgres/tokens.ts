/**
 * PostgreSQL tokens repository over `codes`, `access_tokens` and `refresh_tokens` (./migrations.ts; documented in
 * ../repositories/tokens.ts).
 *
 * The access-token lookup (`findAccess`, every MCP request) is one primary-key query joined to the grant, not cached:
 * a cache shared by several instances would need cross-instance invalidation (LISTEN/NOTIFY), which this store does not
 * do, so every lookup sees every revocation at once, whichever instance made it.
 */
import type { AccessTokenLookup, AccessTokenRecord, CodeRecord, GrantStatus, RefreshTokenRecord, TokenHash, TokenRepository } from '../types.js';
import { accessFromRow, codeFromRow, refreshFromRow, type AccessTokenRow, type CodeRow, type RefreshTokenRow } from '../sqlite/token-rows.js';
import { statement, type Executor } from './executor.js';
import { joinScopes } from './values.js';

interface AccessLookupRow extends AccessTokenRow {
  grant_status: GrantStatus;
  grant_server: string;
  grant_subject: string;
  grant_person_id: string | null;
}

const S = {
  insertCode: statement('tokens.insert-code', `INSERT INTO codes
    (hash, grant_id, family_id, client_id, redirect_uri, code_challenge, resource, scopes, expires_at, used_at)
    VALUES (@hash, @grantId, @familyId, @clientId, @redirectUri, @codeChallenge, @resource, @scopes, @expiresAt, @usedAt)`),
  getCode: statement<CodeRow>('tokens.get-code', 'SELECT * FROM codes WHERE hash = @hash'),
  lockCode: statement<CodeRow>('tokens.lock-code', 'SELECT * FROM codes WHERE hash = @hash FOR UPDATE'),
  useCode: statement('tokens.use-code', 'UPDATE codes SET used_at = @now WHERE hash = @hash AND used_at IS NULL'),
  insertAccess: statement('tokens.insert-access', `INSERT INTO access_tokens
    (hash, grant_id, family_id, client_id, resource, scopes, expires_at, revoked_at)
    VALUES (@hash, @grantId, @familyId, @clientId, @resource, @scopes, @expiresAt, @revokedAt)`),
  lookupAccess: statement<AccessLookupRow>('tokens.lookup-access', `SELECT a.*, g.status AS grant_status, g.server AS grant_server,
      g.subject AS grant_subject, g.person_id AS grant_person_id
    FROM access_tokens a JOIN grants g ON g.id = a.grant_id WHERE a.hash = @hash`),
  revokeAccess: statement('tokens.revoke-access', 'UPDATE access_tokens SET revoked_at = @at WHERE hash = @hash AND revoked_at IS NULL'),
  insertRefresh: statement('tokens.insert-refresh', `INSERT INTO refresh_tokens
    (hash, grant_id, family_id, client_id, resource, scopes, expires_at, used_at, revoked_at)
    VALUES (@hash, @grantId, @familyId, @clientId, @resource, @scopes, @expiresAt, @usedAt, @revokedAt)`),
  getRefresh: statement<RefreshTokenRow>('tokens.get-refresh', 'SELECT * FROM refresh_tokens WHERE hash = @hash'),
  markRefreshUsed: statement('tokens.mark-refresh-used', 'UPDATE refresh_tokens SET used_at = @at WHERE hash = @hash AND used_at IS NULL'),
  revokeFamily: statement('tokens.revoke-family', `WITH
      c AS (UPDATE codes SET used_at = @at WHERE family_id = @familyId AND used_at IS NULL),
      a AS (UPDATE access_tokens SET revoked_at = @at WHERE family_id = @familyId AND revoked_at IS NULL)
    UPDATE refresh_tokens SET revoked_at = @at WHERE family_id = @familyId AND revoked_at IS NULL`),
};

export class PostgresTokens implements TokenRepository {
  constructor(private readonly ex: Executor) {}

  async createCode(c: CodeRecord): Promise<void> {
    await this.ex.run(S.insertCode, {
      hash: c.hash,
      grantId: c.grantId,
      familyId: c.familyId,
      clientId: c.clientId,
      redirectUri: c.redirectUri,
      codeChallenge: c.codeChallenge,
      resource: c.resource,
      scopes: joinScopes(c.scopes),
      expiresAt: c.expiresAt,
      usedAt: c.usedAt,
    });
  }

  async findCode(hash: TokenHash): Promise<CodeRecord | undefined> {
    const row = await this.ex.one(S.getCode, { hash });
    return row && codeFromRow(row);
  }

  /** The code row is locked (FOR UPDATE) while it is marked: of concurrent calls, exactly one sees `usedAt` null. */
  async consumeCode(hash: TokenHash, now: number): Promise<CodeRecord | undefined> {
    return this.ex.atomic(async (tx) => {
      const row = await tx.one(S.lockCode, { hash });
      if (!row) return undefined;
      if (row.used_at === null) await tx.run(S.useCode, { hash, now });
      return codeFromRow(row); // with the usedAt it had before this call
    });
  }

  async createAccess(t: AccessTokenRecord): Promise<void> {
    await this.ex.run(S.insertAccess, {
      hash: t.hash,
      grantId: t.grantId,
      familyId: t.familyId,
      clientId: t.clientId,
      resource: t.resource,
      scopes: joinScopes(t.scopes),
      expiresAt: t.expiresAt,
      revokedAt: t.revokedAt,
    });
  }

  async findAccess(hash: TokenHash): Promise<AccessTokenLookup | undefined> {
    const row = await this.ex.one(S.lookupAccess, { hash });
    if (!row) return undefined;
    return Object.freeze({ ...accessFromRow(row), grantStatus: row.grant_status, server: row.grant_server, subject: row.grant_subject, personId: row.grant_person_id });
  }

  async revokeAccess(hash: TokenHash, at: number): Promise<void> {
    await this.ex.run(S.revokeAccess, { hash, at });
  }

  async createRefresh(t: RefreshTokenRecord): Promise<void> {
    await this.ex.run(S.insertRefresh, {
      hash: t.hash,
      grantId: t.grantId,
      familyId: t.familyId,
      clientId: t.clientId,
      resource: t.resource,
      scopes: joinScopes(t.scopes),
      expiresAt: t.expiresAt,
      usedAt: t.usedAt,
      revokedAt: t.revokedAt,
    });
  }

  async findRefresh(hash: TokenHash): Promise<RefreshTokenRecord | undefined> {
    const row = await this.ex.one(S.getRefresh, { hash });
    return row && refreshFromRow(row);
  }

  /** Compare-and-set: a concurrent update waits for the row lock and then finds used_at set, so exactly one wins. */
  async markRefreshUsed(hash: TokenHash, at: number): Promise<boolean> {
    return (await this.ex.run(S.markRefreshUsed, { hash, at })) === 1;
  }

  /** One statement: unused codes of the family are marked used; access and refresh tokens get revoked_at. */
  async revokeFamily(familyId: string, at: number): Promise<void> {
    await this.ex.run(S.revokeFamily, { familyId, at });
  }
}
