/**
 * Upstream refresh under faults, end to end with a real oidc-provider that rotates refresh tokens
 * (`rotateRefreshToken: () => true`, examples/demo/upstream-authorization-server.ts) and a real SQLite file
 * (issue 12 §3):
 * - the upstream answers refreshes after keyhole's 10 s timeout (a koa middleware delays the answer AFTER the
 *   provider committed the rotation): keyhole never abandons the exchange, persists the late answer, and the next
 *   refreshes succeed: 10 grants, 0 lost, 0 invalid_grant;
 * - the disk fills during a refresh storm (injected: the store's upstream-credential writes fail with SQLITE_FULL for
 *   a while): every rotated token is kept and retried, /readyz says so, the upstream sees no replay, and once space
 *   is back every grant goes on refreshing: 10 grants, 0 lost, 0 invalid_grant;
 * - the authorization server is down (stopped: connections refused) for longer than the skew window while the
 *   access token is still valid: calls keep working on it, refresh attempts back off, `upstream.refresh_failed`
 *   events stay bounded, and the grant refreshes once the server is back.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { KoaContextWithOIDC, Next } from 'oidc-provider';
import { startStack, type Stack } from '../helpers/stack.js';
import { authorizeClient, openSession, rawPost, toolCall } from '../helpers/raw-mcp.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Counters { refreshes: number; invalidGrant: number; issuedRefreshTokens: Map<string, string> }

/** Counts refresh grants and invalid_grant answers at the provider; `delayMs` holds each refresh answer back. */
function instrument(stack: Stack, delay: { ms: number }): Counters {
  const c: Counters = { refreshes: 0, invalidGrant: 0, issuedRefreshTokens: new Map() };
  stack.as.provider.on('grant.error', (_ctx: unknown, err: { error?: string }) => {
    if (err?.error === 'invalid_grant') c.invalidGrant += 1;
  });
  stack.as.intercept(async (ctx: KoaContextWithOIDC, next: Next) => {
    await next();
    const params = ctx.oidc?.params as { grant_type?: string } | undefined;
    if (ctx.path !== '/token' || params?.grant_type !== 'refresh_token') return;
    const body = ctx.body as { refresh_token?: string; error?: string } | undefined;
    if (body?.refresh_token) {
      c.refreshes += 1;
      const sub = (ctx.oidc?.entities as { Account?: { accountId?: string } } | undefined)?.Account?.accountId;
      if (sub) c.issuedRefreshTokens.set(sub, body.refresh_token);
    }
    // The rotation is committed at the provider; only its answer is late.
    if (delay.ms > 0) await sleep(delay.ms);
  });
  return c;
}

async function callTool(url: string, token: string, session: string, text: string) {
  const r = await rawPost(url, token, toolCall(1, 'echo', { text }), session);
  return r;
}

describe('upstream refresh faults with a real rotating oidc-provider', () => {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  it('never abandons a refresh the upstream answers after the 10 s timeout: 10 grants, 0 lost, 0 invalid_grant', async () => {
    // Tokens live 40 s; refreshed from 1 s after receipt on (skew 39 s): every call past that second refreshes.
    stack = await startStack({ upstreamAccessTokenTtlSeconds: 40, config: { tokens: { upstreamRefreshSkewSeconds: 39 } } });
    const delay = { ms: 0 };
    const counters = instrument(stack, delay);
    const users = Array.from({ length: 10 }, (_, i) => `late${i}`);
    const clients: Array<{ user: string; token: string; session: string }> = [];
    for (const user of users) {
      const { token } = await authorizeClient(stack.mcpUrl, user);
      clients.push({ user, token, session: await openSession(stack.mcpUrl, token) });
    }
    expect(counters.refreshes).toBe(0);
    await sleep(1_500);
    delay.ms = 11_000; // beyond keyhole's 10 s
    const first = await Promise.all(clients.map((c) => callTool(stack!.mcpUrl, c.token, c.session, `first ${c.user}`)));
    // Each caller stopped waiting after 10 s and was served with its still-valid token.
    expect(first.map((r) => r.status)).toEqual(clients.map(() => 200));
    await stack.keyhole.tokenManager.drain(30_000); // the late answers arrive and are written
    delay.ms = 0;
    expect(counters.refreshes).toBe(10);
    // What keyhole stored is what the provider issued last, for every grant.
    const grants = await stack.keyhole.store.grants.list({ status: 'active' });
    expect(grants).toHaveLength(10);
    for (const g of grants) {
      const entry = (await stack.keyhole.vault.get(g.id))!;
      expect(await entry.openRefreshToken()).toBe(counters.issuedRefreshTokens.get(g.subject));
    }
    // The next refreshes spend the rotated tokens: all succeed.
    await sleep(1_500);
    const second = await Promise.all(clients.map((c) => callTool(stack!.mcpUrl, c.token, c.session, `second ${c.user}`)));
    expect(second.map((r) => r.status)).toEqual(clients.map(() => 200));
    expect(second.map((r) => JSON.stringify(r.messages))).toEqual(clients.map((c) => expect.stringContaining(`second ${c.user}`)));
    expect(counters.refreshes).toBe(20);
    expect(counters.invalidGrant).toBe(0);
    expect(await stack.keyhole.store.grants.list({ status: 'active' })).toHaveLength(10);
    expect(await stack.keyhole.store.events.list({ type: 'upstream.refresh_failed' })).toEqual([]);
    const logs = stack.logs.join('\n');
    for (const rt of counters.issuedRefreshTokens.values()) expect(logs).not.toContain(rt);
  }, 120_000);

  it('loses no grant when the disk fills during a refresh storm: rotated tokens kept, retried, reported, never replayed', async () => {
    // Tokens live 40 s; refreshed from 2 s after receipt on (skew 38 s).
    stack = await startStack({ upstreamAccessTokenTtlSeconds: 40, config: { tokens: { upstreamRefreshSkewSeconds: 38 } } });
    const counters = instrument(stack, { ms: 0 });
    const clients: Array<{ user: string; token: string; session: string }> = [];
    for (const user of Array.from({ length: 10 }, (_, i) => `full${i}`)) {
      const { token } = await authorizeClient(stack.mcpUrl, user);
      clients.push({ user, token, session: await openSession(stack.mcpUrl, token) });
    }
    // The disk fills: writes of upstream credentials fail (as SQLite does with SQLITE_FULL); reads still work.
    const store = stack.keyhole.store;
    const real = store.upstreamCredentials;
    const full = { on: true, failures: 0 };
    Object.defineProperty(store, 'upstreamCredentials', {
      configurable: true,
      value: new Proxy(real, {
        get(target, prop) {
          const v = Reflect.get(target, prop) as unknown;
          if (typeof v !== 'function') return v;
          if (prop === 'put' || prop === 'putIfVersion' || prop === 'markRefreshFailing') {
            return (...args: unknown[]) => {
              if (!full.on) return (v as (...a: unknown[]) => unknown).apply(target, args);
              full.failures += 1;
              return Promise.reject(Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }));
            };
          }
          return (v as (...a: unknown[]) => unknown).bind(target);
        },
      }),
    });
    await sleep(2_500);
    // A refresh storm: 5 calls per grant at once, twice. Served on the still-valid tokens.
    for (let round = 0; round < 2; round++) {
      const replies = await Promise.all(clients.flatMap((c) => Array.from({ length: 5 }, (_, i) => callTool(stack!.mcpUrl, c.token, c.session, `${c.user} ${round}.${i}`))));
      expect(replies.map((r) => r.status)).toEqual(replies.map(() => 200));
    }
    expect(counters.refreshes).toBe(10); // one per grant: the spent tokens were not sent again
    expect(full.failures).toBeGreaterThan(10);
    expect(stack.keyhole.tokenManager.pendingWrites()).toHaveLength(10);
    const notReady = await fetch(`${stack.publicUrl}/readyz`);
    expect(notReady.status).toBe(503);
    expect(((await notReady.json()) as { failed: string[] }).failed).toEqual(['upstream refresh writes']);
    expect(await stack.keyhole.store.events.list({ type: 'upstream.refresh_write_failed' })).toHaveLength(10);

    full.on = false; // space is back
    await stack.keyhole.tokenManager.drain(30_000);
    expect(stack.keyhole.tokenManager.pendingWrites()).toEqual([]);
    expect((await fetch(`${stack.publicUrl}/readyz`)).status).toBe(200);
    expect(await stack.keyhole.store.events.list({ type: 'upstream.refresh_write_recovered' })).toHaveLength(10);
    for (const g of await stack.keyhole.store.grants.list({ status: 'active' })) {
      expect(await (await stack.keyhole.vault.get(g.id))!.openRefreshToken()).toBe(counters.issuedRefreshTokens.get(g.subject));
    }
    // The next refreshes spend the rotated tokens: all succeed.
    await sleep(2_500);
    const after = await Promise.all(clients.map((c) => callTool(stack!.mcpUrl, c.token, c.session, `after ${c.user}`)));
    expect(after.map((r) => r.status)).toEqual(clients.map(() => 200));
    expect(counters.refreshes).toBe(20);
    expect(counters.invalidGrant).toBe(0);
    expect(await stack.keyhole.store.grants.list({ status: 'active' })).toHaveLength(10);
  }, 120_000);

  it('keeps working on the still-valid token while the authorization server is down longer than the skew window; events bounded', async () => {
    // Tokens live 30 s, refreshed from 12 s before expiry on (skew 12 s): the refresh window opens 18 s after receipt.
    stack = await startStack({ upstreamAccessTokenTtlSeconds: 30, config: { tokens: { upstreamRefreshSkewSeconds: 12 } } });
    const counters = instrument(stack, { ms: 0 });
    const clients: Array<{ token: string; session: string }> = [];
    const signInStarted = Date.now(); // every token was received after this moment
    for (const user of ['down0', 'down1']) {
      const { token } = await authorizeClient(stack.mcpUrl, user);
      clients.push({ token, session: await openSession(stack.mcpUrl, token) });
    }
    await sleep(Math.max(0, signInStarted + 14_000 - Date.now()));
    const stoppedAt = Date.now();
    await stack.as.stop(); // connections refused from here on
    const statuses: number[] = [];
    // Through the refresh window until 2.5 s before any token can expire, 4 calls every 250 ms.
    while (Date.now() < signInStarted + 27_500) {
      const rs = await Promise.all([0, 1, 0, 1].map((i) => callTool(stack!.mcpUrl, clients[i]!.token, clients[i]!.session, 'during')));
      statuses.push(...rs.map((r) => r.status));
      await sleep(250);
    }
    expect(statuses.length).toBeGreaterThan(40);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    const failed = await stack.keyhole.store.events.list({ type: 'upstream.refresh_failed' });
    // Once per grant per interval (60 s), not once per request.
    expect(failed.length).toBeGreaterThanOrEqual(1);
    expect(failed.length).toBeLessThanOrEqual(2);
    expect(failed.every((e) => (e.detail as { fatal?: boolean }).fatal === false)).toBe(true);
    expect(Date.now() - stoppedAt).toBeGreaterThan(12_000); // down for longer than the skew window
    await stack.as.start();
    // Back: the grants refresh (once the backoff admits a trial) and keep working; nothing was lost.
    const deadline = Date.now() + 60_000;
    while (counters.refreshes < 2 && Date.now() < deadline) {
      await Promise.all(clients.map((c) => callTool(stack!.mcpUrl, c.token, c.session, 'after')));
      await sleep(500);
    }
    expect(counters.refreshes).toBeGreaterThanOrEqual(2);
    const after = await Promise.all(clients.map((c) => callTool(stack!.mcpUrl, c.token, c.session, 'after')));
    expect(after.map((r) => r.status)).toEqual([200, 200]);
    expect(counters.invalidGrant).toBe(0);
    expect(await stack.keyhole.store.grants.list({ status: 'active' })).toHaveLength(2);
  }, 120_000);
});
