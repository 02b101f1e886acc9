import { describe, expect, it } from 'vitest';
import { Hono } from 'hono';
import { mountAuditApi, parseAuditFilter } from '../../../src/admin/audit-routes.js';
import { AdminInputError } from '../../../src/admin/filters.js';
import { openSqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import type { AuditLogRecord } from '../../../src/store/repositories/audit-log.js';

const q = (s: string) => new URLSearchParams(s);

function rec(n: number, over: Partial<AuditLogRecord> = {}): AuditLogRecord {
  return {
    id: `au_${String(n).padStart(32, '0')}`, at: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(), person: null, subject: 'alice', clientId: 'c_1',
    server: 'demo', grantId: 'g_1', method: 'tools/call', tool: 'echo', outcome: 'ok', httpStatus: 200, rpcErrorCode: null, denialReason: null,
    durationMsToFirstByte: 3, durationMsTotal: 5, requestBytes: 80, responseBytes: 120, requestId: `t${n}`, ...over,
  };
}

describe('parseAuditFilter', () => {
  it('maps every filter to the store filter, times to epoch ms with an inclusive until', () => {
    expect(parseAuditFilter(q('person=p&subject=s&client_id=c&server=demo&tool=t&outcome=denied&grant_id=g&since=1700000000&until=1700000010'))).toEqual({
      person: 'p', subject: 's', clientId: 'c', server: 'demo', tool: 't', outcome: 'denied', grantId: 'g', since: 1_700_000_000_000, until: 1_700_000_011_000,
    });
    expect(parseAuditFilter(q('since=2026-01-01&until=2026-01-01'))).toEqual({ since: Date.UTC(2026, 0, 1), until: Date.UTC(2026, 0, 2) });
    expect(parseAuditFilter(q('subject=&tool='))).toEqual({});
  });

  it.each([
    ['outcome=maybe', 'outcome must be one of ok, error, denied, unauthorized, rate_limited, upstream_unavailable, timeout'],
    ['since=yesterday', 'since: times are epoch seconds, ISO 8601 (2025-01-31T12:00:00Z) or YYYY-MM-DDTHH:MM in UTC'],
    ['since=20&until=10', 'since must not be after until'],
    ['tool=a&tool=b', 'tool may be given once'],
    [`subject=${'x'.repeat(513)}`, 'subject is longer than 512 characters'],
  ])('rejects %s', (query, message) => {
    expect(() => parseAuditFilter(q(query))).toThrow(new AdminInputError(message));
  });
});

describe('GET /admin/api/audit', () => {
  function app() {
    const store = openSqliteStore(':memory:');
    const log = store.auditLog;
    const a = new Hono();
    mountAuditApi(a, log, () => Date.UTC(2026, 0, 2, 3, 4, 5));
    return { a, log };
  }

  it('answers 400 for a bad limit or cursor, 404 without an audit log', async () => {
    const { a } = app();
    for (const query of ['limit=0', 'limit=501', 'limit=x', 'cursor=abc']) {
      const res = await a.request(`/admin/api/audit?${query}`);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toBe('invalid_request');
    }
    const none = new Hono();
    mountAuditApi(none, undefined);
    expect((await none.request('/admin/api/audit')).status).toBe(404);
  });

  it('writes records in snake_case, values as stored (an <img> tool name stays text in JSON)', async () => {
    const { a, log } = app();
    await log.append([rec(1, { tool: '<img src=x onerror=alert(1)>', arguments: { q: '[REDACTED:key]' } })]);
    const body = (await (await a.request('/admin/api/audit')).json()) as { records: Array<Record<string, unknown>>; next_cursor: unknown };
    expect(body).toEqual({
      records: [{
        id: rec(1).id, at: '2026-01-01T00:00:01.000Z', person: null, subject: 'alice', client_id: 'c_1', server: 'demo', grant_id: 'g_1', method: 'tools/call',
        tool: '<img src=x onerror=alert(1)>', outcome: 'ok', http_status: 200, rpc_error_code: null, denial_reason: null, duration_ms_to_first_byte: 3,
        duration_ms_total: 5, request_bytes: 80, response_bytes: 120, request_id: 't1', arguments: { q: '[REDACTED:key]' },
      }],
      next_cursor: null,
    });
  });

  it('exports every match oldest first across batches, as an attachment', async () => {
    const { a, log } = app();
    await log.append(Array.from({ length: 1_203 }, (_, i) => rec(i + 1, { server: i % 2 ? 'demo' : 'other' })));
    const res = await a.request('/admin/api/audit/export?server=demo');
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="keyhole-audit-20260102T030405Z.jsonl"');
    const ids = (await res.text()).trim().split('\n').map((l) => (JSON.parse(l) as { request_id: string }).request_id);
    expect(ids).toHaveLength(601);
    expect(ids[0]).toBe('t2');
    expect(ids[600]).toBe('t1202');
  });
});
