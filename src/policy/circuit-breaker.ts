/**
 * Circuit breaker per upstream (issue 15).
 * - closed: every request is admitted; `failureThreshold` consecutive failures (connection failure, timeout, 5xx)
 *   open the circuit. A success resets the count.
 * - open: every request is refused with `retryAfterSeconds` until `openSeconds` have passed.
 * - half-open: exactly ONE trial request is admitted at a time. `successThreshold` successful trials close the
 *   circuit; a failed trial opens it again. A trial whose outcome is never reported (and not cancelled) is
 *   presumed lost after `openSeconds`, and another trial is admitted.
 * Outcomes of requests admitted before the last state change are ignored (a slow success from before the
 * circuit opened does not close it). The health checker drives the same state through `trip` and `reset`.
 */
import type { CircuitBreakerConfig } from '../config/policy-schema.js';

export type CircuitState = 'closed' | 'open' | 'half-open';

export interface CircuitSnapshot {
  state: CircuitState;
  /** When the current state began (ms, the breaker's clock). */
  since: number;
  /** Consecutive failures counted in the closed state. */
  failures: number;
  /** Seconds until a trial is admitted (open), else 0. */
  retryAfterSeconds: number;
}

export interface CircuitPermit {
  success(): void;
  failure(): void;
  /** Neither (the client went away, the request was refused before reaching the upstream). */
  cancel(): void;
}

export type Admission = { ok: true; permit: CircuitPermit } | { ok: false; retryAfterSeconds: number };

export interface StateChange { from: CircuitState; to: CircuitState; at: number; reason: 'failures' | 'timer' | 'trial-failed' | 'trial-succeeded' | 'health' }

export interface CircuitBreaker {
  admit(): Admission;
  snapshot(): CircuitSnapshot;
  /** Open now, or restart the open period (the health checker found the upstream unhealthy). */
  trip(reason?: StateChange['reason']): void;
  /** Close now (the health checker found the upstream healthy again). */
  reset(reason?: StateChange['reason']): void;
}

/** True when a response status counts as an upstream failure: 5xx. Connection failures and timeouts are failures too. */
export const isUpstreamFailureStatus = (status: number): boolean => status >= 500;

export function createCircuitBreaker(options: CircuitBreakerConfig & { now: () => number; onStateChange?: (change: StateChange) => void }): CircuitBreaker {
  const { failureThreshold, openSeconds, successThreshold, now, onStateChange } = options;
  for (const [name, v] of Object.entries({ failureThreshold, openSeconds, successThreshold })) {
    if (!Number.isInteger(v) || v < 1) throw new TypeError(`${name} must be a positive integer`);
  }
  if (typeof now !== 'function') throw new TypeError('now must be a function');
  const openMs = openSeconds * 1_000;

  let state: CircuitState = 'closed';
  let since = now();
  let failures = 0;
  let successes = 0;
  /** Bumped on every state change: permits of an older generation are ignored. */
  let generation = 0;
  let trialSince: number | null = null;

  const move = (to: CircuitState, reason: StateChange['reason'], at: number): void => {
    const from = state;
    state = to;
    since = at;
    failures = 0;
    successes = 0;
    trialSince = null;
    generation++;
    if (from !== to) onStateChange?.({ from, to, at, reason });
  };

  const permit = (gen: number, trial: boolean): CircuitPermit => {
    const settled = { done: false };
    const settle = (): boolean => {
      if (settled.done) return false;
      settled.done = true;
      if (trial && gen === generation) trialSince = null;
      return gen === generation;
    };
    return {
      success() {
        if (!settle()) return;
        if (state === 'closed') failures = 0;
        else if (state === 'half-open' && ++successes >= successThreshold) move('closed', 'trial-succeeded', now());
      },
      failure() {
        if (!settle()) return;
        if (state === 'closed') {
          if (++failures >= failureThreshold) move('open', 'failures', now());
        } else if (state === 'half-open') move('open', 'trial-failed', now());
      },
      cancel() {
        settle();
      },
    };
  };

  // Closed-state permits are stateless but for the generation: one object per request is the whole cost.
  return {
    admit() {
      if (state === 'closed') return { ok: true, permit: permit(generation, false) };
      const t = now();
      if (state === 'open') {
        if (t - since < openMs) return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((openMs - (t - since)) / 1_000)) };
        move('half-open', 'timer', t);
      }
      // half-open: one trial at a time; a trial unreported for openSeconds is presumed lost.
      if (trialSince !== null && t - trialSince < openMs) return { ok: false, retryAfterSeconds: 1 };
      trialSince = t;
      return { ok: true, permit: permit(generation, true) };
    },
    snapshot() {
      const t = now();
      const open = state === 'open';
      const left = open ? openMs - (t - since) : 0;
      // An open circuit whose time is up reports half-open (the next request is the trial).
      if (open && left <= 0) return { state: 'half-open', since: since + openMs, failures, retryAfterSeconds: 0 };
      return { state, since, failures, retryAfterSeconds: open ? Math.max(1, Math.ceil(left / 1_000)) : 0 };
    },
    trip(reason = 'health') {
      move('open', reason, now()); // restarts the open period when already open (no state-change event then)
    },
    reset(reason = 'health') {
      if (state !== 'closed') move('closed', reason, now());
    },
  };
}
