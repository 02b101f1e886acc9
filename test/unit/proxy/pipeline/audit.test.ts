import { describe, expect, it } from 'vitest';
import { audit, auditFacts } from '../../../../src/proxy/pipeline/audit.js';
import type { AuditFacts, AuditTrail } from '../../../../src/audit/request-audit.js';
import type { TraceContext } from '../../../../src/audit/trace-context.js';
import { authenticatedRequest, stepApp } from './step-app.js';

const TRACE: TraceContext = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', parentId: null, spanId: '00f067aa0ba902b7', flags: '00' };

function fakeAuditor() {
  const begun: Array<{ server: string; traceparent: string | null | undefined }> = [];
  const ended: AuditFacts[] = [];
  const auditor = {
    begin(server: string, traceparent: string | null | undefined): AuditTrail {
      begun.push({ server, traceparent });
      return { trace: TRACE, requestId: 'r', end: (f) => (ended.push(f), null) };
    },
  };
  return { auditor, begun, ended };
}

const body = (v: unknown) => Buffer.from(JSON.stringify(v));

describe('auditFacts', () => {
  it('takes grant, method, tool, size and the refusal reason from the request', () => {
    const req = authenticatedRequest({ body: body({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x' } } }), denial: { reason: 'insufficient_scope' } });
    expect(auditFacts(req, 403, false)).toEqual({
      httpStatus: 403, person: null, subject: 'user-1', clientId: 'c_1', grantId: 'g_1', method: 'tools/call', tool: 'echo', denialReason: 'insufficient_scope', requestBytes: req.body!.length,
    });
  });

  it('records the grant\'s person (issue 13) when the grant has one', () => {
    const req = authenticatedRequest({ grant: { id: 'g_1', server: 'demo', clientId: 'c_1', subject: 'user-1', personId: 'u_alice' } });
    expect(auditFacts(req, 200, false)).toMatchObject({ person: 'u_alice', subject: 'user-1' });
  });

  it('passes tool arguments only when the server records them', () => {
    const req = authenticatedRequest({ body: body({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { password: 'p' } } }) });
    expect(auditFacts(req, 200, true).arguments).toEqual({ password: 'p' });
    expect('arguments' in auditFacts(req, 200, false)).toBe(false);
  });

  it('passes the redaction counts the redact-secrets step left on the request, a copy, and none when absent', () => {
    const req = authenticatedRequest({ redactions: { jwt: 2 } });
    const facts = auditFacts(req, 200, false);
    expect(facts.redactions).toEqual({ jwt: 2 });
    expect(facts.redactions).not.toBe(req.redactions);
    expect('redactions' in auditFacts(authenticatedRequest(), 200, false)).toBe(false);
  });

  it('names the resource of resources/read and the prompt of prompts/get; the first message of a batch', () => {
    expect(auditFacts(authenticatedRequest({ body: body({ jsonrpc: '2.0', id: 1, method: 'resources/read', params: { uri: 'file:///a' } }) }), 200, false).tool).toBe('file:///a');
    expect(auditFacts(authenticatedRequest({ body: body({ jsonrpc: '2.0', id: 1, method: 'prompts/get', params: { name: 'p' } }) }), 200, false).tool).toBe('p');
    const batch = auditFacts(authenticatedRequest({ body: body([{ jsonrpc: '2.0', id: 1, method: 'tools/list' }, { jsonrpc: '2.0', id: 2, method: 'ping' }]) }), 200, false);
    expect([batch.method, batch.tool]).toEqual(['tools/list', null]);
  });

  it('records no method for a body that is not JSON, and nobody for an unauthenticated request', () => {
    const facts = auditFacts({ ...authenticatedRequest({ body: Buffer.from('{nope') }), token: undefined, grant: undefined }, 400, true);
    expect(facts).toEqual({ httpStatus: 400, person: null, subject: null, clientId: null, grantId: null, method: null, tool: null, denialReason: null, requestBytes: 5 });
  });
});

describe('audit step', () => {
  it('refuses to be built without an auditor', () => {
    expect(() => audit({} as never)).toThrow('audit: auditor is required');
  });

  it('begins with the client traceparent, ends once with the answer status, and sends none of its own upstream', async () => {
    const { auditor, begun, ended } = fakeAuditor();
    const { request, reached } = stepApp(audit({ auditor }), () => authenticatedRequest());
    const tp = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const res = await request('/mcp/demo', { method: 'POST', headers: { traceparent: tp } });
    expect(res.status).toBe(200);
    expect(begun).toEqual([{ server: 'demo', traceparent: tp }]);
    expect(ended.map((f) => f.httpStatus)).toEqual([200]);
    expect(reached[0]!.traceparent).toBeUndefined();
  });

  it('starts a trace when the client sent none and puts its traceparent on the request for the forward step', async () => {
    const { auditor, ended } = fakeAuditor();
    const { request, reached } = stepApp(audit({ auditor }), () => authenticatedRequest());
    await request('/mcp/demo', { method: 'POST' });
    expect(reached[0]!.traceparent).toBe('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00');
    expect(ended).toHaveLength(1);
  });

  it('asks recordsArguments per server', async () => {
    const { auditor, ended } = fakeAuditor();
    const asked: string[] = [];
    const req = authenticatedRequest({ body: body({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 't', arguments: { a: 1 } } }) });
    const { request } = stepApp(audit({ auditor, recordsArguments: (s) => (asked.push(s), true) }), () => req);
    await request('/mcp/demo', { method: 'POST' });
    expect(asked).toEqual(['demo']);
    expect(ended[0]!.arguments).toEqual({ a: 1 });
  });
});
