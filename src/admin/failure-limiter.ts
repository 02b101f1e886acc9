/**
 * Counts failed admin sign-in attempts per client address in a fixed window. Once an address has `limit`
 * failures in the current window it is refused before the token is even compared (so a correct guess made
 * while blocked is refused too) until the window ends. Bounded: at most `maxKeys` addresses are tracked.
 * @see https://cheatsheetseries.owasp.org/cheatsheets/Authentication_Cheat_Sheet.html#protect-against-automated-attacks
 */
export class FailureLimiter {
  private readonly windows = new Map<string, { start: number; failures: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly maxKeys = 10_000,
  ) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError('FailureLimiter: limit must be a positive integer');
    if (!Number.isFinite(windowMs) || windowMs <= 0) throw new RangeError('FailureLimiter: windowMs must be positive');
  }

  /** Seconds until the address may try again; 0 when it is not blocked. */
  retryAfter(key: string, now = Date.now()): number {
    const w = this.current(key, now);
    if (!w || w.failures < this.limit) return 0;
    return Math.max(1, Math.ceil((w.start + this.windowMs - now) / 1000));
  }

  isBlocked(key: string, now = Date.now()): boolean {
    return this.retryAfter(key, now) > 0;
  }

  /** Records one failure. */
  fail(key: string, now = Date.now()): void {
    let w = this.current(key, now);
    if (!w) {
      if (this.windows.size >= this.maxKeys) this.sweep(now);
      w = { start: now, failures: 0 };
      this.windows.set(key, w);
    }
    w.failures += 1;
  }

  private current(key: string, now: number): { start: number; failures: number } | undefined {
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
