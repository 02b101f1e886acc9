/**
 * The upstream token manager on a real store and vault, against a fake upstream client: single-flight refresh,
 * the stale-token comparison of forced calls, transient vs fatal refresh failures, and invariant 8 (a rotated
 * refresh token is persisted before the new access token is handed out).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GrantEndedError, UpstreamGrantError, UpstreamUnavailableError } from '../../../src/upstream/errors.js';
import { UpstreamTokenManager } from '../../../src/upstream/token-manager.js';
import { bearerHeader } from '../../../src/upstream/credential-source.js';
import { createHarness, T0, type Harness } from './token-manager-harness.js';

describe('UpstreamTokenManager', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness();
  });
  afterEach(() => h.close());

  it('makes exactly one upstream refresh for 50 concurrent callers with an expired token', async () => {
    const m = h.manager();
    await h.seed(m, 15);
    h.now.t = T0 + 16;
    let release!: () => void;
    h.upstream.gate = new Promise((r) => (release = r));
    const calls = Array.from({ length: 50 }, () => m.getCredential(h.grant, false));
    await new Promise((r) => setTimeout(r, 10));
    release();
    const results = await Promise.all(calls);
    expect(h.upstream.refreshes).toEqual(['rt-0']);
    expect(new Set(results.map((r) => r.value))).toEqual(new Set(['Bearer at-1']));
    expect(results[0]).toEqual({ header: 'Authorization', value: 'Bearer at-1' });
  });

  it('hands a forced caller naming the refused token the replacement another caller already refreshed (no second refresh)', async () => {
    h.upstream.expiresIn = 300;
    const m = h.manager();
    await h.seed(m, 300);
    expect(await m.getCredential(h.grant, false)).toEqual(bearerHeader('at-0'));
    // Two requests got at-0 and both got 401 from the upstream; the first forces a refresh, then the second.
    expect(await m.getCredential(h.grant, true, bearerHeader('at-0'))).toEqual(bearerHeader('at-1'));
    expect(await m.getCredential(h.grant, true, bearerHeader('at-0'))).toEqual(bearerHeader('at-1'));
    expect(h.upstream.refreshes).toEqual(['rt-0']);
    // A 401 to the current token does refresh.
    expect(await m.getCredential(h.grant, true, bearerHeader('at-1'))).toEqual(bearerHeader('at-2'));
    expect(h.upstream.refreshes).toEqual(['rt-0', 'rt-1']);
  });

  it('joins a refresh in flight when forced with the refused token (one refresh for both)', async () => {
    h.upstream.expiresIn = 300;
    const m = h.manager();
    await h.seed(m, 300);
    let release!: () => void;
    h.upstream.gate = new Promise((r) => (release = r));
    const first = m.getCredential(h.grant, true, bearerHeader('at-0'));
    await new Promise((r) => setTimeout(r, 10));
    const second = m.getCredential(h.grant, true, bearerHeader('at-0'));
    release();
    expect(await Promise.all([first, second])).toEqual([bearerHeader('at-1'), bearerHeader('at-1')]);
    expect(h.upstream.refreshes).toEqual(['rt-0']);
  });

  it('refreshes when forced with the refused token while a plain load of that same token is in flight', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const vault = { get: async (id: string) => (await gate, h.vault.get(id)), put: h.vault.put.bind(h.vault) };
    await h.seed(h.manager(), 300);
    const m = h.manager({ vault }); // a cold cache: the first call loads at-0 from the vault
    const plain = m.getCredential(h.grant, false);
    const forced = m.getCredential(h.grant, true, bearerHeader('at-0'));
    release();
    expect(await plain).toEqual(bearerHeader('at-0'));
    expect(await forced).toEqual(bearerHeader('at-1'));
    expect(h.upstream.refreshes).toEqual(['rt-0']);
  });

  it('uses the token another keyhole on the same database refreshed when forced with its stale one (no second refresh)', async () => {
    h.upstream.expiresIn = 300;
    const a = h.manager();
    const b = h.manager();
    await h.seed(a, 300);
    expect(await b.getCredential(h.grant, false)).toEqual(bearerHeader('at-0')); // b caches at-0
    expect(await a.getCredential(h.grant, true)).toEqual(bearerHeader('at-1'));
    expect(await b.getCredential(h.grant, true)).toEqual(bearerHeader('at-1')); // the stored token is not the stale one
    expect(h.upstream.refreshes).toEqual(['rt-0']);
  });

  it('persists the rotated refresh token before the caller receives the new access token (invariant 8)', async () => {
    const order: string[] = [];
    const vault = {
      get: (id: string) => h.vault.get(id),
      put: async (...args: Parameters<Harness['vault']['put']>) => {
        const stored = await h.vault.put(...args);
        const entry = await h.vault.get(args[0]);
        order.push(`vault holds ${await entry!.openRefreshToken()}`);
        return stored;
      },
    };
    const m = h.manager({ vault });
    await h.seed(m, 15);
    order.length = 0;
    h.now.t = T0 + 16;
    h.upstream.onIssue = (t) => order.push(`upstream issued ${t.refreshToken}`);
    const credential = await m.getCredential(h.grant, false);
    order.push(`caller received ${credential.value}`);
    expect(order).toEqual(['upstream issued rt-1', 'vault holds rt-1', 'caller received Bearer at-1']);
    expect(await h.store.upstreamCredentials.find(h.grant.id)).toMatchObject({ accessExpiresAt: T0 + 16 + 15, updatedAt: T0 + 16 });
  });

  it.each([
    ['a 5xx', new UpstreamUnavailableError('server'), 'server'],
    ['a timeout', new UpstreamUnavailableError('timeout'), 'timeout'],
    ['a network failure', new TypeError('fetch failed'), 'network'],
  ])('keeps the grant on %s: UpstreamUnavailableError, backoff, one event per interval, refreshFailingSince set, then cleared by a success', async (_, error, kind) => {
    const m = h.manager();
    await h.seed(m, 15);
    h.now.t = T0 + 16; // really expired: nothing to fall back on
    h.upstream.fail = error;
    const failure = await m.getCredential(h.grant, false).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(UpstreamUnavailableError);
    expect((failure as UpstreamUnavailableError).kind).toBe(kind);
    expect(h.upstream.refreshes).toHaveLength(1);
    // Within the backoff (2 s ± 20 %): refused at once, the upstream is not asked.
    h.now.t = T0 + 17;
    for (let i = 0; i < 5; i++) await expect(m.getCredential(h.grant, false)).rejects.toBeInstanceOf(UpstreamUnavailableError);
    expect(h.upstream.refreshes).toHaveLength(1);
    // After it: one trial, which fails again (recorded within the same interval: not a second event).
    h.now.t = T0 + 20;
    await expect(m.getCredential(h.grant, false)).rejects.toBeInstanceOf(UpstreamUnavailableError);
    expect(h.upstream.refreshes).toHaveLength(2);
    expect((await h.store.grants.find(h.grant.id))!.status).toBe('active');
    expect((await h.store.upstreamCredentials.find(h.grant.id))!.refreshFailingSince).toBe(T0 + 16); // since the first failure
    expect(h.ended).toEqual([]);
    expect((await h.store.events.list({ type: 'upstream.refresh_failed' })).map((e) => e.detail)).toEqual([{ reason: kind, fatal: false }]);
    h.upstream.fail = undefined;
    h.now.t = T0 + 30; // the second pause (4 s ± 20 %) is over
    expect(await m.getCredential(h.grant, false)).toEqual(bearerHeader('at-3'));
    expect((await h.store.upstreamCredentials.find(h.grant.id))!.refreshFailingSince).toBeNull();
  });

  it.each(['invalid_grant', 'invalid_client'])('ends the grant everywhere on %s: GrantEndedError, revoked, credential gone', async (code) => {
    const m = h.manager();
    await h.seed(m, 15);
    h.now.t = T0 + 16;
    h.upstream.fail = new UpstreamGrantError(code);
    await expect(m.getCredential(h.grant, false)).rejects.toBeInstanceOf(GrantEndedError);
    expect(h.ended).toEqual([[h.grant.id, 'upstream_invalid_grant', 'upstream']]);
    expect(await h.store.grants.find(h.grant.id)).toMatchObject({ status: 'revoked', statusReason: 'upstream_invalid_grant' });
    expect(await h.store.upstreamCredentials.find(h.grant.id)).toBeUndefined();
    expect(h.upstream.revoked).toEqual(['rt-0']); // RFC 7009 at the upstream, by the revoker
    expect((await h.store.events.list({ type: 'upstream.refresh_failed' }))[0]?.detail).toMatchObject({ reason: code, fatal: true });
    await expect(m.getCredential(h.grant, false)).rejects.toBeInstanceOf(GrantEndedError);
    expect(h.upstream.refreshes).toEqual(['rt-0']);
  });

  it('ends the grant when its token expired and there is no refresh token', async () => {
    const m = h.manager();
    await h.seed(m, 15, false);
    h.now.t = T0 + 16;
    await expect(m.getCredential(h.grant, false)).rejects.toBeInstanceOf(GrantEndedError);
    expect(h.ended).toEqual([[h.grant.id, 'upstream_token_expired', 'keyhole']]);
    expect(await h.store.grants.find(h.grant.id)).toMatchObject({ status: 'revoked', statusReason: 'upstream_token_expired' });
    expect(h.upstream.refreshes).toEqual([]);
  });

  it('refuses invalid options when built', () => {
    const deps = { store: h.store, vault: h.vault, events: { record: async () => undefined }, clients: new Map(), clock: () => T0, endGrant: async () => undefined };
    expect(() => new UpstreamTokenManager({ ...deps, skewSeconds: -1 })).toThrow(/skewSeconds/);
    expect(() => new UpstreamTokenManager({ ...deps, skewSeconds: Number.NaN })).toThrow(/skewSeconds/);
    expect(() => new UpstreamTokenManager({ ...deps, endGrant: undefined as never })).toThrow(/endGrant/);
    expect(() => new UpstreamTokenManager(deps)).not.toThrow();
  });
});
