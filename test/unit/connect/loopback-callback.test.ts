import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { judgeAuthorizationResponse } from '../../../src/connect/authorization-response.js';
import { startLoopbackCallback, type LoopbackCallback } from '../../../src/connect/loopback-callback.js';

const judge = (q: URLSearchParams) => judgeAuthorizationResponse(q, { isPendingState: (s) => s === 'good' });

describe('startLoopbackCallback', () => {
  const open: LoopbackCallback[] = [];
  afterEach(async () => {
    for (const c of open.splice(0)) await c.close();
  });
  const start = async (opts?: Parameters<typeof startLoopbackCallback>[0]) => {
    const c = await startLoopbackCallback(opts);
    open.push(c);
    return c;
  };

  it('listens on 127.0.0.1 with an http://127.0.0.1:<port>/callback redirect URL', async () => {
    const c = await start();
    expect(c.redirectUrl).toBe(`http://127.0.0.1:${c.port}/callback`);
  });

  it('answers 400 while no sign-in waits', async () => {
    const c = await start();
    const res = await fetch(`${c.redirectUrl}?code=x&state=good`);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('No sign-in in progress');
  });

  it('ignores a wrong state and keeps waiting, then resolves with the right one (no-store, no-referrer)', async () => {
    const c = await start();
    const waiting = c.waitForCode(judge, 5_000);
    const forged = await fetch(`${c.redirectUrl}?code=evil&state=bad`);
    expect(forged.status).toBe(400);
    const real = await fetch(`${c.redirectUrl}?code=real&state=good`);
    expect(real.status).toBe(200);
    expect(real.headers.get('cache-control')).toBe('no-store');
    expect(real.headers.get('referrer-policy')).toBe('no-referrer');
    await expect(waiting).resolves.toEqual({ code: 'real', state: 'good' });
    const replay = await fetch(`${c.redirectUrl}?code=real&state=good`);
    expect(replay.status).toBe(400); // accepted once only
  });

  it('rejects the wait on an error response with a known state', async () => {
    const c = await start();
    const failed = expect(c.waitForCode(judge, 5_000)).rejects.toThrow(/access_denied/);
    const res = await fetch(`${c.redirectUrl}?error=access_denied&state=good`);
    expect(res.status).toBe(400);
    await failed;
  });

  it('rejects the wait after the timeout', async () => {
    const c = await start();
    await expect(c.waitForCode(judge, 50)).rejects.toThrow(/did not finish/);
  });

  it('answers 404 off the callback path and 405 for other methods', async () => {
    const c = await start();
    expect((await fetch(`http://127.0.0.1:${c.port}/other`)).status).toBe(404);
    expect((await fetch(c.redirectUrl, { method: 'POST' })).status).toBe(405);
  });

  it('uses the preferred port when free, an ephemeral one when taken, and fails when the port is strict', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const taken = (blocker.address() as { port: number }).port;
    try {
      const fallback = await start({ preferredPort: taken });
      expect(fallback.port).not.toBe(taken);
      await expect(startLoopbackCallback({ preferredPort: taken, strictPort: true })).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await new Promise<void>((r) => blocker.close(() => r()));
    }
    const reused = await start({ preferredPort: taken });
    expect(reused.port).toBe(taken);
  });
});
