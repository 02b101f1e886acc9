/**
 * SQLite grants repository over `grants` (./migrations.ts). Revoking a grant also revokes its codes and tokens and
 * deletes its upstream credential, in one transaction, through the lookup cache's `revoking`.
 */
import type { ClientGrantStats, GrantFilter, GrantRecord, GrantRepository } from '../types.js';
import type { Synchronous } from './async-repositories.js';
import type { CachedTokenLookup } from './cached-token-lookup.js';
import { equalsWhere, joinScopes, pageOf, preparer, whereOf, type Params, type SqliteContext } from './shared.js';
import { GRANT_FIND_ACTIVE_WHERE, GRANT_INSERT_SQL, grantFromRow, grantPersonParams, type GrantRow } from '../rows/grant-rows.js';
import { SQLITE_CLIENT_NAME, grantSearchClause, searchParams } from '../rows/person-rows.js';


function grantWhere(filter: GrantFilter): { where: string; params: Params } {
  const { clauses, params } = equalsWhere({ client_id: filter.clientId, server: filter.server, subject: filter.subject, person_id: filter.personId, status: filter.status });
  const search = searchParams(filter.q);
  if (search) {
    clauses.push(grantSearchClause('grants', SQLITE_CLIENT_NAME));
    Object.assign(params, search);
  }
  return { where: whereOf(clauses), params };
}

export class SqliteGrants implements Synchronous<GrantRepository> {
  readonly #s;

  constructor(private readonly ctx: SqliteContext, private readonly lookup: CachedTokenLookup) {
    const p = preparer(ctx.db);
    this.#s = {
      insert: p(GRANT_INSERT_SQL),
      get: p<GrantRow>('SELECT * FROM grants WHERE id = @id'),
      findActive: p<GrantRow>(`SELECT * FROM grants WHERE ${GRANT_FIND_ACTIVE_WHERE} ORDER BY created_at DESC, rowid DESC LIMIT 1`),
      byPerson: p<GrantRow>('SELECT * FROM grants WHERE person_id = @personId ORDER BY created_at DESC, rowid DESC'),
      byPeople: p<GrantRow>('SELECT * FROM grants WHERE person_id IN (SELECT value FROM json_each(@ids)) ORDER BY created_at DESC, rowid DESC'),
      updateScopes: p('UPDATE grants SET scopes = @scopes WHERE id = @id'),
      touch: p('UPDATE grants SET last_used_at = @at WHERE id = @id AND (last_used_at IS NULL OR last_used_at < @at)'),
      revokeRow: p(`UPDATE grants SET status = 'revoked', status_reason = @reason, revoked_at = @at
        WHERE id = @id AND status = 'active'`),
      revokeAccess: p('UPDATE access_tokens SET revoked_at = @at WHERE grant_id = @id AND revoked_at IS NULL'),
      revokeRefresh: p('UPDATE refresh_tokens SET revoked_at = @at WHERE grant_id = @id AND revoked_at IS NULL'),
      useCodes: p('UPDATE codes SET used_at = @at WHERE grant_id = @id AND used_at IS NULL'),
      deleteCredential: p('DELETE FROM upstream_credentials WHERE grant_id = @id'),
    };
  }

  create(g: GrantRecord): void {
    this.#s.insert.run({
      id: g.id,
      clientId: g.clientId,
      server: g.server,
      subject: g.subject,
      subjectName: g.subjectName,
      scopes: joinScopes(g.scopes),
      status: g.status,
      statusReason: g.statusReason,
      createdAt: g.createdAt,
      lastUsedAt: g.lastUsedAt,
      revokedAt: g.revokedAt,
      ...grantPersonParams(g),
    });
  }

  find(id: string): GrantRecord | undefined {
    const row = this.#s.get.get({ id });
    return row && grantFromRow(row);
  }

  findActive(clientId: string, server: string, subject: string, personId: string | null = null): GrantRecord | undefined {
    const row = this.#s.findActive.get({ clientId, server, subject, personId });
    return row && grantFromRow(row);
  }

  listByPerson(personId: string): GrantRecord[] {
    return this.#s.byPerson.all({ personId }).map(grantFromRow);
  }

  listByPeople(personIds: string[]): GrantRecord[] {
    return personIds.length ? this.#s.byPeople.all({ ids: JSON.stringify(personIds) }).map(grantFromRow) : [];
  }

  updateScopes(id: string, scopes: string[]): void {
    this.#s.updateScopes.run({ id, scopes: joinScopes(scopes) });
  }

  touch(id: string, at: number): void {
    this.#s.touch.run({ id, at });
  }

  revoke(id: string, reason: string, at: number): boolean {
    return this.lookup.revoking(() =>
      this.ctx.db.transaction(() => {
        if (this.#s.revokeRow.run({ id, reason, at }).changes === 0) return false; // unknown or already revoked
        this.#s.revokeAccess.run({ id, at });
        this.#s.revokeRefresh.run({ id, at });
        this.#s.useCodes.run({ id, at });
        this.#s.deleteCredential.run({ id });
        return true;
      })(),
    );
  }

  /** Newest first (created_at, then insertion order). */
  list(filter: GrantFilter): GrantRecord[] {
    const { where, params } = grantWhere(filter);
    const { limit, offset } = pageOf(filter);
    const sql = `SELECT * FROM grants ${where} ORDER BY created_at DESC, rowid DESC LIMIT @limit OFFSET @offset`;
    return (this.ctx.pages.get(sql).all({ ...params, limit, offset }) as GrantRow[]).map(grantFromRow);
  }

  count(filter: GrantFilter): number {
    const { where, params } = grantWhere(filter);
    return (this.ctx.pages.get(`SELECT count(*) AS n FROM grants ${where}`).get(params) as { n: number }).n;
  }

  /** One row per client id found in `grants` (grants of deleted clients included), by client id. */
  statsByClient(): ClientGrantStats[] {
    const sql = `SELECT client_id, count(*) AS n, sum(CASE WHEN status = 'active' THEN 1 ELSE 0 END) AS active,
      max(last_used_at) AS last_used FROM grants GROUP BY client_id ORDER BY client_id`;
    const rows = this.ctx.pages.get(sql).all({}) as Array<{ client_id: string; n: number; active: number; last_used: number | null }>;
    return rows.map((r) => ({ clientId: r.client_id, grantCount: r.n, activeGrantCount: r.active, lastUsedAt: r.last_used }));
  }
}
