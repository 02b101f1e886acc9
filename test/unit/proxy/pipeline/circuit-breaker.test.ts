import { describe, expect, it } from 'vitest';
import { Hono } from 'hono';
import { circuitBreaker } from '../../../../src/proxy/pipeline/circuit-breaker.js';
import type { McpEnv } from '../../../../src/proxy/pipeline/mcp-request.js';
import type { UpstreamOutcome } from '../../../../src/proxy/forward-target.js';
import { authenticatedRequest, stepApp } from './step-app.js';
import { policiesFor } from './policy-steps-support.js';

type Behaviour = UpstreamOutcome | 'throw' | 'silent';

/** The step, then a stand-in for credential + forward that reports each queued outcome through `onUpstreamOutcome`. */
function setup(body = '{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"x"}}') {
  let t = 1_000_000;
  const policies = policiesFor({ circuitBreaker: { failureThreshold: 2, openSeconds: 10, successThreshold: 1 } }, () => t);
  let upstreamReached = 0;
  const app = new Hono<McpEnv>();
  app.onError((e, c) => c.json({ onError: e.message }, 500));
  let behaviour: Behaviour = { kind: 'response', status: 200 };
  app.post('/mcp/:server', async function seed(c, next) {
    c.set('mcp', authenticatedRequest({ body: Buffer.from(body) }));
    await next();
  }, circuitBreaker({ policies }), (c) => {
    upstreamReached++;
    if (behaviour === 'throw') throw new Error('credential failed');
    if (behaviour !== 'silent') c.get('mcp').onUpstreamOutcome!(behaviour);
    return c.json({ forwarded: true });
  });
  return {
    breaker: policies.get('demo')!.breaker!,
    upstreamReached: () => upstreamReached,
    advance: (ms: number) => (t += ms),
    send: async (b: Behaviour) => {
      behaviour = b;
      return app.request('/mcp/demo', { method: 'POST' });
    },
  };
}

describe('circuitBreaker', () => {
  it('rejects missing options', () => {
    expect(() => circuitBreaker({} as never)).toThrow('circuitBreaker: policies is required');
  });

  it('passes a server without a breaker untouched', async () => {
    const { request, reached } = stepApp(circuitBreaker({ policies: policiesFor({}) }), () => authenticatedRequest({}));
    expect((await request('/mcp/demo', { method: 'POST' })).status).toBe(200);
    expect(reached[0]!.onUpstreamOutcome).toBeUndefined();
  });

  it('opens after failureThreshold failures (no connection, timeout, 5xx) and then answers 503 without going further', async () => {
    const s = setup();
    expect((await s.send({ kind: 'unreachable' })).status).toBe(200);
    expect((await s.send({ kind: 'response', status: 503 })).status).toBe(200);
    expect(s.breaker.snapshot().state).toBe('open');
    const refused = await s.send({ kind: 'response', status: 200 });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('10');
    expect(await refused.text()).toBe('{"jsonrpc":"2.0","id":4,"error":{"code":-32016,"message":"Upstream unavailable (circuit open)","data":{"server":"demo","retry_after":10}}}');
    expect(s.upstreamReached()).toBe(2);
  });

  it('counts a 4xx as a success (the upstream is up) and a timeout as a failure', async () => {
    const s = setup();
    await s.send({ kind: 'timeout' });
    await s.send({ kind: 'response', status: 404 });
    await s.send({ kind: 'timeout' });
    expect(s.breaker.snapshot()).toMatchObject({ state: 'closed', failures: 1 });
  });

  it('cancels the permit when nothing was reported (credential failure, client gone): a half-open trial is freed', async () => {
    const s = setup();
    await s.send({ kind: 'unreachable' });
    await s.send({ kind: 'unreachable' });
    s.advance(10_000);
    expect((await s.send('throw')).status).toBe(500); // the trial: its credential failed, the permit is cancelled
    expect((await s.send({ kind: 'client-gone' })).status).toBe(200); // the next trial is admitted; cancelled too
    expect(s.breaker.snapshot().state).toBe('half-open');
    expect((await s.send({ kind: 'response', status: 200 })).status).toBe(200);
    expect(s.breaker.snapshot().state).toBe('closed');
    expect(s.upstreamReached()).toBe(5);
  });

  it('answers with id null when the body is a batch', async () => {
    const s = setup('[{"jsonrpc":"2.0","id":1,"method":"ping"}]');
    await s.send({ kind: 'unreachable' });
    await s.send({ kind: 'unreachable' });
    expect(await (await s.send('silent')).json()).toMatchObject({ id: null, error: { code: -32016 } });
  });
});
