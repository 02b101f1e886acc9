/**
 * The admin audit API (issue 14), behind the admin bearer of api-routes.ts:
 *
 *   GET /admin/api/audit          ?person&subject&client_id&server&tool&outcome&grant_id&since&until&limit&cursor
 *                                 newest first: {"records":[…],"next_cursor":"…"|null}
 *   GET /admin/api/audit/export   the same filters, every match oldest first as JSON Lines, streamed in batches
 *
 * `since`/`until` take what the events API takes (epoch seconds, ISO 8601, `YYYY-MM-DD[THH:MM]` in UTC); `until`
 * is inclusive. Records hold ids, names and redacted arguments only (docs/invariants.md #1).
 */
import type { Context, Hono } from 'hono';
import { AUDIT_OUTCOMES } from '../audit/audit-record.js';
import { InvalidCursorError, type AuditFilter, type AuditLog, type AuditLogRecord } from '../store/repositories/audit-log.js';
import { AdminInputError, MAX_PAGE_SIZE, parseTime } from './filters.js';

const EXPORT_BATCH = 500;
const MAX_TEXT = 512;

function one(query: URLSearchParams, name: string): string | undefined {
  const all = query.getAll(name);
  if (all.length > 1) throw new AdminInputError(`${name} may be given once`);
  const v = all[0]?.trim();
  if (v === undefined || v === '') return undefined;
  if (v.length > MAX_TEXT) throw new AdminInputError(`${name} is longer than ${MAX_TEXT} characters`);
  return v;
}

/** The audit filters of a query string; throws {@link AdminInputError} for a malformed one. */
export function parseAuditFilter(query: URLSearchParams): AuditFilter {
  const out: AuditFilter = {};
  for (const [param, field] of [['person', 'person'], ['subject', 'subject'], ['client_id', 'clientId'], ['server', 'server'], ['tool', 'tool'], ['grant_id', 'grantId']] as const) {
    const v = one(query, param);
    if (v !== undefined) out[field] = v;
  }
  const outcome = one(query, 'outcome');
  if (outcome !== undefined) {
    if (!(AUDIT_OUTCOMES as readonly string[]).includes(outcome)) throw new AdminInputError(`outcome must be one of ${AUDIT_OUTCOMES.join(', ')}`);
    out.outcome = outcome;
  }
  const time = (name: string, bound: 'start' | 'end') => {
    const v = one(query, name);
    if (v === undefined) return undefined;
    try { return parseTime(v, bound); } catch (e) { throw new AdminInputError(`${name}: ${(e as Error).message}`); }
  };
  const since = time('since', 'start');
  const until = time('until', 'end');
  if (since !== undefined && until !== undefined && since > until) throw new AdminInputError('since must not be after until');
  if (since !== undefined) out.since = since * 1000;
  if (until !== undefined) out.until = (until + 1) * 1000; // inclusive second → exclusive ms
  return out;
}

/** A record as the API and the export write it (snake_case, like the events API). */
export function auditRecordJson(r: AuditLogRecord) {
  return {
    id: r.id, at: r.at, person: r.person, subject: r.subject, client_id: r.clientId, server: r.server, grant_id: r.grantId,
    method: r.method, tool: r.tool, outcome: r.outcome, http_status: r.httpStatus, rpc_error_code: r.rpcErrorCode,
    denial_reason: r.denialReason, duration_ms_to_first_byte: r.durationMsToFirstByte, duration_ms_total: r.durationMsTotal,
    request_bytes: r.requestBytes, response_bytes: r.responseBytes, request_id: r.requestId,
    ...(r.arguments !== undefined ? { arguments: r.arguments } : {}),
  };
}

function invalid(c: Context, message: string) {
  return c.json({ error: 'invalid_request', error_description: message }, 400);
}

/** Streams every matching record, oldest first, one JSON object per line (batches of {@link EXPORT_BATCH}). */
export function auditJsonLines(auditLog: AuditLog, filter: AuditFilter, nowMs: number): Response {
  const encoder = new TextEncoder();
  let cursor: string | null = null;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const page = await auditLog.scan(filter, cursor, EXPORT_BATCH);
      if (page.records.length > 0) controller.enqueue(encoder.encode(page.records.map((r) => `${JSON.stringify(auditRecordJson(r))}\n`).join('')));
      cursor = page.nextCursor;
      if (cursor === null) controller.close();
    },
  });
  const stamp = new Date(nowMs).toISOString().replace(/[-:]/g, '').slice(0, 15);
  return new Response(body, {
    status: 200,
    headers: {
      'Content-Type': 'application/jsonl; charset=utf-8',
      'Content-Disposition': `attachment; filename="keyhole-audit-${stamp}Z.jsonl"`,
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
    },
  });
}

/** Adds the two routes to the admin API app (its bearer middleware already applies). */
export function mountAuditApi(app: Hono, auditLog: AuditLog | undefined, nowMs: () => number = Date.now): void {
  app.get('/admin/api/audit', async function listAudit(c) {
    if (!auditLog) return c.json({ error: 'not_found', error_description: 'the audit log is not enabled' }, 404);
    try {
      const query = new URL(c.req.url).searchParams;
      const filter = parseAuditFilter(query);
      const limitText = one(query, 'limit');
      const limit = limitText === undefined ? 50 : Number(limitText);
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) throw new AdminInputError(`limit must be an integer from 1 to ${MAX_PAGE_SIZE}`);
      const page = await auditLog.query(filter, { limit, cursor: one(query, 'cursor') ?? null });
      c.header('Cache-Control', 'no-store');
      return c.json({ records: page.records.map(auditRecordJson), next_cursor: page.nextCursor });
    } catch (e) {
      if (e instanceof AdminInputError || e instanceof InvalidCursorError) return invalid(c, e.message);
      throw e;
    }
  });
  app.get('/admin/api/audit/export', async function exportAudit(c) {
    if (!auditLog) return c.json({ error: 'not_found', error_description: 'the audit log is not enabled' }, 404);
    try {
      return auditJsonLines(auditLog, parseAuditFilter(new URL(c.req.url).searchParams), nowMs());
    } catch (e) {
      if (e instanceof AdminInputError) return invalid(c, e.message);
      throw e;
    }
  });
}
