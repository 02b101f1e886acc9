/**
 * The token manager under faults (issue 12 §3), on a real SQLite store and vault with a fake upstream client that
 * counts every refresh token it is sent (a replay of a spent one would show up there):
 * - a refresh answered after the caller stopped waiting is persisted and used (never abandoned);
 * - a rotated refresh token that cannot be written is kept, retried, reported, and never replayed;
 * - an authorization server that is down: the still-valid access token keeps working, refreshes back off, events
 *   stay bounded;
 * - two token managers on one store (two instances) refresh a grant once;
 * - drain() waits for background refreshes and retried writes.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../../src/store/types.js';
import { UpstreamVault } from '../../../src/vault/upstream-vault.js';
import { UpstreamUnavailableError } from '../../../src/upstream/errors.js';
import { bearerHeader } from '../../../src/upstream/credential-source.js';
import { createHarness, T0, type Harness } from './token-manager-harness.js';
import { healthRoutes } from '../../../src/metrics/health-routes.js';
import { refreshWritesCheck } from '../../../src/observability.js';

/** The store, except that writes of upstream credentials fail like a full disk while `full.on`. */
function fillableStore(store: Store, full: { on: boolean; failures: number }): Store {
  const fail = () => {
    full.failures += 1;
    return Promise.reject(Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }));
  };
  const creds = store.upstreamCredentials;
  const upstreamCredentials = new Proxy(creds, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      if (prop === 'put' || prop === 'putIfVersion' || prop === 'markRefreshFailing') {
        return (...args: unknown[]) => (full.on ? fail() : (v as (...a: unknown[]) => unknown).apply(target, args));
      }
      return (v as (...a: unknown[]) => unknown).bind(target);
    },
  });
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'upstreamCredentials') return upstreamCredentials;
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('UpstreamTokenManager under faults', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness();
  });
  afterEach(() => h.close());

  it('persists and uses a refresh answered after the caller stopped waiting (the exchange is never abandoned)', async () => {
    const m = h.manager({ callerWaitMs: 100 });
    await h.seed(m, 15);
    h.now.t = T0 + 16; // really expired: a caller has nothing to fall back on
    let answer!: () => void;
    h.upstream.gate = new Promise<void>((r) => (answer = r));
    const first = await m.getCredential(h.grant, false).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(UpstreamUnavailableError);
    expect((first as UpstreamUnavailableError).kind).toBe('timeout');
    // Still answering: the next caller joins the same exchange instead of spending rt-0 again.
    await expect(m.getCredential(h.grant, false)).rejects.toBeInstanceOf(UpstreamUnavailableError);
    expect(m.refreshesInFlight()).toBe(1);
    answer(); // the upstream answers late
    await m.drain(5_000);
    expect(m.refreshesInFlight()).toBe(0);
    const entry = (await h.vault.get(h.grant.id))!;
    expect(await entry.openRefreshToken()).toBe('rt-1');
    expect(await m.getCredential(h.grant, false)).toEqual(bearerHeader('at-1'));
    expect(h.upstream.refreshes).toEqual(['rt-0']);
    // A second manager (a restarted instance) reads the late answer from the store.
    expect(await h.manager().getCredential(h.grant, false)).toEqual(bearerHeader('at-1'));
  });

  it('keeps a rotated refresh token it cannot write, retries the write, reports it, and never replays the spent one', async () => {
    const full = { on: false, failures: 0 };
    const vault = new UpstreamVault({ store: fillableStore(h.store, full), cipher: h.cipher, backend: 'sqlite', keychain: undefined });
    const trouble: string[] = [];
    const m = h.manager({ vault, writeRetry: { firstMs: 10, maxMs: 40 }, onWriteTrouble: (id, state, error) => trouble.push(`${id} ${state} ${error}`) });
    await h.seed(m, 15);
    h.now.t = T0 + 12; // the refresh window is open (auto skew 3.75 s), the token is valid until T0 + 15
    full.on = true;
    // A refresh storm while the disk is full: one refresh, its result cannot be written; the old token still works.
    const storm = await Promise.all(Array.from({ length: 30 }, () => m.getCredential(h.grant, false)));
    expect(new Set(storm.map((c) => c.value))).toEqual(new Set(['Bearer at-0']));
    await sleep(100);
    expect(m.pendingWrites()).toEqual([h.grant.id]);
    for (let i = 0; i < 20; i++) expect(await m.getCredential(h.grant, false)).toEqual(bearerHeader('at-0'));
    // A forced caller (the upstream refused at-0) is not handed at-0 again, and causes no refresh either.
    await expect(m.getCredential(h.grant, true)).rejects.toBeInstanceOf(UpstreamUnavailableError);
    h.now.t = T0 + 16; // the old access token has expired: a transient error, still no second refresh
    await expect(m.getCredential(h.grant, false)).rejects.toBeInstanceOf(UpstreamUnavailableError);
    expect(h.upstream.refreshes).toEqual(['rt-0']);
    expect(full.failures).toBeGreaterThan(1); // retried
    expect(await (await h.vault.get(h.grant.id))!.openRefreshToken()).toBe('rt-0'); // not written yet
    const health = healthRoutes({ checks: [refreshWritesCheck(m)] });
    const notReady = await health.request('/readyz');
    expect(notReady.status).toBe(503);
    const body = await notReady.json() as { failed: string[]; checks: Record<string, { error?: string }> };
    expect(body.failed).toEqual(['upstream refresh writes']);
    expect(body.checks['upstream refresh writes']!.error).toBe('UnwrittenRefreshTokens');

    full.on = false; // space is back
    await m.drain(5_000);
    expect(m.pendingWrites()).toEqual([]);
    expect((await health.request('/readyz')).status).toBe(200);
    expect(await (await h.vault.get(h.grant.id))!.openRefreshToken()).toBe('rt-1');
    expect(await m.getCredential(h.grant, false)).toEqual(bearerHeader('at-1'));
    expect(h.upstream.refreshes).toEqual(['rt-0']); // the spent rt-0 was never sent again
    expect(trouble).toEqual([`${h.grant.id} failing SQLITE_FULL`, `${h.grant.id} recovered `]);
    const events = [...await h.store.events.list({ type: 'upstream.refresh_write_failed' }), ...await h.store.events.list({ type: 'upstream.refresh_write_recovered' })];
    expect(events.map((e) => [e.type, e.grantId])).toEqual([['upstream.refresh_write_failed', h.grant.id], ['upstream.refresh_write_recovered', h.grant.id]]);
    expect(events[0]!.detail).toEqual({ error: 'SQLITE_FULL' });
    expect(JSON.stringify(events)).not.toMatch(/rt-\d|at-\d/); // ids only, never a token value
    // Later refreshes go on from rt-1.
    h.now.t = T0 + 16 + 16;
    expect(await m.getCredential(h.grant, false)).toEqual(bearerHeader('at-2'));
    expect(h.upstream.refreshes).toEqual(['rt-0', 'rt-1']);
  });

  it('keeps using the current access token while the authorization server is down, backs off, and records failures once per interval', async () => {
    const m = h.manager({ failureEventIntervalSeconds: 60 });
    await h.seed(m, 300); // refreshed from T0 + 240 on (auto skew 60 s)
    h.upstream.fail = new UpstreamUnavailableError('network');
    // 59 s inside the refresh window, 10 calls a second: every call works on the still-valid token.
    for (let t = T0 + 241; t < T0 + 300; t++) {
      h.now.t = t;
      const results = await Promise.all(Array.from({ length: 10 }, () => m.getCredential(h.grant, false)));
      expect(results).toEqual(Array.from({ length: 10 }, () => bearerHeader('at-0')));
    }
    // Backoff 2, 4, 8, 16, 32 s (± 20 %): at most 6 attempts in 59 s, not 590.
    expect(h.upstream.refreshes.length).toBeGreaterThanOrEqual(4);
    expect(h.upstream.refreshes.length).toBeLessThanOrEqual(6);
    const failed = await h.store.events.list({ type: 'upstream.refresh_failed' });
    expect(failed.length).toBeLessThanOrEqual(1);
    expect(failed.map((e) => e.detail)).toEqual([{ reason: 'network', fatal: false }]);
    expect((await h.store.grants.find(h.grant.id))!.status).toBe('active');
    // Once it has really expired, callers get the transient error (never a revoked grant).
    h.now.t = T0 + 301;
    await expect(m.getCredential(h.grant, false)).rejects.toBeInstanceOf(UpstreamUnavailableError);
    // The server is back: the next admitted trial refreshes.
    h.upstream.fail = undefined;
    h.now.t = T0 + 400;
    const after = await m.getCredential(h.grant, false);
    expect(after).toEqual(bearerHeader(`at-${h.upstream.refreshes.length}`));
  });

  it('two token managers on one store (two instances) refresh a grant once, the loser uses the winner\'s token', async () => {
    const a = h.manager();
    const b = h.manager();
    await h.seed(a, 15);
    h.now.t = T0 + 16;
    let answer!: () => void;
    h.upstream.gate = new Promise<void>((r) => (answer = r));
    const calls = Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).getCredential(h.grant, false));
    await sleep(50);
    answer();
    const results = await Promise.all(calls);
    expect(new Set(results.map((r) => r.value))).toEqual(new Set(['Bearer at-1']));
    expect(h.upstream.refreshes).toEqual(['rt-0']);
    expect((await h.store.upstreamCredentials.find(h.grant.id))!.version).toBe(2); // seeded (1), refreshed once (2)
  });
});
