/**
 * SQLite clients repository and DCR registration counter over `clients` (migrations 1 and 4, ./migrations.ts):
 * CRUD, the admin list (filtered and paginated in SQL, grant statistics computed for the page's rows only), client
 * use, and the DCR expiry and rate-limit scans.
 */
import type {
  ClientExpiryReason,
  ClientFilter,
  ClientListEntry,
  ClientRecord,
  ClientRepository,
  DcrRegistrationCounter,
} from '../types.js';
import type { Synchronous } from './async-repositories.js';
import { pageOf, preparer, type SqliteContext } from './shared.js';
import { CLIENT_INSERT, clientFromRow, clientParams, clientWhere, entryFromRow, type ClientListRow, type ClientRow } from '../rows/client-rows.js';

/**
 * The page query: the page of client rows is chosen first (ORDER BY … LIMIT … OFFSET in the inner query), then the
 * grant statistics are computed for those rows only, through the grants (client_id, …) index.
 */
function clientPageSql(where: string): string {
  return `SELECT c.client_id, c.kind, c.metadata, c.secret_hash, c.created_at, c.blocked_at, c.last_used_at,
      (SELECT count(*) FROM grants g WHERE g.client_id = c.client_id) AS grant_count,
      (SELECT count(*) FROM grants g WHERE g.client_id = c.client_id AND g.status = 'active') AS active_count,
      (SELECT max(g.last_used_at) FROM grants g WHERE g.client_id = c.client_id) AS grant_last_used
    FROM (SELECT rowid AS rid, * FROM clients ${where} ORDER BY created_at DESC, rowid DESC LIMIT @limit OFFSET @offset) c
    ORDER BY c.created_at DESC, c.rid DESC`;
}

const INSERT = CLIENT_INSERT;

export class SqliteClients implements Synchronous<ClientRepository> {
  readonly #s;

  constructor(private readonly ctx: SqliteContext) {
    const p = preparer(ctx.db);
    this.#s = {
      insert: p(INSERT),
      upsert: p(`${INSERT}
        ON CONFLICT (client_id) DO UPDATE SET kind = excluded.kind, metadata = excluded.metadata, secret_hash = excluded.secret_hash`),
      get: p<ClientRow>('SELECT * FROM clients WHERE client_id = @clientId'),
      getMany: p<ClientRow>('SELECT * FROM clients WHERE client_id IN (SELECT value FROM json_each(@ids))'),
      list: p<ClientRow>('SELECT * FROM clients ORDER BY created_at DESC, rowid DESC'),
      count: p<{ n: number }>('SELECT count(*) AS n FROM clients'),
      block: p('UPDATE clients SET blocked_at = @at WHERE client_id = @clientId AND blocked_at IS NULL'),
      delete: p('DELETE FROM clients WHERE client_id = @clientId'),
      deletePending: p('DELETE FROM pending_authorizations WHERE client_id = @clientId'),
      touch: p('UPDATE clients SET last_used_at = @at WHERE client_id = @clientId AND (last_used_at IS NULL OR last_used_at < @at)'),
      neverUsed: p<{ client_id: string }>(
        "SELECT client_id FROM clients WHERE kind = 'dcr' AND last_used_at IS NULL AND created_at < @before ORDER BY created_at, client_id LIMIT @limit",
      ),
      unused: p<{ client_id: string }>(
        `SELECT client_id FROM clients WHERE kind = 'dcr' AND last_used_at IS NOT NULL
          AND coalesce(last_used_at, created_at) < @before ORDER BY coalesce(last_used_at, created_at), client_id LIMIT @limit`,
      ),
    };
  }

  create(client: ClientRecord): void {
    this.#s.insert.run(clientParams(client));
  }

  upsert(client: ClientRecord): void {
    this.#s.upsert.run(clientParams(client));
  }

  find(clientId: string): ClientRecord | undefined {
    const row = this.#s.get.get({ clientId });
    return row && clientFromRow(row);
  }

  findMany(clientIds: string[]): ClientRecord[] {
    return clientIds.length ? this.#s.getMany.all({ ids: JSON.stringify(clientIds) }).map(clientFromRow) : [];
  }

  list(): ClientRecord[] {
    return this.#s.list.all().map(clientFromRow);
  }

  count(filter: ClientFilter = {}): number {
    const { where, params } = clientWhere(filter);
    if (!where) return this.#s.count.get()?.n ?? 0;
    return (this.ctx.pages.get(`SELECT count(*) AS n FROM clients ${where}`).get(params) as { n: number }).n;
  }

  /** Newest first (created_at, then insertion order); the page is cut in SQL, grant stats for its rows only. */
  listPage(filter: ClientFilter): ClientListEntry[] {
    const { where, params } = clientWhere(filter);
    const { limit, offset } = pageOf(filter);
    const rows = this.ctx.pages.get(clientPageSql(where)).all({ ...params, limit, offset }) as ClientListRow[];
    return rows.map(entryFromRow);
  }

  block(clientId: string, at: number): void {
    this.#s.block.run({ clientId, at });
  }

  /** Deletes the client and its pending authorizations. Its grants stay as history. */
  delete(clientId: string): void {
    this.ctx.db.transaction(() => {
      this.#s.deletePending.run({ clientId });
      this.#s.delete.run({ clientId });
    })();
  }

  touch(clientId: string, at: number): void {
    this.#s.touch.run({ clientId, at });
  }

  listExpiredDcr(neverUsedCreatedBefore: number, usedBefore: number, limit: number): Array<{ clientId: string; reason: ClientExpiryReason }> {
    const n = Number.isFinite(limit) ? Math.min(1000, Math.max(1, Math.floor(limit))) : 100;
    const never = this.#s.neverUsed.all({ before: neverUsedCreatedBefore, limit: n }).map((r) => ({ clientId: r.client_id, reason: 'never_authorized' as const }));
    if (never.length >= n) return never;
    const unused = this.#s.unused.all({ before: usedBefore, limit: n - never.length }).map((r) => ({ clientId: r.client_id, reason: 'unused' as const }));
    return [...never, ...unused];
  }
}

export class SqliteDcrRegistrations implements Synchronous<DcrRegistrationCounter> {
  readonly #since;

  constructor(ctx: SqliteContext) {
    this.#since = preparer(ctx.db)<{ n: number; oldest: number | null }>(
      "SELECT count(*) AS n, min(created_at) AS oldest FROM clients WHERE kind = 'dcr' AND created_at >= @since",
    );
  }

  countSince(since: number): { count: number; oldest: number | null } {
    const row = this.#since.get({ since });
    return { count: row?.n ?? 0, oldest: row?.oldest ?? null };
  }
}
