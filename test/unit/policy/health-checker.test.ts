import { describe, expect, it } from 'vitest';
import { createCircuitBreaker } from '../../../src/policy/circuit-breaker.js';
import { createHealthChecker, unrefScheduler, type Scheduler } from '../../../src/policy/health-checker.js';
import { healthSchema } from '../../../src/config/policy-schema.js';

/** A manual scheduler: timers fire only when the test runs them. */
function manualScheduler() {
  let next = 1;
  const timers = new Map<number, { fn: () => void; ms: number }>();
  const scheduler: Scheduler = {
    setTimeout(fn, ms) {
      const id = next++;
      timers.set(id, { fn, ms });
      return id;
    },
    clearTimeout: (h) => void timers.delete(h as number),
  };
  /** Fire every pending timer of exactly `ms`. */
  const fire = async (ms: number) => {
    for (const [id, t] of [...timers]) if (t.ms === ms) { timers.delete(id); t.fn(); }
    for (let i = 0; i < 5; i++) await Promise.resolve();
  };
  return { scheduler, timers, fire };
}

const config = { intervalSeconds: 10, timeoutSeconds: 3, unhealthyThreshold: 2, healthyThreshold: 2 };

function setup(results: Array<boolean | 'hang' | 'throw'>) {
  const s = manualScheduler();
  const breaker = createCircuitBreaker({ failureThreshold: 5, openSeconds: 30, successThreshold: 2, now: () => 0 });
  let calls = 0;
  const probe = () => {
    const r = results[Math.min(calls++, results.length - 1)];
    if (r === 'hang') return new Promise<boolean>(() => {});
    if (r === 'throw') return Promise.reject(new Error('ECONNREFUSED'));
    return Promise.resolve(r!);
  };
  const checker = createHealthChecker({ ...config, probe, breaker, now: () => 5, scheduler: s.scheduler });
  return { ...s, breaker, checker, calls: () => calls };
}

describe('health-checker', () => {
  it('trips the breaker after unhealthyThreshold failures (false, rejection) and resets it after healthyThreshold successes', async () => {
    const h = setup([false, 'throw', true, true]);
    h.checker.start();
    await h.fire(0);
    expect(h.checker.status()).toEqual({ healthy: null, consecutiveFailures: 1, consecutiveSuccesses: 0, lastCheckedAt: 5 });
    expect(h.breaker.snapshot().state).toBe('closed');
    await h.fire(10_000);
    expect(h.checker.status().healthy).toBe(false);
    expect(h.breaker.snapshot().state).toBe('open');
    await h.fire(10_000);
    expect(h.breaker.snapshot().state).toBe('open');
    await h.fire(10_000);
    expect(h.checker.status()).toEqual({ healthy: true, consecutiveFailures: 0, consecutiveSuccesses: 2, lastCheckedAt: 5 });
    expect(h.breaker.snapshot().state).toBe('closed');
    expect(h.calls()).toBe(4);
  });

  it('counts a probe that outlives timeoutSeconds as a failure', async () => {
    const h = setup(['hang']);
    h.checker.start();
    await h.fire(0);
    expect([...h.timers.values()].map((t) => t.ms)).toEqual([3_000]); // only the deadline: no overlapping probe
    await h.fire(3_000);
    expect(h.checker.status().consecutiveFailures).toBe(1);
    expect([...h.timers.values()].map((t) => t.ms)).toEqual([10_000]);
  });

  it('does not reset a breaker that real request failures opened', async () => {
    const h = setup([true]);
    for (let i = 0; i < 5; i++) {
      const a = h.breaker.admit();
      if (a.ok) a.permit.failure();
    }
    expect(h.breaker.snapshot().state).toBe('open');
    await h.checker.checkNow();
    await h.checker.checkNow();
    expect(h.checker.status().healthy).toBe(true);
    expect(h.breaker.snapshot().state).toBe('open');
  });

  it('stops: no interval timer left, and a probe still running when stopped is ignored', async () => {
    const s = manualScheduler();
    const breaker = createCircuitBreaker({ failureThreshold: 5, openSeconds: 30, successThreshold: 2, now: () => 0 });
    let answer: (ok: boolean) => void = () => {};
    const checker = createHealthChecker({ ...config, unhealthyThreshold: 1, probe: () => new Promise<boolean>((r) => { answer = r; }), breaker, now: () => 5, scheduler: s.scheduler });
    checker.start();
    checker.start(); // idempotent
    expect(s.timers.size).toBe(1);
    await s.fire(0);
    checker.stop();
    answer(false);
    for (let i = 0; i < 5; i++) await Promise.resolve();
    expect(checker.status()).toEqual({ healthy: null, consecutiveFailures: 0, consecutiveSuccesses: 0, lastCheckedAt: null });
    expect(breaker.snapshot().state).toBe('closed');
    expect([...s.timers.values()].map((t) => t.ms)).toEqual([]); // the deadline was cleared by the answer; no next probe
  });

  it('unrefs its default timers', () => {
    const handle = unrefScheduler.setTimeout(() => {}, 60_000) as NodeJS.Timeout;
    expect(handle.hasRef()).toBe(false);
    unrefScheduler.clearTimeout(handle);
  });

  it('rejects a timeout longer than the interval in config', () => {
    const r = healthSchema.safeParse({ intervalSeconds: 2, timeoutSeconds: 3 });
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual(['timeoutSeconds: must not exceed intervalSeconds']);
    expect(healthSchema.parse({})).toEqual({ path: '/healthz', intervalSeconds: 10, timeoutSeconds: 3, unhealthyThreshold: 3, healthyThreshold: 2 });
  });
});
