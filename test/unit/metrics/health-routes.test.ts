import { describe, expect, it } from 'vitest';
import { healthRoutes } from '../../../src/metrics/health-routes.js';

class DiskFullError extends Error { override name = 'DiskFullError'; }

describe('health-routes', () => {
  it('answers /healthz with 200 {"status":"ok"}', async () => {
    const res = await healthRoutes({ checks: [{ name: 'never run', check: async () => { throw new Error('x'); } }] }).request('/healthz');
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('answers /readyz 200 with each check result and the detail section', async () => {
    const app = healthRoutes({
      checks: [{ name: 'database writable', check: async () => true }, { name: 'keyring loaded', check: async () => undefined }],
      detail: async () => ({ circuits: { demo: 'open' } }),
      now: () => 0,
    });
    const res = await app.request('/readyz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      status: 'ready',
      checks: { 'database writable': { ok: true, durationMs: 0 }, 'keyring loaded': { ok: true, durationMs: 0 } },
      detail: { circuits: { demo: 'open' } },
    });
  });

  it('answers /readyz 503 naming the failed checks: error name, false, timeout', async () => {
    const app = healthRoutes({
      checks: [
        { name: 'database writable', check: async () => true },
        { name: 'disk space', check: async () => { throw new DiskFullError('/var/lib/keyhole is full'); } },
        { name: 'keychain answers', check: () => new Promise(() => {}), timeoutMs: 20 },
        { name: 'keyring loaded', check: async () => false },
      ],
      now: () => 0,
    });
    const res = await app.request('/readyz');
    expect(res.status).toBe(503);
    const body = await res.json();
    expect(body).toEqual({
      status: 'not_ready',
      failed: ['disk space', 'keychain answers', 'keyring loaded'],
      checks: {
        'database writable': { ok: true, durationMs: 0 },
        'disk space': { ok: false, durationMs: 0, error: 'DiskFullError' },
        'keychain answers': { ok: false, durationMs: 0, error: 'timeout' },
        'keyring loaded': { ok: false, durationMs: 0, error: 'false' },
      },
    });
    expect(JSON.stringify(body)).not.toContain('/var/lib');
  });

  it('keeps the verdict when the detail callback throws', async () => {
    const app = healthRoutes({ checks: [{ name: 'database writable', check: async () => true }], detail: () => { throw new Error('breaker gone'); }, now: () => 0 });
    const res = await app.request('/readyz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ready', checks: { 'database writable': { ok: true, durationMs: 0 } }, detail: { error: 'detail unavailable' } });
  });

  it('runs the checks at once, not one after another', async () => {
    const started: number[] = [];
    const t0 = Date.now();
    const slow = (name: string) => ({ name, check: async () => { started.push(Date.now() - t0); await new Promise((r) => setTimeout(r, 60)); } });
    await healthRoutes({ checks: [slow('a'), slow('b'), slow('c')] }).request('/readyz');
    expect(Math.max(...started)).toBeLessThan(50);
  });

  it('checks its options when built', () => {
    expect(() => healthRoutes({ checks: [{ name: 'a', check: async () => 1 }, { name: 'a', check: async () => 1 }] })).toThrow('two checks are named "a"');
    expect(() => healthRoutes({ checks: [{ name: 'a', check: async () => 1, timeoutMs: 0 }] })).toThrow('timeoutMs must be a positive integer');
  });
});
