/**
 * The audit log repository (issue 14 "Every call on the record"), engine-neutral: one row per MCP request, written
 * in batches by the audit queue (src/audit/audit-queue.ts), read by the admin API and export, purged by retention.
 * Every method is async so a networked engine (PostgreSQL) fits the same contract.
 *
 * Table `audit_log` (SQLite: ../sqlite/audit-log.ts, migration 7):
 * | column | holds |
 * |---|---|
 * | seq | insertion order (integer), the cursor of {@link AuditLog.query} |
 * | id | `au_` + 32 hex (unique) |
 * | at_ms | epoch ms the request arrived (`at` is its ISO form) |
 * | person, subject, client_id, server, grant_id | who and where (ids and names, never a token value) |
 * | method, tool, outcome, http_status, rpc_error_code, denial_reason | what happened |
 * | ttfb_ms, total_ms, request_bytes, response_bytes, request_id | timings, sizes, W3C trace-derived id |
 * | arguments | redacted tool arguments as JSON, only for servers with `"audit": {"arguments": "redacted"}` |
 *
 * The retention purges beside it ({@link RetentionStore}) and the grant count for `keyhole_grants` are here too:
 * the store facade's `auditLog` is one {@link AuditLogRepository} per engine, pinned by the store contract suite.
 */

/** One audit row (the same shape as src/audit/audit-record.ts `AuditRecord`; the store layer does not import it). */
export interface AuditLogRecord {
  id: string;
  at: string;
  person: string | null;
  subject: string | null;
  clientId: string | null;
  server: string;
  grantId: string | null;
  method: string | null;
  tool: string | null;
  outcome: string;
  httpStatus: number;
  rpcErrorCode: number | null;
  denialReason: string | null;
  durationMsToFirstByte: number | null;
  durationMsTotal: number;
  requestBytes: number;
  responseBytes: number;
  requestId: string;
  arguments?: unknown;
}

/** Every field optional; `since` inclusive and `until` exclusive, epoch ms. */
export interface AuditFilter {
  person?: string;
  subject?: string;
  clientId?: string;
  server?: string;
  tool?: string;
  outcome?: string;
  grantId?: string;
  since?: number;
  until?: number;
}

export interface AuditPage {
  records: AuditLogRecord[];
  /** Pass back as `cursor` for the next (older) page; null on the last page. */
  nextCursor: string | null;
}

export interface AuditLog {
  /** Appends the records in one transaction (all or none). */
  append(records: readonly AuditLogRecord[]): Promise<void>;
  /** Newest first, at most `limit` records older than `cursor` (opaque, from a previous page). */
  query(filter: AuditFilter, opts: { limit: number; cursor?: string | null }): Promise<AuditPage>;
  /** Oldest first, for exports: at most `limit` records after `afterCursor` (null: from the start). */
  scan(filter: AuditFilter, afterCursor: string | null, limit: number): Promise<AuditPage>;
  /** Deletes at most `limit` records with `at` < `before` (epoch ms); returns how many. */
  purgeBefore(before: number, limit: number): Promise<number>;
  /**
   * Per tool of a server, its `tools/call` records since `since` (epoch ms): calls, errors (every outcome but
   * `ok`), and the 50th and 95th percentile of the total duration in ms (nearest rank). Busiest first.
   */
  toolStats(server: string, since: number): Promise<ToolStat[]>;
}

export interface ToolStat {
  tool: string;
  calls: number;
  errors: number;
  p50Ms: number;
  p95Ms: number;
}

/** Nearest-rank percentile of ascending `sorted` (non-empty). */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** The other deletions of the retention job. `before` is epoch ms (exclusive). */
export interface RetentionStore {
  /** Lifecycle events older than `before`. */
  purgeEventsBefore(before: number, limit: number): Promise<number>;
  /** keyhole codes, access and refresh tokens that expired before `before`. */
  purgeExpiredTokens(before: number, limit: number): Promise<number>;
}

export interface GrantStatusCount {
  server: string;
  status: string;
  count: number;
}

export interface GrantCounts {
  countByServerAndStatus(): Promise<GrantStatusCount[]>;
}

/** The store facade's `store.auditLog`: the audit rows, the retention purges, the grant count. */
export interface AuditLogRepository extends AuditLog, RetentionStore, GrantCounts {}

/** Thrown for a cursor this engine did not issue (the API answers 400). */
export class InvalidCursorError extends Error {
  override name = 'InvalidCursorError';
}

/** Cursors are `c` + the decimal sequence number: opaque to callers, checked strictly here. */
export function encodeCursor(seq: number): string {
  return `c${seq}`;
}

export function decodeCursor(cursor: string): number {
  const m = /^c([1-9][0-9]{0,15})$/.exec(cursor);
  if (!m) throw new InvalidCursorError('the cursor is not one keyhole issued');
  return Number(m[1]);
}
