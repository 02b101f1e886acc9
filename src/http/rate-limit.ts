/**
 * A fixed-window, in-memory rate limiter keyed by the client address. Used for registration (clients that
 * register on every connection) and, later, admin sign-in. Bounded: at most `maxKeys` addresses are tracked.
 */
/** The one client-address rule (trustProxy-aware) lives in client-address.ts; re-exported for older call sites. */
export { clientAddress } from './client-address.js';

export class FixedWindowLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();
  constructor(private readonly limit: number, private readonly windowMs: number, private readonly maxKeys = 10_000) {}

  /** Returns true when the call is allowed. */
  take(key: string, now = Date.now()): boolean {
    let w = this.windows.get(key);
    if (!w || now - w.start >= this.windowMs) {
      if (!w && this.windows.size >= this.maxKeys) this.sweep(now);
      w = { start: now, count: 0 };
      this.windows.set(key, w);
    }
    w.count += 1;
    return w.count <= this.limit;
  }

  private sweep(now: number): void {
    for (const [k, w] of this.windows) if (now - w.start >= this.windowMs) this.windows.delete(k);
    if (this.windows.size >= this.maxKeys) this.windows.clear();
  }
}
