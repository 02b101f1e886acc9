/**
 * Issue 9, F6: the admin lockout was per address only (40 rotating addresses, 200 guesses, no 429). The peer
 * address is what `getConnInfo` reads, `env.incoming.socket.remoteAddress`, given here as app.request's env.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { GlobalFailureBudget } from '../../../src/http/failure-limiter.js';
import { ADMIN_TOKEN, startHarness, type Harness } from './harness.js';

const T = Date.UTC(2026, 11, 1, 12, 0, 0);
const addr = (i: number) => `198.51.100.${i}`;

describe('admin lockout across addresses', () => {
  let h: Harness;
  beforeEach(async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(T);
    h = await startHarness();
  });
  afterEach(async () => {
    await h.close();
    vi.useRealTimers();
  });

  const env = (address: string) => ({ incoming: { socket: { remoteAddress: address } } }) as never;
  const api = (address: string, token: string) =>
    Promise.resolve(h.keyhole.app.request(`${h.publicUrl}/admin/api/grants`, { headers: { authorization: `Bearer ${token}` } }, env(address)));
  const page = (address: string, token: string) =>
    Promise.resolve(
      h.keyhole.app.request(
        `${h.publicUrl}/admin/login`,
        { method: 'POST', body: new URLSearchParams({ token }).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } },
        env(address),
      ),
    );
  /** 20 wrong tokens from 10 addresses (2 each: far below the per-address limit of 5), page and API mixed. */
  async function spendBudget(first = 1): Promise<void> {
    for (let i = 0; i < 20; i++) {
      const a = addr(first + Math.floor(i / 2));
      const res = i % 2 ? await api(a, `wrong-${i}`) : await page(a, `wrong-${i}`);
      expect(res.status, `attempt ${i + 1}`).toBe(401);
    }
  }

  it('refuses every address with 429 and Retry-After once 20 failures from rotating addresses used the shared budget', async () => {
    await spendBudget();
    const fresh = await api(addr(200), `wrong-token-${ADMIN_TOKEN.length}`);
    expect(fresh.status).toBe(429);
    expect(fresh.headers.get('retry-after')).toBe('60');
    expect(fresh.headers.get('cache-control')).toBe('no-store');
    expect(await fresh.json()).toEqual({ error: 'too_many_requests', error_description: 'too many failed attempts; retry in 60 s' });
    const form = await page(addr(201), 'another-wrong-guess');
    expect(form.status).toBe(429);
    expect(form.headers.get('retry-after')).toBe('60');
    expect(await form.text()).toContain('Too many failed sign-in attempts. Try again in 60 seconds.');
    // Refused attempts are not compared, so not recorded as failures; the one that spent the budget says so.
    const failures = await h.store.events.list({ type: 'admin.sign_in_failed', limit: 100 });
    expect(failures).toHaveLength(20);
    expect(failures.filter((e) => e.detail.lockout_seconds === 60)).toHaveLength(1);
    expect(h.logs.join('\n')).not.toMatch(/wrong-|another-wrong-guess/);
    expect(h.logs.join('\n')).not.toContain(ADMIN_TOKEN);
  });

  it('refuses the right token during the lockout from an address it was never accepted at (no oracle), then accepts it once the lockout ends', async () => {
    await spendBudget();
    const during = await api(addr(200), ADMIN_TOKEN);
    expect(during.status).toBe(429);
    const signIn = await page(addr(200), ADMIN_TOKEN);
    expect(signIn.status).toBe(429);
    expect(signIn.headers.getSetCookie()).toEqual([]);
    vi.setSystemTime(T + 59_000);
    expect((await api(addr(200), ADMIN_TOKEN)).headers.get('retry-after')).toBe('1');
    vi.setSystemTime(T + 60_000);
    expect((await api(addr(200), ADMIN_TOKEN)).status).toBe(200);
    const after = await page(addr(201), ADMIN_TOKEN);
    expect(after.status).toBe(303);
    expect(after.headers.get('location')).toBe('/admin/grants');
  });

  it('keeps serving an address where the admin token was accepted (its own per-address limit still applies)', async () => {
    expect((await api('192.0.2.10', ADMIN_TOKEN)).status).toBe(200);
    await spendBudget();
    expect((await api(addr(200), ADMIN_TOKEN)).status).toBe(429);
    expect((await api('192.0.2.10', ADMIN_TOKEN)).status).toBe(200);
    expect((await page('192.0.2.10', ADMIN_TOKEN)).status).toBe(303);
    for (let i = 0; i < 5; i++) expect((await api('192.0.2.10', `wrong-${i}`)).status).toBe(401);
    const own = await api('192.0.2.10', ADMIN_TOKEN);
    expect(own.status).toBe(429);
    expect(await own.json()).toMatchObject({ error_description: expect.stringContaining('from this address') });
  });

  it('doubles the lockout while failures go on, up to 15 minutes, and lets it decay when they stop', async () => {
    const expected = [60, 120, 240, 480, 900, 900];
    let now = T;
    for (const [n, seconds] of expected.entries()) {
      await spendBudget(1 + n * 10);
      const res = await api(addr(250), 'wrong');
      expect(res.status, `lockout ${n + 1}`).toBe(429);
      expect(res.headers.get('retry-after')).toBe(String(seconds));
      now += seconds * 1000;
      vi.setSystemTime(now);
    }
    // 20 quiet minutes: two doublings off (900 → 480 → 240).
    vi.setSystemTime(now + 20 * 60_000);
    await spendBudget(100);
    expect((await api(addr(250), 'wrong')).headers.get('retry-after')).toBe('240');
  });
});

describe('GlobalFailureBudget', () => {
  it('counts failures in a fixed window: fewer than the budget per window never locks', () => {
    const b = new GlobalFailureBudget(3, 1_000, { baseMs: 5_000, maxMs: 20_000, decayMs: 60_000 });
    expect(b.fail(0)).toBe(0);
    expect(b.fail(500)).toBe(0);
    expect(b.fail(1_000)).toBe(0); // a new window
    expect(b.fail(1_500)).toBe(0);
    expect(b.retryAfter(1_600)).toBe(0);
    expect(b.fail(1_700)).toBe(5);
    expect(b.retryAfter(1_700)).toBe(5);
    expect(b.retryAfter(6_699)).toBe(1);
    expect(b.retryAfter(6_700)).toBe(0);
  });

  it('refuses nonsense options', () => {
    expect(() => new GlobalFailureBudget(0, 1_000, { baseMs: 1, maxMs: 1, decayMs: 1 })).toThrow(RangeError);
    expect(() => new GlobalFailureBudget(1, 1_000, { baseMs: 2, maxMs: 1, decayMs: 1 })).toThrow(RangeError);
  });
});
