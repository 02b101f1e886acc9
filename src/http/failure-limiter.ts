import { FixedWindowCounter } from './rate-limit.js';

/**
 * Counts failed admin sign-in attempts per client address in a fixed window. Once an address has `limit`
 * failures in the current window it is refused before the token is even compared (so a correct guess made
 * while blocked is refused too) until the window ends. Bounded: at most `maxKeys` addresses are tracked.
 * @see https://cheatsheetseries.owasp.org/cheatsheets/Authentication_Cheat_Sheet.html#protect-against-automated-attacks
 */
export class FailureLimiter {
  private readonly failures: FixedWindowCounter;

  constructor(
    private readonly limit: number,
    windowMs: number,
    maxKeys = 10_000,
  ) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError('FailureLimiter: limit must be a positive integer');
    if (!Number.isFinite(windowMs) || windowMs <= 0) throw new RangeError('FailureLimiter: windowMs must be positive');
    this.failures = new FixedWindowCounter(windowMs, maxKeys);
  }

  /** Seconds until the address may try again; 0 when it is not blocked. */
  retryAfter(key: string, now = Date.now()): number {
    const w = this.failures.peek(key, now);
    if (w.count < this.limit) return 0;
    return Math.max(1, Math.ceil((w.endsAt - now) / 1000));
  }

  isBlocked(key: string, now = Date.now()): boolean {
    return this.retryAfter(key, now) > 0;
  }

  /** Records one failure. */
  fail(key: string, now = Date.now()): void {
    this.failures.add(key, now);
  }
}

/**
 * A failure budget shared by every address, with exponential backoff that decays. Rotating addresses defeats a
 * per-address limit (issue 9, F6: 40 addresses, 200 guesses in 215 ms); this caps the total. Once `budget`
 * failures fall in one window, every attempt is refused for a backoff period (`baseMs`, doubled for each lockout
 * that follows the last within `decayMs` of its end, at most `maxMs`). The backoff decays: each quiet `decayMs`
 * after a lockout halves the next one (one doubling less), so a lockout is always bounded and eventually ends.
 * @see https://cheatsheetseries.owasp.org/cheatsheets/Authentication_Cheat_Sheet.html#account-lockout
 */
export class GlobalFailureBudget {
  private readonly failures: FixedWindowCounter;
  private lockedUntil = -Infinity;
  /** Lockouts in a row (decays by one per quiet `decayMs`). */
  private strikes = 0;

  constructor(
    private readonly budget: number,
    windowMs: number,
    private readonly backoff: { baseMs: number; maxMs: number; decayMs: number },
  ) {
    if (!Number.isInteger(budget) || budget < 1) throw new RangeError('GlobalFailureBudget: budget must be a positive integer');
    if (!(windowMs > 0 && backoff.baseMs > 0 && backoff.maxMs >= backoff.baseMs && backoff.decayMs > 0)) {
      throw new RangeError('GlobalFailureBudget: windowMs, baseMs and decayMs must be positive, maxMs ≥ baseMs');
    }
    this.failures = new FixedWindowCounter(windowMs, 1);
  }

  /** Seconds until anyone may try again; 0 when not locked. */
  retryAfter(now = Date.now()): number {
    return now < this.lockedUntil ? Math.max(1, Math.ceil((this.lockedUntil - now) / 1000)) : 0;
  }

  /** Records one failure; returns the lockout it started, in seconds, or 0. */
  fail(now = Date.now()): number {
    if (now < this.lockedUntil) return 0; // only trusted addresses get to compare during a lockout
    if (this.failures.add('*', now) < this.budget) return 0;
    // Decay: one strike less for every quiet decayMs since the last lockout ended.
    if (this.strikes > 0 && now > this.lockedUntil) this.strikes = Math.max(0, this.strikes - Math.floor((now - this.lockedUntil) / this.backoff.decayMs));
    const ms = Math.min(this.backoff.maxMs, this.backoff.baseMs * 2 ** this.strikes);
    // No strikes beyond the one that reaches maxMs, so the decay starts at once when the failures stop.
    this.strikes = Math.min(this.strikes + 1, Math.ceil(Math.log2(this.backoff.maxMs / this.backoff.baseMs)));
    this.lockedUntil = now + ms;
    this.failures.reset('*'); // a new window after the lockout
    return Math.ceil(ms / 1000);
  }
}

/** Why an admin attempt is refused before the token is compared. */
export interface AdminAttemptRefusal {
  /** Seconds, for `Retry-After`. */
  retryAfter: number;
  /** `address`: this address's own limit; `all`: the budget shared by every address. */
  scope: 'address' | 'all';
}

export interface AdminAttemptGuardOptions {
  /** Failures per address and minute. Default 5. */
  perAddressPerMinute?: number;
  /** Failures from all addresses together per minute before a lockout. Default 20. */
  globalPerMinute?: number;
  /** First lockout, longest lockout, and the quiet time that takes one doubling off. Defaults 60 s, 15 min, 10 min. */
  backoff?: { baseMs: number; maxMs: number; decayMs: number };
  /** How long an address where the admin token was accepted is exempt from the shared budget. Default 24 h. */
  trustMs?: number;
  now?: () => number;
}

/**
 * Admin sign-in (page) and admin API bearer attempts, page and API together. Two limits, both checked before
 * the token is compared, so a right token sent while refused is refused too (comparing it would give an
 * unthrottled oracle: "429 for wrong, 200 for right"):
 * - per address (FailureLimiter): 5 failures a minute;
 * - across addresses (GlobalFailureBudget): 20 failures a minute, then 429 for everyone, with a backoff that
 *   doubles while the failures go on (60 s … 15 min) and decays when they stop.
 * The rightful admin is never locked out for good: every refusal carries `Retry-After` and ends; signed-in
 * sessions are not affected (no token is compared); and an address where the token was accepted in the last
 * 24 h is exempt from the shared budget (only its own per-address limit applies), so rotating addresses
 * elsewhere cannot lock out the admin's usual place or a script calling the API.
 */
export class AdminAttemptGuard {
  private readonly perAddress: FailureLimiter;
  private readonly global: GlobalFailureBudget;
  private readonly trusted = new Map<string, number>();
  private readonly trustMs: number;
  private readonly now: () => number;

  constructor(opts: AdminAttemptGuardOptions = {}, private readonly maxTrusted = 1_000) {
    this.perAddress = new FailureLimiter(opts.perAddressPerMinute ?? 5, 60_000);
    this.global = new GlobalFailureBudget(opts.globalPerMinute ?? 20, 60_000, opts.backoff ?? { baseMs: 60_000, maxMs: 15 * 60_000, decayMs: 10 * 60_000 });
    this.trustMs = opts.trustMs ?? 24 * 3_600_000;
    this.now = opts.now ?? Date.now;
  }

  /** Checked before the token is compared: a refusal, or undefined to go on. */
  refusal(address: string): AdminAttemptRefusal | undefined {
    const now = this.now();
    const own = this.perAddress.retryAfter(address, now);
    if (own > 0) return { retryAfter: own, scope: 'address' };
    if (this.isTrusted(address, now)) return undefined;
    const all = this.global.retryAfter(now);
    return all > 0 ? { retryAfter: all, scope: 'all' } : undefined;
  }

  /** A wrong token from `address`. Returns the shared lockout this failure started, in seconds, or 0. */
  fail(address: string): number {
    const now = this.now();
    this.perAddress.fail(address, now);
    return this.global.fail(now);
  }

  /** The right token from `address`. */
  succeed(address: string): void {
    this.trusted.delete(address);
    this.trusted.set(address, this.now() + this.trustMs);
    while (this.trusted.size > this.maxTrusted) this.trusted.delete(this.trusted.keys().next().value!);
  }

  private isTrusted(address: string, now: number): boolean {
    const until = this.trusted.get(address);
    if (until === undefined) return false;
    if (until > now) return true;
    this.trusted.delete(address);
    return false;
  }
}
