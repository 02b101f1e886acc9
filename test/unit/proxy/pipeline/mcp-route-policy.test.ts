/**
 * Where the traffic-policy steps sit in mcp-route.ts, over real sockets with the real steps (mcp-harness.ts):
 * argument rules before limits (a refused call costs no rate token), limits before the circuit breaker, the breaker
 * before the credential and the forwarder (an open circuit sends nothing upstream).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMcpHarness, type McpHarness } from '../mcp-harness.js';

const echo = (id: number, text: string) => JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { text } } });

describe('mcpRoutes: traffic-policy step order', () => {
  let h: McpHarness;
  let token: string;
  beforeAll(async () => {
    h = await startMcpHarness({
      servers: {
        scoped: { limits: { upstream: { maxConcurrent: 1 } } },
        plain: {
          argumentRules: [{ tool: 'echo', pointer: '/text', allow: ['ok'] }],
          limits: { perPerson: { requestsPerHour: 4 } },
          circuitBreaker: { failureThreshold: 1, openSeconds: 60, successThreshold: 1 },
        },
      },
    });
    token = (await h.grant('plain')).token;
  });
  afterAll(async () => h?.close());

  const post = (body: string) => h.call('POST', 'plain', { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body);
  const code = (body: string) => (JSON.parse(body) as { error: { code: number } }).error.code;

  it('runs rules, then limits, then the breaker, then the forwarder', async () => {
    for (let i = 1; i <= 5; i++) {
      const refused = await post(echo(i, 'bad'));
      expect([refused.status, code(refused.body)]).toEqual([403, -32014]);
    }
    expect(h.upstreamSeen).toHaveLength(0);

    h.setUpstream((_req, res) => res.writeHead(500, { 'content-type': 'application/json' }).end('{"jsonrpc":"2.0","id":6,"error":{"code":-32603,"message":"boom"}}'));
    const failed = await post(echo(6, 'ok')); // token 1 of 4; the failure opens the circuit
    expect(failed.status).toBe(500);
    expect(h.upstreamSeen).toHaveLength(1);
    for (let i = 7; i <= 9; i++) {
      const open = await post(echo(i, 'ok')); // tokens 2 to 4
      expect([open.status, code(open.body), open.headers['retry-after']]).toEqual([503, -32016, '60']);
    }
    const limited = await post(echo(10, 'ok'));
    expect([limited.status, code(limited.body)]).toEqual([429, -32029]);
    expect(h.upstreamSeen).toHaveLength(1);
  });

  it('holds the upstream concurrency slot while an answer streams, and frees it when the stream ends', async () => {
    const { token: scopedToken } = await h.grant('scoped', ['read']);
    let finish: () => void = () => {};
    h.setUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('event: message\ndata: {"jsonrpc":"2.0","method":"notifications/progress","params":{}}\n\n');
      finish = () => res.end('event: message\ndata: {"jsonrpc":"2.0","id":1,"result":{}}\n\n');
    });
    const headers = { authorization: `Bearer ${scopedToken}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    const first = h.call('POST', 'scoped', headers, echo(1, 'a')); // resolves when its stream has ended
    while (h.upstreamSeen.filter((r) => r.body === echo(1, 'a')).length === 0) await new Promise((r) => setTimeout(r, 5));
    const second = await h.call('POST', 'scoped', headers, echo(2, 'b'));
    expect([second.status, code(second.body)]).toEqual([429, -32029]);
    expect(JSON.parse(second.body)).toMatchObject({ error: { data: { limit_type: 'per_upstream', window: 'concurrent', limit: 1 } } });
    finish();
    expect((await first).status).toBe(200);
    h.setUpstream((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"jsonrpc":"2.0","id":3,"result":{}}'));
    let third = await h.call('POST', 'scoped', headers, echo(3, 'c'));
    // The slot is freed on the client response's 'close', which may trail the last byte by a tick.
    for (let i = 0; i < 20 && third.status === 429; i++) third = await h.call('POST', 'scoped', headers, echo(3, 'c'));
    expect(third.status).toBe(200);
  });
});
