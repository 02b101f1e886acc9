/**
 * PostgreSQL clients repository and DCR registration counter over `clients` (./migrations.ts; documented in
 * ../repositories/clients.ts). Ties in "newest first" are broken by `seq` (insertion order, SQLite's rowid).
 */
import type {
  ClientExpiryReason,
  ClientFilter,
  ClientListEntry,
  ClientRecord,
  ClientRepository,
  DcrRegistrationCounter,
} from '../types.js';
import { dynamicStatement, statement, type Executor } from './executor.js';
import { pageOf } from './values.js';
import { CLIENT_INSERT, clientFromRow, clientParams, clientWhere, entryFromRow, type ClientListRow, type ClientRow } from '../rows/client-rows.js';

/** The page of client rows first (inner query), then grant statistics for those rows only. */
function clientPageSql(where: string): string {
  return `SELECT c.client_id, c.kind, c.metadata, c.secret_hash, c.created_at, c.blocked_at, c.last_used_at,
      (SELECT count(*) FROM grants g WHERE g.client_id = c.client_id) AS grant_count,
      (SELECT count(*) FROM grants g WHERE g.client_id = c.client_id AND g.status = 'active') AS active_count,
      (SELECT max(g.last_used_at) FROM grants g WHERE g.client_id = c.client_id) AS grant_last_used
    FROM (SELECT * FROM clients ${where} ORDER BY created_at DESC, seq DESC LIMIT @limit OFFSET @offset) c
    ORDER BY c.created_at DESC, c.seq DESC`;
}

const INSERT = CLIENT_INSERT;

const S = {
  insert: statement('clients.insert', INSERT),
  upsert: statement('clients.upsert', `${INSERT}
    ON CONFLICT (client_id) DO UPDATE SET kind = excluded.kind, metadata = excluded.metadata, secret_hash = excluded.secret_hash`),
  get: statement<ClientRow>('clients.get', 'SELECT * FROM clients WHERE client_id = @clientId'),
  getMany: statement<ClientRow>('clients.get-many', 'SELECT * FROM clients WHERE client_id = ANY(@ids::text[])'),
  list: statement<ClientRow>('clients.list', 'SELECT * FROM clients ORDER BY created_at DESC, seq DESC'),
  block: statement('clients.block', 'UPDATE clients SET blocked_at = @at WHERE client_id = @clientId AND blocked_at IS NULL'),
  delete: statement('clients.delete', `WITH pending AS (DELETE FROM pending_authorizations WHERE client_id = @clientId)
    DELETE FROM clients WHERE client_id = @clientId`),
  touch: statement('clients.touch', `UPDATE clients SET last_used_at = @at
    WHERE client_id = @clientId AND (last_used_at IS NULL OR last_used_at < @at)`),
  neverUsed: statement<{ client_id: string }>('clients.never-used', `SELECT client_id FROM clients
    WHERE kind = 'dcr' AND last_used_at IS NULL AND created_at < @before ORDER BY created_at, client_id LIMIT @limit`),
  unused: statement<{ client_id: string }>('clients.unused', `SELECT client_id FROM clients WHERE kind = 'dcr' AND last_used_at IS NOT NULL
    AND coalesce(last_used_at, created_at) < @before ORDER BY coalesce(last_used_at, created_at), client_id LIMIT @limit`),
  dcrSince: statement<{ n: number; oldest: number | null }>('clients.dcr-since', `SELECT count(*) AS n, min(created_at) AS oldest
    FROM clients WHERE kind = 'dcr' AND created_at >= @since`),
};

export class PostgresClients implements ClientRepository {
  constructor(private readonly ex: Executor) {}

  async create(client: ClientRecord): Promise<void> {
    await this.ex.run(S.insert, clientParams(client));
  }

  async upsert(client: ClientRecord): Promise<void> {
    await this.ex.run(S.upsert, clientParams(client));
  }

  async find(clientId: string): Promise<ClientRecord | undefined> {
    const row = await this.ex.one(S.get, { clientId });
    return row && clientFromRow(row);
  }

  async findMany(clientIds: string[]): Promise<ClientRecord[]> {
    return clientIds.length ? (await this.ex.rows(S.getMany, { ids: clientIds })).map(clientFromRow) : [];
  }

  async list(): Promise<ClientRecord[]> {
    return (await this.ex.rows(S.list)).map(clientFromRow);
  }

  async count(filter: ClientFilter = {}): Promise<number> {
    const { where, params } = clientWhere(filter);
    return (await this.ex.one(dynamicStatement<{ n: number }>('clients.count', `SELECT count(*) AS n FROM clients ${where}`), params))?.n ?? 0;
  }

  async listPage(filter: ClientFilter): Promise<ClientListEntry[]> {
    const { where, params } = clientWhere(filter);
    const rows = await this.ex.rows(dynamicStatement<ClientListRow>('clients.page', clientPageSql(where)), { ...params, ...pageOf(filter) });
    return rows.map(entryFromRow);
  }

  async block(clientId: string, at: number): Promise<void> {
    await this.ex.run(S.block, { clientId, at });
  }

  /** Deletes the client and its pending authorizations (one statement). Its grants stay as history. */
  async delete(clientId: string): Promise<void> {
    await this.ex.run(S.delete, { clientId });
  }

  async touch(clientId: string, at: number): Promise<void> {
    await this.ex.run(S.touch, { clientId, at });
  }

  async listExpiredDcr(neverUsedCreatedBefore: number, usedBefore: number, limit: number): Promise<Array<{ clientId: string; reason: ClientExpiryReason }>> {
    const n = Number.isFinite(limit) ? Math.min(1000, Math.max(1, Math.floor(limit))) : 100;
    const never = (await this.ex.rows(S.neverUsed, { before: neverUsedCreatedBefore, limit: n }))
      .map((r) => ({ clientId: r.client_id, reason: 'never_authorized' as const }));
    if (never.length >= n) return never;
    const unused = (await this.ex.rows(S.unused, { before: usedBefore, limit: n - never.length }))
      .map((r) => ({ clientId: r.client_id, reason: 'unused' as const }));
    return [...never, ...unused];
  }
}

export class PostgresDcrRegistrations implements DcrRegistrationCounter {
  constructor(private readonly ex: Executor) {}

  async countSince(since: number): Promise<{ count: number; oldest: number | null }> {
    const row = await this.ex.one(S.dcrSince, { since });
    return { count: row?.n ?? 0, oldest: row?.oldest ?? null };
  }
}
