/**
 * Active health checks feeding a circuit breaker (issue 15). Every `intervalSeconds` (counted from the end of
 * the previous probe, so probes never overlap) `probe()` runs with a `timeoutSeconds` deadline; a timeout, a
 * rejection or `false` is a failure.
 * - `unhealthyThreshold` consecutive failures: unhealthy, the breaker is tripped (and kept open on each further
 *   failure);
 * - `healthyThreshold` consecutive successes: healthy; the breaker is reset if (and only if) the health checker
 *   opened it: a healthy `/healthz` does not overrule failures the breaker counted on real requests.
 * Timers come from an injectable scheduler; the default one unrefs them, so a checker never keeps Node alive.
 */
import type { HealthConfig } from '../config/policy-schema.js';
import type { CircuitBreaker } from './circuit-breaker.js';

export interface Scheduler {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const unrefScheduler: Scheduler = {
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface HealthStatus {
  /** null until a threshold has been reached once. */
  healthy: boolean | null;
  consecutiveFailures: number;
  consecutiveSuccesses: number;
  lastCheckedAt: number | null;
}

export interface HealthChecker {
  start(): void;
  /** Stops the timers; a probe still running is ignored when it ends. */
  stop(): void;
  status(): HealthStatus;
  /** Runs one probe now (tests, admin "check now") and applies its result. */
  checkNow(): Promise<boolean>;
}

export function createHealthChecker(options: Omit<HealthConfig, 'path'> & {
  probe: () => Promise<boolean>;
  breaker: CircuitBreaker;
  now: () => number;
  scheduler?: Scheduler;
}): HealthChecker {
  const { probe, breaker, now, intervalSeconds, timeoutSeconds, unhealthyThreshold, healthyThreshold } = options;
  const scheduler = options.scheduler ?? unrefScheduler;
  if (typeof probe !== 'function') throw new TypeError('probe must be a function');
  for (const [name, v] of Object.entries({ intervalSeconds, timeoutSeconds, unhealthyThreshold, healthyThreshold })) {
    if (!Number.isInteger(v) || v < 1) throw new TypeError(`${name} must be a positive integer`);
  }

  let running = false;
  let timer: unknown = null;
  let epoch = 0; // bumped by stop(): results of older probes are dropped
  let trippedByUs = false;
  const status: HealthStatus = { healthy: null, consecutiveFailures: 0, consecutiveSuccesses: 0, lastCheckedAt: null };

  const runProbe = (): Promise<boolean> =>
    new Promise<boolean>((resolve) => {
      const deadline = scheduler.setTimeout(() => resolve(false), timeoutSeconds * 1_000);
      const settle = (ok: boolean): void => {
        scheduler.clearTimeout(deadline);
        resolve(ok);
      };
      try {
        probe().then((ok) => settle(ok === true), () => settle(false));
      } catch {
        settle(false);
      }
    });

  const apply = (ok: boolean): void => {
    status.lastCheckedAt = now();
    if (ok) {
      status.consecutiveFailures = 0;
      status.consecutiveSuccesses++;
      if (status.consecutiveSuccesses >= healthyThreshold) {
        status.healthy = true;
        if (trippedByUs) {
          trippedByUs = false;
          breaker.reset('health');
        }
      }
    } else {
      status.consecutiveSuccesses = 0;
      status.consecutiveFailures++;
      if (status.consecutiveFailures >= unhealthyThreshold) {
        status.healthy = false;
        trippedByUs = true;
        breaker.trip('health');
      }
    }
  };

  const tick = async (): Promise<void> => {
    const mine = epoch;
    timer = null;
    const ok = await runProbe();
    if (mine !== epoch) return;
    apply(ok);
    if (running) timer = scheduler.setTimeout(() => void tick(), intervalSeconds * 1_000);
  };

  return {
    start() {
      if (running) return;
      running = true;
      timer = scheduler.setTimeout(() => void tick(), 0);
    },
    stop() {
      running = false;
      epoch++;
      if (timer !== null) scheduler.clearTimeout(timer);
      timer = null;
    },
    status: () => ({ ...status }),
    async checkNow() {
      const mine = epoch;
      const ok = await runProbe();
      if (mine === epoch) apply(ok);
      return ok;
    },
  };
}
