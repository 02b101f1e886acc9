/**
 * PostgreSQL grants repository over `grants` (./migrations.ts; documented in ../repositories/grants.ts).
 *
 * Revoking runs in one transaction, statement by statement: the grant row is updated first (taking its row lock),
 * then its tokens, codes and upstream credential. A concurrent `upstreamCredentials.put` locks the grant row FOR SHARE
 * (./upstream-credentials.ts), so either it waits for the revocation to commit and then stores nothing, or the
 * revocation waits for it and then deletes what it stored: a late refresh cannot bring a credential back.
 */
import type { ClientGrantStats, GrantFilter, GrantRecord, GrantRepository } from '../types.js';
import { dynamicStatement, statement, type Executor, type Params } from './executor.js';
import { equalsWhere, joinScopes, pageOf, whereOf } from './values.js';
import { GRANT_FIND_ACTIVE_WHERE, GRANT_INSERT_SQL, grantFromRow, grantPersonParams, type GrantRow } from '../rows/grant-rows.js';
import { POSTGRES_CLIENT_NAME, grantSearchClause, searchParams } from '../rows/person-rows.js';


function grantWhere(filter: GrantFilter): { where: string; params: Params } {
  const { clauses, params } = equalsWhere({ client_id: filter.clientId, server: filter.server, subject: filter.subject, person_id: filter.personId, status: filter.status });
  const search = searchParams(filter.q);
  if (search) {
    clauses.push(grantSearchClause('grants', POSTGRES_CLIENT_NAME));
    Object.assign(params, search);
  }
  return { where: whereOf(clauses), params };
}

const S = {
  insert: statement('grants.insert', GRANT_INSERT_SQL),
  get: statement<GrantRow>('grants.get', 'SELECT * FROM grants WHERE id = @id'),
  findActive: statement<GrantRow>('grants.find-active', `SELECT * FROM grants WHERE ${GRANT_FIND_ACTIVE_WHERE}
    ORDER BY created_at DESC, seq DESC LIMIT 1`),
  byPerson: statement<GrantRow>('grants.by-person', 'SELECT * FROM grants WHERE person_id = @personId ORDER BY created_at DESC, seq DESC'),
  byPeople: statement<GrantRow>('grants.by-people', 'SELECT * FROM grants WHERE person_id = ANY(@ids::text[]) ORDER BY created_at DESC, seq DESC'),
  updateScopes: statement('grants.update-scopes', 'UPDATE grants SET scopes = @scopes WHERE id = @id'),
  touch: statement('grants.touch', 'UPDATE grants SET last_used_at = @at WHERE id = @id AND (last_used_at IS NULL OR last_used_at < @at)'),
  revokeRow: statement('grants.revoke', `UPDATE grants SET status = 'revoked', status_reason = @reason, revoked_at = @at
    WHERE id = @id AND status = 'active'`),
  revokeAccess: statement('grants.revoke-access', 'UPDATE access_tokens SET revoked_at = @at WHERE grant_id = @id AND revoked_at IS NULL'),
  revokeRefresh: statement('grants.revoke-refresh', 'UPDATE refresh_tokens SET revoked_at = @at WHERE grant_id = @id AND revoked_at IS NULL'),
  useCodes: statement('grants.use-codes', 'UPDATE codes SET used_at = @at WHERE grant_id = @id AND used_at IS NULL'),
  deleteCredential: statement('grants.delete-credential', 'DELETE FROM upstream_credentials WHERE grant_id = @id'),
  stats: statement<{ client_id: string; n: number; active: number; last_used: number | null }>('grants.stats', `SELECT client_id,
    count(*) AS n, count(*) FILTER (WHERE status = 'active') AS active, max(last_used_at) AS last_used
    FROM grants GROUP BY client_id ORDER BY client_id`),
};

export class PostgresGrants implements GrantRepository {
  constructor(private readonly ex: Executor) {}

  async create(g: GrantRecord): Promise<void> {
    await this.ex.run(S.insert, {
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

  async find(id: string): Promise<GrantRecord | undefined> {
    const row = await this.ex.one(S.get, { id });
    return row && grantFromRow(row);
  }

  async findActive(clientId: string, server: string, subject: string, personId: string | null = null): Promise<GrantRecord | undefined> {
    const row = await this.ex.one(S.findActive, { clientId, server, subject, personId });
    return row && grantFromRow(row);
  }

  async listByPerson(personId: string): Promise<GrantRecord[]> {
    return (await this.ex.rows(S.byPerson, { personId })).map(grantFromRow);
  }

  async listByPeople(personIds: string[]): Promise<GrantRecord[]> {
    return personIds.length ? (await this.ex.rows(S.byPeople, { ids: personIds })).map(grantFromRow) : [];
  }

  async updateScopes(id: string, scopes: string[]): Promise<void> {
    await this.ex.run(S.updateScopes, { id, scopes: joinScopes(scopes) });
  }

  async touch(id: string, at: number): Promise<void> {
    await this.ex.run(S.touch, { id, at });
  }

  async revoke(id: string, reason: string, at: number): Promise<boolean> {
    return this.ex.atomic(async (tx) => {
      if ((await tx.run(S.revokeRow, { id, reason, at })) === 0) return false; // unknown or already revoked
      await tx.run(S.revokeAccess, { id, at });
      await tx.run(S.revokeRefresh, { id, at });
      await tx.run(S.useCodes, { id, at });
      await tx.run(S.deleteCredential, { id });
      return true;
    });
  }

  /** Newest first (created_at, then insertion order). */
  async list(filter: GrantFilter): Promise<GrantRecord[]> {
    const { where, params } = grantWhere(filter);
    const sql = `SELECT * FROM grants ${where} ORDER BY created_at DESC, seq DESC LIMIT @limit OFFSET @offset`;
    return (await this.ex.rows(dynamicStatement<GrantRow>('grants.list', sql), { ...params, ...pageOf(filter) })).map(grantFromRow);
  }

  async count(filter: GrantFilter): Promise<number> {
    const { where, params } = grantWhere(filter);
    return (await this.ex.one(dynamicStatement<{ n: number }>('grants.count', `SELECT count(*) AS n FROM grants ${where}`), params))?.n ?? 0;
  }

  async statsByClient(): Promise<ClientGrantStats[]> {
    return (await this.ex.rows(S.stats)).map((r) => ({ clientId: r.client_id, grantCount: r.n, activeGrantCount: r.active, lastUsedAt: r.last_used }));
  }
}
