/**
 * In-memory fixed-window counters keyed by the client address (or any key): the one primitive every keyhole rate
 * limit is built on. Registration and /authorize count requests (FixedWindowLimiter); admin sign-in counts
 * failures (./failure-limiter.ts). Bounded: at most `maxKeys` keys are tracked.
 */
/** The one client-address rule (trustProxy-aware) lives in client-address.ts; re-exported for older call sites. */
export { clientAddress } from './client-address.js';

/**
 * Counts per key in fixed windows of `windowMs`; a key's window starts at its first count. Bounded: when a new key
 * would exceed `maxKeys`, the ended windows are dropped, and if that is not enough, all of them.
 */
export class FixedWindowCounter {
  private readonly windows = new Map<string, { start: number; count: number }>();
  constructor(readonly windowMs: number, private readonly maxKeys = 10_000) {}

  /** The key's count in its current window (0 when none) and when that window ends. */
  peek(key: string, now = Date.now()): { count: number; endsAt: number } {
    const w = this.current(key, now);
    return w ? { count: w.count, endsAt: w.start + this.windowMs } : { count: 0, endsAt: now + this.windowMs };
  }

  /** Counts one for `key`; returns the count in the current window, this one included. */
  add(key: string, now = Date.now()): number {
    let w = this.current(key, now);
    if (!w) {
      if (this.windows.size >= this.maxKeys) this.sweep(now);
      w = { start: now, count: 0 };
      this.windows.set(key, w);
    }
    w.count += 1;
    return w.count;
  }

  /** Forgets `key`: its next count starts a new window. */
  reset(key: string): void {
    this.windows.delete(key);
  }

  private current(key: string, now: number): { start: number; count: number } | undefined {
    const w = this.windows.get(key);
    if (w && now - w.start >= this.windowMs) {
      this.windows.delete(key);
      return undefined;
    }
    return w;
  }

  private sweep(now: number): void {
    for (const [k, w] of this.windows) if (now - w.start >= this.windowMs) this.windows.delete(k);
    if (this.windows.size >= this.maxKeys) this.windows.clear();
  }
}

/**
 * This instance's share of a limit meant for the whole deployment, when `instances` keyhole instances share the
 * load (config `instances`): rate limits live in each instance's memory, so each enforces `limit / instances`
 * (at least 1). With a load balancer that spreads requests evenly the sum matches the configured limit; an uneven
 * spread refuses early on the busier instance. docs/architecture.md, "Several instances".
 */
export function perInstance(limit: number, instances: number): number {
  return instances <= 1 ? limit : Math.max(1, Math.floor(limit / instances));
}

/** At most `limit` calls per key and window (registration, /authorize). */
export class FixedWindowLimiter {
  private readonly counter: FixedWindowCounter;
  constructor(private readonly limit: number, windowMs: number, maxKeys = 10_000) {
    this.counter = new FixedWindowCounter(windowMs, maxKeys);
  }

  /** Returns true when the call is allowed. */
  take(key: string, now = Date.now()): boolean {
    return this.counter.add(key, now) <= this.limit;
  }
}

