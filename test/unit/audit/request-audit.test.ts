import { describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../../src/audit/audit-record.js';
import { createRequestAuditor, type RequestAuditorOptions } from '../../../src/audit/request-audit.js';

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

function setup(over: Partial<RequestAuditorOptions> = {}) {
  let t = 1_000;
  const queued: AuditRecord[] = [];
  const fed: string[] = [];
  const auditor = createRequestAuditor({
    queue: { enqueue: (r) => queued.push(r) }, now: () => t, newId: () => 'au_1',
    serverAudit: (s) => (s === 'secretive' ? { arguments: 'redacted' } : undefined),
    onRecord: (r) => fed.push(r.outcome), ...over,
  });
  const written: string[] = [];
  const res = { write: (c: string) => { written.push(c); return true; }, end: (c?: string) => { if (c) written.push(c); } };
  return { auditor, queued, fed, res, written, at: (ms: number) => { t = ms; } };
}

describe('request-audit', () => {
  it('records a denied call from the status and the JSON-RPC code keyhole wrote', () => {
    const { auditor, queued, fed, res, written, at } = setup();
    const trail = auditor.begin('demo', TRACEPARENT, res as never);
    expect(trail.requestId).toBe(`4bf92f3577b34da6a3ce929d0e0e4736-${trail.trace.spanId}`);
    at(1_004);
    (res.end as (c: string) => void)('{"jsonrpc":"2.0","id":1,"error":{"code":-32003,"message":"insufficient scope"}}');
    at(1_006);
    const r = trail.end({ httpStatus: 403, subject: 'alice', clientId: 'c_1', grantId: 'g_1', method: 'tools/call', tool: 'delete_repo', denialReason: 'insufficient_scope', requestBytes: 120, arguments: { password: 'x' } });
    expect(r).toEqual({
      id: 'au_1', at: '1970-01-01T00:00:01.000Z', person: null, subject: 'alice', clientId: 'c_1', server: 'demo', grantId: 'g_1',
      method: 'tools/call', tool: 'delete_repo', outcome: 'denied', httpStatus: 403, rpcErrorCode: -32003, denialReason: 'insufficient_scope',
      durationMsToFirstByte: 4, durationMsTotal: 6, requestBytes: 120, responseBytes: 79, requestId: trail.requestId,
    });
    expect(queued).toEqual([r]);
    expect(fed).toEqual(['denied']);
    expect(written).toHaveLength(1);
  });

  it('stores redacted arguments only on a server in redacted mode', () => {
    const { auditor, queued, res } = setup();
    auditor.begin('secretive', undefined, res as never).end({ httpStatus: 200, arguments: { password: 'hunter2', q: 'ok' } });
    auditor.begin('demo', undefined, res as never).end({ httpStatus: 200, arguments: { password: 'hunter2' } });
    expect(queued[0]!.arguments).toEqual({ password: '[REDACTED:key]', q: 'ok' });
    expect('arguments' in queued[1]!).toBe(false);
    expect(queued[0]!.outcome).toBe('ok');
  });

  it('records the redaction counts per kind, and none when nothing was redacted', () => {
    const { auditor, queued, res } = setup();
    auditor.begin('demo', undefined, res as never).end({ httpStatus: 200, redactions: { private_key: 1, jwt: 2 } });
    auditor.begin('demo', undefined, res as never).end({ httpStatus: 200, redactions: {} });
    auditor.begin('demo', undefined, res as never).end({ httpStatus: 200 });
    expect(queued[0]!.redactions).toEqual({ private_key: 1, jwt: 2 });
    expect('redactions' in queued[1]!).toBe(false);
    expect('redactions' in queued[2]!).toBe(false);
  });

  it('records once, restores the response and survives a throwing onRecord', () => {
    const { auditor, queued, res } = setup({ onRecord: () => { throw new Error('metrics down'); } });
    const write = res.write;
    const trail = auditor.begin('demo', undefined, res as never);
    expect(res.write).not.toBe(write);
    const a = trail.end({ httpStatus: 502 });
    expect(res.write).toBe(write);
    expect(trail.end({ httpStatus: 200 })).toBe(a);
    expect(queued).toHaveLength(1);
    expect(a?.outcome).toBe('upstream_unavailable');
  });

  it('checks its options when built', () => {
    expect(() => createRequestAuditor({} as RequestAuditorOptions)).toThrow('queue is required');
  });
});
