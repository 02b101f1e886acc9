/**
 * SQLite queries over `clients` added with migration 4 (see ./migrations.ts): the admin list (filtered and paginated
 * in SQL, grant statistics computed for the page's rows only), client use, and the DCR expiry and rate-limit scans.
 * SqliteStore delegates to this.
 */
import type Database from 'better-sqlite3';
import type { ClientExpiryReason, ClientFilter, ClientKind, ClientListEntry } from '../types.js';

type Params = Record<string, string | number | null>;

export interface ClientListRow {
  client_id: string;
  kind: ClientKind;
  metadata: string;
  secret_hash: string | null;
  created_at: number;
  blocked_at: number | null;
  last_used_at: number | null;
  grant_count: number;
  active_count: number;
  grant_last_used: number | null;
}

/** The WHERE clause of a client filter; every value is a bound parameter. */
export function clientWhere(filter: ClientFilter): { where: string; params: Params } {
  const clauses: string[] = [];
  const params: Params = {};
  if (filter.kind != null) {
    clauses.push('kind = @kind');
    params.kind = filter.kind;
  }
  if (filter.unusedSince != null) {
    // The expression of idx_clients_kind_last_use.
    clauses.push('coalesce(last_used_at, created_at) < @unusedSince');
    params.unusedSince = filter.unusedSince;
  }
  if (filter.neverUsed != null) clauses.push(filter.neverUsed ? 'last_used_at IS NULL' : 'last_used_at IS NOT NULL');
  return { where: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
}

/**
 * The page query: the page of client rows is chosen first (ORDER BY … LIMIT … OFFSET in the inner query), then the
 * grant statistics are computed for those rows only, through the grants (client_id, …) index.
 */
export function clientPageSql(where: string): string {
  return `SELECT c.client_id, c.kind, c.metadata, c.secret_hash, c.created_at, c.blocked_at, c.last_used_at,
      (SELECT count(*) FROM grants g WHERE g.client_id = c.client_id) AS grant_count,
      (SELECT count(*) FROM grants g WHERE g.client_id = c.client_id AND g.status = 'active') AS active_count,
      (SELECT max(g.last_used_at) FROM grants g WHERE g.client_id = c.client_id) AS grant_last_used
    FROM (SELECT rowid AS rid, * FROM clients ${where} ORDER BY created_at DESC, rowid DESC LIMIT @limit OFFSET @offset) c
    ORDER BY c.created_at DESC, c.rid DESC`;
}

export function clientEntryFromRow(r: ClientListRow, metadata: Record<string, unknown>): ClientListEntry {
  return {
    clientId: r.client_id,
    kind: r.kind,
    metadata,
    secretHash: r.secret_hash,
    createdAt: r.created_at,
    blockedAt: r.blocked_at,
    lastUsedAt: r.last_used_at,
    grantCount: r.grant_count,
    activeGrantCount: r.active_count,
    grantLastUsedAt: r.grant_last_used,
  };
}

export class ClientTables {
  readonly #s;

  constructor(db: Database.Database) {
    const p = <Row = unknown>(sql: string) => db.prepare<[Params?], Row>(sql);
    this.#s = {
      touch: p('UPDATE clients SET last_used_at = @at WHERE client_id = @clientId AND (last_used_at IS NULL OR last_used_at < @at)'),
      registrationsSince: p<{ n: number; oldest: number | null }>(
        "SELECT count(*) AS n, min(created_at) AS oldest FROM clients WHERE kind = 'dcr' AND created_at >= @since",
      ),
      neverUsed: p<{ client_id: string }>(
        "SELECT client_id FROM clients WHERE kind = 'dcr' AND last_used_at IS NULL AND created_at < @before ORDER BY created_at, client_id LIMIT @limit",
      ),
      unused: p<{ client_id: string }>(
        `SELECT client_id FROM clients WHERE kind = 'dcr' AND last_used_at IS NOT NULL
          AND coalesce(last_used_at, created_at) < @before ORDER BY coalesce(last_used_at, created_at), client_id LIMIT @limit`,
      ),
    };
  }

  touch(clientId: string, at: number): void {
    this.#s.touch.run({ clientId, at });
  }

  registrationsSince(since: number): { count: number; oldest: number | null } {
    const row = this.#s.registrationsSince.get({ since });
    return { count: row?.n ?? 0, oldest: row?.oldest ?? null };
  }

  expired(neverUsedCreatedBefore: number, usedBefore: number, limit: number): Array<{ clientId: string; reason: ClientExpiryReason }> {
    const n = Number.isFinite(limit) ? Math.min(1000, Math.max(1, Math.floor(limit))) : 100;
    const never = this.#s.neverUsed.all({ before: neverUsedCreatedBefore, limit: n }).map((r) => ({ clientId: r.client_id, reason: 'never_authorized' as const }));
    if (never.length >= n) return never;
    const unused = this.#s.unused.all({ before: usedBefore, limit: n - never.length }).map((r) => ({ clientId: r.client_id, reason: 'unused' as const }));
    return [...never, ...unused];
  }
}
