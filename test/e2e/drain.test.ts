/**
 * Graceful drain (issue 12 §3 "Drain"): SIGTERM stops accepting connections, /readyz answers 503, GET event streams
 * end at once (clients reconnect), in-flight calls finish within shutdown.graceSeconds, refreshes are persisted, and
 * the process exits 0.
 * - `keyhole serve` in a child process: a SIGTERM during a ~2 s streaming tool call (SDK upstream `count`, a progress
 *   notification every 200 ms) lets the call finish with its full result; meanwhile a new connection is refused.
 * - in process (keyhole.drain): /readyz 503 while draining, a GET stream ended at once, and a call that outlives the
 *   grace period ended cleanly (a clean end of the event stream, not a reset) when the grace period is over.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectThroughKeyhole } from '../helpers/sdk-client.js';
import { startKeyholeProcess, type KeyholeProcess } from '../helpers/keyhole-process.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { authorizeClient, openSession, PROTOCOL, sseMessages, toolCall } from '../helpers/raw-mcp.js';

/** 'refused' when a TCP connect to the port is refused, 'accepted' when it connects. */
function tryConnect(port: number): Promise<'refused' | 'accepted'> {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port });
    sock.once('connect', () => { sock.destroy(); resolve('accepted'); });
    sock.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED' ? 'refused' : 'accepted'));
  });
}

describe('keyhole serve: SIGTERM drains', () => {
  let kp: KeyholeProcess;
  beforeAll(async () => {
    kp = await startKeyholeProcess({ config: { shutdown: { graceSeconds: 20 } } });
  }, 120_000);
  afterAll(async () => { await kp?.close(); });

  it('lets a streaming call finish with its full result, refuses new connections meanwhile, and exits 0', async () => {
    const run = await kp.start();
    const conn = await connectThroughKeyhole(kp.mcpUrl, { login: 'alice' });
    conn.client.onerror = () => undefined; // the GET stream ends on drain and its reconnect is refused: expected
    const progress: number[] = [];
    let firstProgress!: () => void;
    const started = new Promise<void>((r) => (firstProgress = r));
    let finished = false;
    const call = conn.client.callTool({ name: 'count', arguments: { n: 10, delayMs: 200 } }, undefined, {
      onprogress: (p) => { progress.push(p.progress); firstProgress(); }, timeout: 30_000,
    }).finally(() => { finished = true; });
    await started;
    expect(await tryConnect(kp.port)).toBe('accepted');
    run.child.kill('SIGTERM');

    let refusedWhileRunning = false;
    for (let i = 0; i < 40 && !finished; i++) {
      if ((await tryConnect(kp.port)) === 'refused' && !finished) { refusedWhileRunning = true; break; }
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(refusedWhileRunning).toBe(true);

    const result = (await call) as { content: Array<{ text: string }>; isError?: boolean };
    expect(result.isError).toBeFalsy();
    expect(result.content[0]!.text).toBe('counted 10');
    expect(progress).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);

    const exit = await run.done;
    expect(exit).toMatchObject({ code: 0, signal: null });
    const drainLines = exit.stderr.split('\n').filter((l) => l.includes('"keyhole.drain"')).map((l) => JSON.parse(l) as { step: string; outcome: string });
    expect(drainLines.map((l) => l.step)).toEqual([
      'stop-accepting', 'end-listen-streams', 'finish-requests', 'end-streams', 'close-connections', 'persist-refreshes',
      'stop-timers', 'flush-events', 'flush-audit', 'close-upstream', 'close-store',
    ]);
    expect(drainLines.every((l) => l.outcome === 'done')).toBe(true);
    expect(exit.stderr).toContain('"keyhole.stopped"');
    await conn.client.close().catch(() => undefined);

    // The database was closed cleanly: keyhole starts again on it and the grant works (no re-consent).
    const again = await kp.start();
    try {
      const { reconnect } = await import('../helpers/sdk-client.js');
      const c2 = await reconnect(kp.mcpUrl, conn.provider);
      const r2 = (await c2.client.callTool({ name: 'whoami', arguments: {} })) as { content: Array<{ text: string }> };
      expect(JSON.parse(r2.content[0]!.text).sub).toBe('alice');
      await c2.client.close();
    } finally {
      again.child.kill('SIGTERM');
      expect((await again.done).code).toBe(0);
    }
  }, 90_000);
});

describe('keyhole.drain in process', () => {
  let stack: Stack;
  beforeAll(async () => { stack = await startStack(); }, 60_000);
  afterAll(async () => { await stack?.close(); });

  it('answers /readyz 503 while draining, ends a GET stream at once, and ends a call cleanly when the grace period is over', async () => {
    expect((await stack.keyhole.app.request('/readyz')).status).toBe(200);
    const { token } = await authorizeClient(stack.mcpUrl, 'bob');
    const session = await openSession(stack.mcpUrl, token);
    const headers = { authorization: `Bearer ${token}`, 'mcp-protocol-version': PROTOCOL, 'mcp-session-id': session };
    const events: string[] = [];

    const listen = await fetch(stack.mcpUrl, { headers: { ...headers, accept: 'text/event-stream' } });
    expect(listen.status).toBe(200);
    expect(listen.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const listenEnded = listen.text().then(() => events.push('listen-ended'));

    const call = await fetch(stack.mcpUrl, {
      method: 'POST', headers: { ...headers, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ ...toolCall(7, 'count', { n: 40, delayMs: 100 }), params: { name: 'count', arguments: { n: 40, delayMs: 100 }, _meta: { progressToken: 'p' } } }),
    });
    expect(call.status).toBe(200);
    const reader = call.body!.getReader();
    const first = await reader.read(); // the first progress notification: the call is under way
    expect(first.done).toBe(false);
    let rest = Buffer.from(first.value!).toString();
    const callEnded = (async () => {
      for (;;) {
        const { done, value } = await reader.read(); // a reset would reject ("terminated"); a clean end resolves
        if (done) break;
        rest += Buffer.from(value).toString();
      }
      events.push('call-ended');
    })();

    const steps: Array<{ name: string; outcome: string }> = [];
    const drained = stack.keyhole.drain({ graceMs: 800, onStep: (r) => steps.push(r) });
    const ready = await stack.keyhole.app.request('/readyz');
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'draining' });

    await drained;
    await Promise.all([listenEnded, callEnded]);
    expect(events).toEqual(['listen-ended', 'call-ended']);
    expect(steps.find((s) => s.name === 'finish-requests')?.outcome).toBe('timed_out');
    expect(steps.filter((s) => s.outcome === 'failed')).toEqual([]);
    const messages = sseMessages(rest) as Array<{ method?: string; id?: number }>;
    expect(messages.length).toBeGreaterThan(0);
    expect(messages.every((m) => m.method === 'notifications/progress')).toBe(true); // cut before its result
    expect(messages.some((m) => m.id === 7)).toBe(false);
  }, 60_000);
});
