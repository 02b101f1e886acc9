import { describe, expect, it } from 'vitest';
import { createCircuitBreaker, isUpstreamFailureStatus, type Admission, type CircuitPermit, type StateChange } from '../../../src/policy/circuit-breaker.js';
import { circuitOpenError } from '../../../src/policy/jsonrpc-errors.js';
import { circuitBreakerSchema } from '../../../src/config/policy-schema.js';

function setup(over: Partial<{ failureThreshold: number; openSeconds: number; successThreshold: number }> = {}) {
  let t = 10_000;
  const changes: StateChange[] = [];
  const breaker = createCircuitBreaker({ failureThreshold: 3, openSeconds: 30, successThreshold: 2, ...over, now: () => t, onStateChange: (c) => changes.push(c) });
  return { breaker, changes, advance: (ms: number) => { t += ms; }, now: () => t };
}
const permitOf = (a: Admission): CircuitPermit => {
  if (!a.ok) throw new Error('expected admission');
  return a.permit;
};

describe('circuit-breaker', () => {
  it('opens after failureThreshold consecutive failures and refuses with retryAfterSeconds', () => {
    const { breaker, changes, advance } = setup();
    for (let i = 0; i < 3; i++) permitOf(breaker.admit()).failure();
    expect(breaker.snapshot()).toEqual({ state: 'open', since: 10_000, failures: 0, retryAfterSeconds: 30 });
    expect(changes).toEqual([{ from: 'closed', to: 'open', at: 10_000, reason: 'failures' }]);
    advance(12_500);
    expect(breaker.admit()).toEqual({ ok: false, retryAfterSeconds: 18 });
  });

  it('resets the failure count on a success in the closed state', () => {
    const { breaker } = setup();
    permitOf(breaker.admit()).failure();
    permitOf(breaker.admit()).failure();
    expect(breaker.snapshot().failures).toBe(2);
    permitOf(breaker.admit()).success();
    permitOf(breaker.admit()).failure();
    permitOf(breaker.admit()).failure();
    expect(breaker.snapshot()).toEqual({ state: 'closed', since: 10_000, failures: 2, retryAfterSeconds: 0 });
  });

  it('admits exactly one trial at a time once openSeconds have passed', () => {
    const { breaker, changes, advance } = setup();
    for (let i = 0; i < 3; i++) permitOf(breaker.admit()).failure();
    advance(30_000);
    expect(breaker.snapshot()).toEqual({ state: 'half-open', since: 40_000, failures: 0, retryAfterSeconds: 0 });
    const trial = permitOf(breaker.admit());
    expect(breaker.admit()).toEqual({ ok: false, retryAfterSeconds: 1 });
    expect(breaker.admit()).toEqual({ ok: false, retryAfterSeconds: 1 });
    trial.success();
    expect(breaker.snapshot().state).toBe('half-open');
    const second = permitOf(breaker.admit());
    expect(breaker.admit().ok).toBe(false);
    second.success();
    expect(breaker.snapshot()).toEqual({ state: 'closed', since: 40_000, failures: 0, retryAfterSeconds: 0 });
    expect(changes.map((c) => `${c.from}>${c.to}:${c.reason}`)).toEqual(['closed>open:failures', 'open>half-open:timer', 'half-open>closed:trial-succeeded']);
  });

  it('opens again when the trial fails, for another openSeconds', () => {
    const { breaker, advance } = setup();
    for (let i = 0; i < 3; i++) permitOf(breaker.admit()).failure();
    advance(30_000);
    permitOf(breaker.admit()).failure();
    expect(breaker.snapshot()).toEqual({ state: 'open', since: 40_000, failures: 0, retryAfterSeconds: 30 });
    expect(breaker.admit()).toEqual({ ok: false, retryAfterSeconds: 30 });
  });

  it('frees the trial slot on cancel, and presumes an unreported trial lost after openSeconds', () => {
    const { breaker, advance } = setup();
    for (let i = 0; i < 3; i++) permitOf(breaker.admit()).failure();
    advance(30_000);
    permitOf(breaker.admit()).cancel();
    permitOf(breaker.admit()); // never reported
    expect(breaker.admit().ok).toBe(false);
    advance(29_999);
    expect(breaker.admit().ok).toBe(false);
    advance(1);
    expect(breaker.admit().ok).toBe(true);
  });

  it('ignores outcomes of requests admitted before the state changed, and a second report of one permit', () => {
    const { breaker, advance } = setup({ successThreshold: 1 });
    const slow = permitOf(breaker.admit());
    const slowFail = permitOf(breaker.admit());
    for (let i = 0; i < 3; i++) permitOf(breaker.admit()).failure();
    slow.success(); // from the closed generation: does not close anything
    expect(breaker.snapshot().state).toBe('open');
    advance(30_000);
    const trial = permitOf(breaker.admit());
    slowFail.failure(); // stale: does not reopen the half-open circuit
    expect(breaker.snapshot().state).toBe('half-open');
    trial.success();
    trial.failure();
    expect(breaker.snapshot().state).toBe('closed');
  });

  it('is tripped and reset from outside (health), with state-change events only on a change', () => {
    const { breaker, changes, advance } = setup();
    breaker.trip();
    advance(20_000);
    breaker.trip(); // restarts the open period
    expect(breaker.snapshot()).toEqual({ state: 'open', since: 30_000, failures: 0, retryAfterSeconds: 30 });
    breaker.reset();
    breaker.reset();
    expect(changes.map((c) => `${c.from}>${c.to}:${c.reason}`)).toEqual(['closed>open:health', 'open>closed:health']);
  });

  it('counts 5xx as failures, not 4xx', () => {
    expect([200, 401, 429, 499, 500, 502, 504].map(isUpstreamFailureStatus)).toEqual([false, false, false, false, true, true, true]);
  });

  it('checks its options when built', () => {
    expect(() => createCircuitBreaker({ failureThreshold: 0, openSeconds: 30, successThreshold: 2, now: () => 0 })).toThrow('failureThreshold must be a positive integer');
  });

  it('builds the 503 circuit-open error with Retry-After', () => {
    expect(circuitOpenError('a', 'demo', 17.2)).toEqual({
      status: 503,
      headers: { 'Retry-After': '18' },
      body: { jsonrpc: '2.0', id: 'a', error: { code: -32016, message: 'Upstream unavailable (circuit open)', data: { server: 'demo', retry_after: 18 } } },
    });
  });

  it('defaults the config block', () => {
    expect(circuitBreakerSchema.parse({})).toEqual({ failureThreshold: 5, openSeconds: 30, successThreshold: 2 });
  });
});
