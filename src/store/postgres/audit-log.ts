/**
 * PostgreSQL audit log repository (../repositories/audit-log.ts): the audit rows (`audit_log`, migration 7,
 * ./migrations.ts), the retention purges and the grant count. `append` and the token purge are each atomic (their own
 * transaction, or part of the open one). `seq` is an identity: the cursor of query/scan.
 */
import {
  decodeCursor, encodeCursor, percentile,
  type AuditFilter, type AuditLogRecord, type AuditLogRepository, type AuditPage, type GrantStatusCount, type ToolStat,
} from '../repositories/audit-log.js';
import { dynamicStatement, statement, type Executor, type Params } from './executor.js';
import { toRecord, whereOf, type AuditRow } from '../rows/audit-rows.js';


const S = {
  insert: statement('audit.insert', `INSERT INTO audit_log (id, at_ms, person, subject, client_id, server, grant_id, method, tool, outcome,
    http_status, rpc_error_code, denial_reason, ttfb_ms, total_ms, request_bytes, response_bytes, request_id, arguments, redactions)
    VALUES (@id, @atMs, @person, @subject, @clientId, @server, @grantId, @method, @tool, @outcome, @httpStatus, @rpcErrorCode,
    @denialReason, @ttfbMs, @totalMs, @requestBytes, @responseBytes, @requestId, @arguments, @redactions)`),
  purge: statement('audit.purge', 'DELETE FROM audit_log WHERE seq IN (SELECT seq FROM audit_log WHERE at_ms < @before ORDER BY at_ms LIMIT @limit)'),
  toolRows: statement<{ tool: string; outcome: string; total_ms: number }>('audit.tool-rows', `SELECT tool, outcome, total_ms FROM audit_log
    WHERE server = @server AND at_ms >= @since AND method = 'tools/call' AND tool IS NOT NULL ORDER BY tool, total_ms LIMIT 200000`),
  purgeEvents: statement('audit.purge-events', 'DELETE FROM events WHERE id IN (SELECT id FROM events WHERE at < @before ORDER BY at LIMIT @limit)'),
  purgeCodes: statement('audit.purge-codes', 'DELETE FROM codes WHERE hash IN (SELECT hash FROM codes WHERE expires_at < @before LIMIT @limit)'),
  purgeAccess: statement('audit.purge-access', 'DELETE FROM access_tokens WHERE hash IN (SELECT hash FROM access_tokens WHERE expires_at < @before LIMIT @limit)'),
  purgeRefresh: statement('audit.purge-refresh', 'DELETE FROM refresh_tokens WHERE hash IN (SELECT hash FROM refresh_tokens WHERE expires_at < @before LIMIT @limit)'),
  grantCounts: statement<GrantStatusCount>('audit.grant-counts', 'SELECT server, status, count(*) AS count FROM grants GROUP BY server, status ORDER BY server, status'),
};

export class PostgresAuditLog implements AuditLogRepository {
  constructor(private readonly ex: Executor) {}

  append(records: readonly AuditLogRecord[]): Promise<void> {
    return this.ex.atomic(async (tx) => {
      for (const r of records) {
        await tx.run(S.insert, {
          id: r.id, atMs: Date.parse(r.at), person: r.person, subject: r.subject, clientId: r.clientId, server: r.server, grantId: r.grantId,
          method: r.method, tool: r.tool, outcome: r.outcome, httpStatus: r.httpStatus, rpcErrorCode: r.rpcErrorCode, denialReason: r.denialReason,
          ttfbMs: r.durationMsToFirstByte, totalMs: r.durationMsTotal, requestBytes: r.requestBytes, responseBytes: r.responseBytes,
          requestId: r.requestId, arguments: r.arguments === undefined ? null : JSON.stringify(r.arguments),
          redactions: r.redactions && Object.keys(r.redactions).length > 0 ? JSON.stringify(r.redactions) : null,
        });
      }
    });
  }

  async query(filter: AuditFilter, opts: { limit: number; cursor?: string | null }): Promise<AuditPage> {
    const params: Params = { limit: opts.limit + 1 };
    const where = whereOf(filter, params);
    if (opts.cursor) { where.push('seq < @cursor'); params.cursor = decodeCursor(opts.cursor); }
    const sql = `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT @limit`;
    const rows = await this.ex.rows(dynamicStatement<AuditRow>('audit.query', sql), params);
    const more = rows.length > opts.limit;
    const page = more ? rows.slice(0, opts.limit) : rows;
    return { records: page.map(toRecord), nextCursor: more ? encodeCursor(page[page.length - 1]!.seq) : null };
  }

  async scan(filter: AuditFilter, afterCursor: string | null, limit: number): Promise<AuditPage> {
    const params: Params = { limit };
    const where = whereOf(filter, params);
    if (afterCursor) { where.push('seq > @after'); params.after = decodeCursor(afterCursor); }
    const sql = `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq ASC LIMIT @limit`;
    const rows = await this.ex.rows(dynamicStatement<AuditRow>('audit.scan', sql), params);
    return { records: rows.map(toRecord), nextCursor: rows.length === limit ? encodeCursor(rows[rows.length - 1]!.seq) : null };
  }

  purgeBefore(before: number, limit: number): Promise<number> {
    return this.ex.run(S.purge, { before, limit });
  }

  async toolStats(server: string, since: number): Promise<ToolStat[]> {
    const byTool = new Map<string, { durations: number[]; errors: number }>();
    for (const r of await this.ex.rows(S.toolRows, { server, since })) {
      let t = byTool.get(r.tool);
      if (!t) byTool.set(r.tool, (t = { durations: [], errors: 0 }));
      t.durations.push(r.total_ms); // ascending: ORDER BY tool, total_ms
      if (r.outcome !== 'ok') t.errors++;
    }
    return [...byTool].map(([tool, t]) => ({ tool, calls: t.durations.length, errors: t.errors, p50Ms: percentile(t.durations, 50), p95Ms: percentile(t.durations, 95) }))
      .sort((a, b) => b.calls - a.calls || (a.tool < b.tool ? -1 : 1));
  }

  purgeEventsBefore(before: number, limit: number): Promise<number> {
    // events.at is epoch seconds: s * 1000 < before ⟺ s < ceil(before / 1000).
    return this.ex.run(S.purgeEvents, { before: Math.ceil(before / 1000), limit });
  }

  /** Up to `limit` rows in total, codes first, atomically. */
  purgeExpiredTokens(before: number, limit: number): Promise<number> {
    return this.ex.atomic(async (tx) => {
      let left = limit;
      for (const s of [S.purgeCodes, S.purgeAccess, S.purgeRefresh]) {
        if (left <= 0) break;
        left -= await tx.run(s, { before: Math.ceil(before / 1000), limit: left });
      }
      return limit - left;
    });
  }

  countByServerAndStatus(): Promise<GrantStatusCount[]> {
    return this.ex.rows(S.grantCounts);
  }
}
