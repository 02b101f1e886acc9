/**
 * SQLite audit log repository (../repositories/audit-log.ts): the audit rows (`audit_log`, migration 7), the
 * retention purges and the grant count. Synchronous like every SQLite repository (./async-repositories.ts makes it
 * the store's async `auditLog`); `append` and the token purge are each one transaction (a savepoint inside `tx`).
 */
import type Database from 'better-sqlite3';
import {
  decodeCursor, encodeCursor, percentile,
  type AuditFilter, type AuditLogRecord, type AuditLogRepository, type AuditPage, type GrantStatusCount, type ToolStat,
} from '../repositories/audit-log.js';
import type { Synchronous } from './async-repositories.js';
import type { SqliteContext } from './shared.js';
import { toRecord, whereOf, type AuditRow } from '../rows/audit-rows.js';

type Params = Record<string, string | number | null>;

const AUDIT_COLUMNS = ['id', 'at_ms', 'person', 'subject', 'client_id', 'server', 'grant_id', 'method', 'tool', 'outcome', 'http_status',
  'rpc_error_code', 'denial_reason', 'ttfb_ms', 'total_ms', 'request_bytes', 'response_bytes', 'request_id', 'arguments', 'redactions'] as const;

/** Rows per INSERT, largest first; the last must be 1. 64 rows × 20 columns = 1,280 parameters (SQLite allows 32,766). */
const AUDIT_CHUNKS = [64, 16, 4, 1] as const;

/** The record's values in AUDIT_COLUMNS order. */
function pushValues(out: Array<string | number | null>, r: AuditLogRecord): void {
  out.push(r.id, Date.parse(r.at), r.person, r.subject, r.clientId, r.server, r.grantId, r.method, r.tool, r.outcome, r.httpStatus,
    r.rpcErrorCode, r.denialReason, r.durationMsToFirstByte, r.durationMsTotal, r.requestBytes, r.responseBytes, r.requestId,
    r.arguments === undefined ? null : JSON.stringify(r.arguments),
    r.redactions && Object.keys(r.redactions).length > 0 ? JSON.stringify(r.redactions) : null);
}

export class SqliteAuditLog implements Synchronous<AuditLogRepository> {
  readonly #db: Database.Database;
  /** Multi-row INSERTs by row count (AUDIT_CHUNKS): one statement per chunk, not one per row. */
  readonly #inserts = new Map<number, Database.Statement>();
  readonly #statements = new Map<string, Database.Statement>();

  constructor(ctx: SqliteContext) {
    this.#db = ctx.db;
  }

  #stmt(sql: string): Database.Statement {
    let s = this.#statements.get(sql);
    if (!s) { s = this.#db.prepare(sql); this.#statements.set(sql, s); }
    return s;
  }

  #insert(rows: number): Database.Statement {
    let s = this.#inserts.get(rows);
    if (!s) {
      const one = `(${AUDIT_COLUMNS.map(() => '?').join(', ')})`;
      // OR FAIL, not the default ABORT: an ABORT statement that writes several rows inside a transaction must be
      // undoable on its own, so SQLite keeps a statement journal, a copy of every page the statement changes, which
      // spills to a temp file past 64 KiB (two pwrite(2) per page: ~1.7 syscalls and a page copy per audited request,
      // bench `--profile --syscalls`). FAIL needs none (https://www.sqlite.org/lang_conflict.html); the batch stays
      // all or nothing because `append` runs in a transaction that rolls back on the error.
      s = this.#db.prepare(`INSERT OR FAIL INTO audit_log (${AUDIT_COLUMNS.join(', ')}) VALUES ${Array.from({ length: rows }, () => one).join(', ')}`);
      this.#inserts.set(rows, s);
    }
    return s;
  }

  /**
   * One transaction; the rows go in chunks of AUDIT_CHUNKS sizes (a batch of 500: 7 × 64 + 3 × 16 + 1 × 4), each one
   * multi-row INSERT with positional parameters. Against one statement run per row, that is fewer statement steps,
   * no per-row named-parameter binding, and one `sqlite_sequence` update (AUTOINCREMENT) per chunk (bench/).
   */
  append(records: readonly AuditLogRecord[]): void {
    this.#db.transaction(() => {
      let i = 0;
      for (const size of AUDIT_CHUNKS) {
        while (records.length - i >= size) {
          const values: Array<string | number | null> = [];
          for (let j = i; j < i + size; j++) pushValues(values, records[j]!);
          this.#insert(size).run(values);
          i += size;
        }
      }
    }).immediate();
  }

  query(filter: AuditFilter, opts: { limit: number; cursor?: string | null }): AuditPage {
    const params: Params = { limit: opts.limit + 1 };
    const where = whereOf(filter, params);
    if (opts.cursor) { where.push('seq < @cursor'); params.cursor = decodeCursor(opts.cursor); }
    const sql = `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT @limit`;
    const rows = this.#stmt(sql).all(params) as AuditRow[];
    const more = rows.length > opts.limit;
    const page = more ? rows.slice(0, opts.limit) : rows;
    return { records: page.map(toRecord), nextCursor: more ? encodeCursor(page[page.length - 1]!.seq) : null };
  }

  scan(filter: AuditFilter, afterCursor: string | null, limit: number): AuditPage {
    const params: Params = { limit };
    const where = whereOf(filter, params);
    if (afterCursor) { where.push('seq > @after'); params.after = decodeCursor(afterCursor); }
    const sql = `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq ASC LIMIT @limit`;
    const rows = this.#stmt(sql).all(params) as AuditRow[];
    return { records: rows.map(toRecord), nextCursor: rows.length === limit ? encodeCursor(rows[rows.length - 1]!.seq) : null };
  }

  purgeBefore(before: number, limit: number): number {
    return this.#stmt('DELETE FROM audit_log WHERE seq IN (SELECT seq FROM audit_log WHERE at_ms < ? ORDER BY at_ms LIMIT ?)').run(before, limit).changes;
  }

  toolStats(server: string, since: number): ToolStat[] {
    const rows = this.#stmt(`SELECT tool, outcome, total_ms FROM audit_log WHERE server = ? AND at_ms >= ? AND method = 'tools/call' AND tool IS NOT NULL
      ORDER BY tool, total_ms LIMIT 200000`).all(server, since) as Array<{ tool: string; outcome: string; total_ms: number }>;
    const byTool = new Map<string, { durations: number[]; errors: number }>();
    for (const r of rows) {
      let t = byTool.get(r.tool);
      if (!t) byTool.set(r.tool, (t = { durations: [], errors: 0 }));
      t.durations.push(r.total_ms); // ascending: ORDER BY tool, total_ms
      if (r.outcome !== 'ok') t.errors++;
    }
    return [...byTool].map(([tool, t]) => ({ tool, calls: t.durations.length, errors: t.errors, p50Ms: percentile(t.durations, 50), p95Ms: percentile(t.durations, 95) }))
      .sort((a, b) => b.calls - a.calls || (a.tool < b.tool ? -1 : 1));
  }

  purgeEventsBefore(before: number, limit: number): number {
    // events.at is epoch seconds: s * 1000 < before ⟺ s < ceil(before / 1000), which can use idx_events_at.
    return this.#stmt('DELETE FROM events WHERE id IN (SELECT id FROM events WHERE at < ? ORDER BY at LIMIT ?)').run(Math.ceil(before / 1000), limit).changes;
  }

  purgeExpiredTokens(before: number, limit: number): number {
    // expires_at is epoch seconds. Up to `limit` rows in total, codes first, in one transaction.
    return this.#db.transaction(() => {
      let left = limit;
      for (const table of ['codes', 'access_tokens', 'refresh_tokens']) {
        if (left <= 0) break;
        left -= this.#stmt(`DELETE FROM ${table} WHERE rowid IN (SELECT rowid FROM ${table} WHERE expires_at < ? LIMIT ?)`).run(Math.ceil(before / 1000), left).changes;
      }
      return limit - left;
    }).immediate();
  }

  countByServerAndStatus(): GrantStatusCount[] {
    return this.#stmt('SELECT server, status, count(*) AS count FROM grants GROUP BY server, status ORDER BY server, status').all() as GrantStatusCount[];
  }
}
