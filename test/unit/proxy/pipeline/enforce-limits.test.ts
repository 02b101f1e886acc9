import { describe, expect, it } from 'vitest';
import { enforceLimits, personOf } from '../../../../src/proxy/pipeline/enforce-limits.js';
import { authenticatedRequest, stepApp } from './step-app.js';
import { fakeOutgoing, policiesFor } from './policy-steps-support.js';

const call = (id: unknown, name: string) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: {} } });

function setup(limits: unknown, body: unknown, over: Parameters<typeof authenticatedRequest>[0] = {}) {
  const policies = policiesFor({ limits });
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  const app = stepApp(enforceLimits({ policies }), () => authenticatedRequest({ body: Buffer.from(raw), ...over }));
  return { ...app, policies, post: (env?: object) => app.request('/mcp/demo', { method: 'POST' }, env) };
}

describe('enforceLimits', () => {
  it('rejects missing options', () => {
    expect(() => enforceLimits({} as never)).toThrow('enforceLimits: policies is required');
  });

  it('refuses the call past a per-tool limit with 429, Retry-After and the exact JSON-RPC error; nothing later runs', async () => {
    const { post, reached } = setup({ tools: { execute_code: { requestsPerMinute: 2 } } }, call(7, 'execute_code'));
    expect((await post()).status).toBe(200);
    expect((await post()).status).toBe(200);
    const refused = await post();
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('30');
    expect(await refused.text()).toBe('{"jsonrpc":"2.0","id":7,"error":{"code":-32029,"message":"Rate limit exceeded","data":{"limit_type":"per_tool","tool":"execute_code","retry_after":30,"limit":2,"window":"60s"}}}');
    expect(reached).toHaveLength(2);
  });

  it('counts each message of a batch, answers with the id of the refused one, and ignores responses', async () => {
    const batch = [call(1, 'a'), { jsonrpc: '2.0', method: 'notifications/initialized' }, { jsonrpc: '2.0', id: 5, result: {} }, call(3, 'b')];
    const { post, reached } = setup({ perClient: { requestsPerHour: 2 } }, batch);
    const res = await post();
    expect(res.status).toBe(429);
    expect(await res.json()).toEqual({ jsonrpc: '2.0', id: 3, error: { code: -32029, message: 'Rate limit exceeded', data: { limit_type: 'per_client', retry_after: 1800, limit: 2, window: '1h' } } });
    expect(reached).toHaveLength(0);
  });

  it('keys the person on the grant\'s person id when it has one, else on its upstream subject', async () => {
    expect(personOf({ subject: 'sub-1' })).toBe('sub-1');
    expect(personOf({ subject: 'sub-1', personId: 'per_1' })).toBe('per_1');
    const { policies } = setup({ perPerson: { requestsPerHour: 1 } }, call(1, 'x'));
    const step = enforceLimits({ policies });
    const run = async (clientId: string, subject: string) => {
      const { request } = stepApp(step, () => authenticatedRequest({ body: Buffer.from(JSON.stringify(call(1, 'x'))), grant: { id: 'g', server: 'demo', clientId, subject, scopes: [] } }));
      return (await request('/mcp/demo', { method: 'POST' })).status;
    };
    expect(await run('c_1', 'alice')).toBe(200);
    expect(await run('c_2', 'alice')).toBe(429); // another client, same person
    expect(await run('c_2', 'bob')).toBe(200);
  });

  it('holds a concurrency slot until the client response closes, and refuses past maxConcurrent meanwhile', async () => {
    const { post, policies } = setup({ upstream: { maxConcurrent: 1 } }, call(1, 'x'));
    const first = fakeOutgoing();
    expect((await post({ outgoing: first })).status).toBe(200);
    const second = await post({ outgoing: fakeOutgoing() });
    expect(second.status).toBe(429);
    expect(await second.json()).toMatchObject({ error: { code: -32029, data: { limit_type: 'per_upstream', limit: 1, window: 'concurrent', retry_after: 1 } } });
    first.finish();
    expect((await post()).status).toBe(200); // released (no outgoing: released at once)
    expect((await post()).status).toBe(200);
    expect(policies.get('demo')!.limits.active).toBe(true);
  });

  it('passes GET, servers without limits, and answers a body that is not JSON with PARSE_ERROR', async () => {
    const step = enforceLimits({ policies: policiesFor({ limits: { perClient: { requestsPerHour: 1 } } }) });
    const get = stepApp(step, () => authenticatedRequest({ method: 'GET', body: null }));
    for (let i = 0; i < 3; i++) expect((await get.request('/mcp/demo', { method: 'GET' })).status).toBe(200);
    const none = stepApp(enforceLimits({ policies: policiesFor({}) }), () => authenticatedRequest({ body: Buffer.from('not json') }));
    expect((await none.request('/mcp/demo', { method: 'POST' })).status).toBe(200);
    const bad = setup({ perClient: { requestsPerHour: 1 } }, 'not json');
    const res = await bad.post();
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: number } }).error.code).toBe(-32700);
  });
});
