/**
 * The circuit breaker end to end (issue 15) with real peers: oidc-provider and the SDK MCP server upstream, behind
 * a TCP counter (test/helpers/tcp-counter.ts) that sees every connection and byte keyhole sends upstream.
 * Stop the upstream: after `failureThreshold` failures (502, no connection upstream) the circuit opens and calls
 * fail fast with 503 -32016 + Retry-After, with no connection attempt reaching the upstream. Restart it: after
 * `openSeconds` one trial goes through and closes the circuit.
 * Also: `health` probes `GET /healthz` on the upstream's origin and opens the circuit by itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../helpers/stack.js';
import { startTcpCounter, type TcpCounter } from '../helpers/tcp-counter.js';
import { authorizeClient, initializeBody, rawPost } from '../helpers/raw-mcp.js';
import { startUpstreamMcpServer, type UpstreamMcp } from '../../examples/demo/upstream-mcp-server.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('traffic policy: circuit breaker', () => {
  let stack: Stack;
  let counter: TcpCounter;
  let upstreamPort = 0;
  let restarted: UpstreamMcp | undefined;
  beforeAll(async () => {
    counter = await startTcpCounter(() => upstreamPort);
    stack = await startStack({
      server: { upstream: `http://127.0.0.1:${counter.port}/mcp`, circuitBreaker: { failureThreshold: 3, openSeconds: 1, successThreshold: 1 } },
      extraServers: { probed: { server: { health: { path: '/healthz', intervalSeconds: 1, timeoutSeconds: 1, unhealthyThreshold: 2, healthyThreshold: 1 } } } },
    });
    upstreamPort = stack.mcp.port;
  });
  afterAll(async () => {
    await stack?.close();
    await restarted?.close();
    await counter?.close();
  });

  it('opens after failureThreshold failures, fails fast without touching the upstream, and closes after a trial', async () => {
    const { token } = await authorizeClient(stack.mcpUrl, 'ops');
    const call = (id: number) => rawPost(stack.mcpUrl, token, initializeBody(id));
    expect((await call(1)).status).toBe(200);

    await stack.mcp.close(); // the upstream MCP server goes away (the counter still accepts, then resets)
    for (let id = 2; id <= 4; id++) {
      const failed = await call(id);
      expect(failed.status).toBe(502);
      expect(failed.messages).toEqual([{ jsonrpc: '2.0', error: { code: -32004, message: 'upstream unreachable' }, id: null }]);
    }
    const connections = counter.connections();
    const bytes = counter.bytes();
    for (let id = 5; id <= 9; id++) {
      const started = Date.now();
      const open = await call(id);
      expect(Date.now() - started).toBeLessThan(1_000); // loose: fail-fast is asserted by the counter below
      expect(open.status).toBe(503);
      expect(open.headers.get('retry-after')).toBe('1');
      expect(open.text).toBe(`{"jsonrpc":"2.0","id":${id},"error":{"code":-32016,"message":"Upstream unavailable (circuit open)","data":{"server":"demo","retry_after":1}}}`);
    }
    expect(counter.connections()).toBe(connections); // no connection attempt reached the upstream
    expect(counter.bytes()).toBe(bytes);

    restarted = await startUpstreamMcpServer({ issuer: stack.as.issuer, port: upstreamPort });
    await sleep(1_100); // openSeconds: the next request is the trial
    const trial = await call(10);
    expect(trial.status).toBe(200);
    expect(counter.connections()).toBeGreaterThan(connections);
    // successThreshold 1: closed again, requests flow.
    for (let id = 11; id <= 13; id++) expect((await call(id)).status).toBe(200);
  });

  it('health checks on /healthz open the circuit of a dead upstream before any call fails', async () => {
    const url = `${stack.publicUrl}/mcp/probed`;
    const { token } = await authorizeClient(url, 'ops', 'probed client');
    expect((await rawPost(url, token, initializeBody(1))).status).toBe(200);
    const breaker = stack.keyhole.policies.get('probed')!.breaker!;
    expect(breaker.snapshot().state).toBe('closed');
    await stack.extra.probed!.mcp.close();
    // No call is made while it is down: only the probes (1 s apart, unhealthyThreshold 2) can open the circuit.
    for (let i = 0; i < 50 && breaker.snapshot().state === 'closed'; i++) await sleep(100);
    expect(breaker.snapshot().state).toBe('open');
    const answer = await rawPost(url, token, initializeBody(2));
    expect(answer.status).toBe(503);
    expect(answer.headers.get('retry-after')).toMatch(/^\d+$/);
    expect((answer.messages[0] as { error: { code: number; data: { server: string } } }).error).toMatchObject({ code: -32016, data: { server: 'probed' } });
  });
});
