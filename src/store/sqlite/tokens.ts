/**
 * SQLite tokens repository over `codes`, `access_tokens` and `refresh_tokens` (./migrations.ts). The access-token
 * lookup goes through the cache (./cached-token-lookup.ts); every revoking write goes through its `revoking`.
 */
import type { AccessTokenLookup, AccessTokenRecord, CodeRecord, RefreshTokenRecord, TokenHash, TokenRepository } from '../types.js';
import type { Synchronous } from './async-repositories.js';
import type { CachedTokenLookup } from './cached-token-lookup.js';
import { joinScopes, preparer, type SqliteContext } from './shared.js';
import { codeFromRow, refreshFromRow, type CodeRow, type RefreshTokenRow } from './token-rows.js';

export class SqliteTokens implements Synchronous<TokenRepository> {
  readonly #s;

  constructor(private readonly ctx: SqliteContext, private readonly lookup: CachedTokenLookup) {
    const p = preparer(ctx.db);
    this.#s = {
      insertCode: p(`INSERT INTO codes
        (hash, grant_id, family_id, client_id, redirect_uri, code_challenge, resource, scopes, expires_at, used_at)
        VALUES (@hash, @grantId, @familyId, @clientId, @redirectUri, @codeChallenge, @resource, @scopes, @expiresAt, @usedAt)`),
      getCode: p<CodeRow>('SELECT * FROM codes WHERE hash = @hash'),
      useCode: p('UPDATE codes SET used_at = @now WHERE hash = @hash AND used_at IS NULL'),
      insertAccess: p(`INSERT INTO access_tokens
        (hash, grant_id, family_id, client_id, resource, scopes, expires_at, revoked_at)
        VALUES (@hash, @grantId, @familyId, @clientId, @resource, @scopes, @expiresAt, @revokedAt)`),
      revokeAccess: p('UPDATE access_tokens SET revoked_at = @at WHERE hash = @hash AND revoked_at IS NULL'),
      insertRefresh: p(`INSERT INTO refresh_tokens
        (hash, grant_id, family_id, client_id, resource, scopes, expires_at, used_at, revoked_at)
        VALUES (@hash, @grantId, @familyId, @clientId, @resource, @scopes, @expiresAt, @usedAt, @revokedAt)`),
      getRefresh: p<RefreshTokenRow>('SELECT * FROM refresh_tokens WHERE hash = @hash'),
      markRefreshUsed: p('UPDATE refresh_tokens SET used_at = @at WHERE hash = @hash AND used_at IS NULL'),
      revokeFamilyCodes: p('UPDATE codes SET used_at = @at WHERE family_id = @familyId AND used_at IS NULL'),
      revokeFamilyAccess: p('UPDATE access_tokens SET revoked_at = @at WHERE family_id = @familyId AND revoked_at IS NULL'),
      revokeFamilyRefresh: p('UPDATE refresh_tokens SET revoked_at = @at WHERE family_id = @familyId AND revoked_at IS NULL'),
    };
  }

  createCode(c: CodeRecord): void {
    this.#s.insertCode.run({
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

  findCode(hash: TokenHash): CodeRecord | undefined {
    const row = this.#s.getCode.get({ hash });
    return row && codeFromRow(row);
  }

  consumeCode(hash: TokenHash, now: number): CodeRecord | undefined {
    return this.ctx.db.transaction(() => {
      const row = this.#s.getCode.get({ hash });
      if (!row) return undefined;
      if (row.used_at === null) this.#s.useCode.run({ hash, now });
      return codeFromRow(row); // with the usedAt it had before this call
    })();
  }

  createAccess(t: AccessTokenRecord): void {
    this.#s.insertAccess.run({
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

  findAccess(hash: TokenHash): AccessTokenLookup | undefined {
    return this.lookup.find(hash);
  }

  revokeAccess(hash: TokenHash, at: number): void {
    this.lookup.revoking(() => this.#s.revokeAccess.run({ hash, at }));
  }

  createRefresh(t: RefreshTokenRecord): void {
    this.#s.insertRefresh.run({
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

  findRefresh(hash: TokenHash): RefreshTokenRecord | undefined {
    const row = this.#s.getRefresh.get({ hash });
    return row && refreshFromRow(row);
  }

  /** Compare-and-set: true only for the one call that moved used_at from NULL. */
  markRefreshUsed(hash: TokenHash, at: number): boolean {
    return this.#s.markRefreshUsed.run({ hash, at }).changes === 1;
  }

  /** Unused codes of the family are marked used; access and refresh tokens get revoked_at. */
  revokeFamily(familyId: string, at: number): void {
    this.lookup.revoking(() =>
      this.ctx.db.transaction(() => {
        this.#s.revokeFamilyCodes.run({ familyId, at });
        this.#s.revokeFamilyAccess.run({ familyId, at });
        this.#s.revokeFamilyRefresh.run({ familyId, at });
      })(),
    );
  }
}
