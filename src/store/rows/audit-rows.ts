/**
 * The audit log's row shape, filter and row mapping, shared by the SQLite and PostgreSQL repositories
 * (../sqlite/audit-log.ts, ../postgres/audit-log.ts): the same columns and the same `@name` placeholders in both.
 * JSON columns arrive as text from SQLite and already parsed from PostgreSQL (`json`); both are accepted.
 */
import type { AuditFilter, AuditLogRecord } from '../repositories/audit-log.js';

type Params = Record<string, unknown>;

const fromJson = (v: unknown): unknown => (typeof v === 'string' ? JSON.parse(v) : v);

export interface AuditRow {
  seq: number; id: string; at_ms: number; person: string | null; subject: string | null; client_id: string | null; server: string;
  grant_id: string | null; method: string | null; tool: string | null; outcome: string; http_status: number; rpc_error_code: number | null;
  denial_reason: string | null; ttfb_ms: number | null; total_ms: number; request_bytes: number; response_bytes: number; request_id: string;
  arguments: unknown; redactions: unknown;
}

/** Filter field → column; every value is bound, never spliced into the SQL. */
const EQUALS: ReadonlyArray<[keyof AuditFilter, string]> = [
  ['person', 'person'], ['subject', 'subject'], ['clientId', 'client_id'], ['server', 'server'], ['tool', 'tool'], ['outcome', 'outcome'], ['grantId', 'grant_id'],
];

export function whereOf(filter: AuditFilter, params: Params): string[] {
  const where: string[] = [];
  for (const [field, column] of EQUALS) {
    const v = filter[field];
    if (v !== undefined) { where.push(`${column} = @${field}`); params[field] = v; }
  }
  if (filter.since !== undefined) { where.push('at_ms >= @since'); params.since = filter.since; }
  if (filter.until !== undefined) { where.push('at_ms < @until'); params.until = filter.until; }
  return where;
}

export function toRecord(r: AuditRow): AuditLogRecord {
  const rec: AuditLogRecord = {
    id: r.id, at: new Date(r.at_ms).toISOString(), person: r.person, subject: r.subject, clientId: r.client_id, server: r.server,
    grantId: r.grant_id, method: r.method, tool: r.tool, outcome: r.outcome, httpStatus: r.http_status, rpcErrorCode: r.rpc_error_code,
    denialReason: r.denial_reason, durationMsToFirstByte: r.ttfb_ms, durationMsTotal: r.total_ms, requestBytes: r.request_bytes,
    responseBytes: r.response_bytes, requestId: r.request_id,
  };
  if (r.arguments !== null) rec.arguments = fromJson(r.arguments);
  if (r.redactions !== null) rec.redactions = fromJson(r.redactions) as Record<string, number>;
  return rec;
}
