/** UpstreamTokenManager.drain (graceful shutdown, src/http/drain.ts): resolves only once every refresh in flight is persisted. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from './token-manager-harness.js';

describe('UpstreamTokenManager.drain', () => {
  let h: Harness;
  beforeEach(async () => { h = await createHarness(); });
  afterEach(async () => { await h.close(); });

  it('resolves at once when nothing is in flight', async () => {
    await expect(h.manager().drain()).resolves.toBeUndefined();
  });

  it('waits for a refresh held at the upstream, and its rotated token is stored when drain resolves', async () => {
    const m = h.manager();
    await h.seed(m, 15);
    h.now.t += 60; // expired: the next use refreshes
    let release!: () => void;
    h.upstream.gate = new Promise((r) => (release = r));
    const use = m.getCredential(h.grant, false);
    while (h.upstream.refreshes.length === 0) await new Promise((r) => setTimeout(r, 1));
    let drained = false;
    const drain = m.drain().then(() => (drained = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(drained).toBe(false); // the refresh is still at the upstream
    release();
    await drain;
    const entry = await h.vault.get(h.grant.id);
    expect(await entry!.openRefreshToken()).toBe('rt-1');
    expect(await entry!.openAccessToken()).toBe('at-1');
    await expect(use).resolves.toEqual({ header: 'Authorization', value: 'Bearer at-1' });
  });

  it('resolves when the refresh failed too (nothing left to persist)', async () => {
    const m = h.manager();
    await h.seed(m, 15);
    h.now.t += 60;
    h.upstream.fail = new Error('boom');
    const use = m.getCredential(h.grant, false).catch((e: unknown) => e);
    await m.drain();
    expect(await use).toBeInstanceOf(Error);
  });
});
