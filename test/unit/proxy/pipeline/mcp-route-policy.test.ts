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
});
