/**
 * Per upstream authorization server: how often keyhole may try a refresh while the server keeps failing.
 *
 * Healthy (no failure since the last success): every refresh is admitted. After a transient failure (network,
 * timeout, 5xx), the server is in backoff: no refresh is admitted until the pause is over (2 s, doubling up to
 * 60 s, with ±20 % jitter), then ONE trial at a time. A trial's success ends the backoff; its failure doubles the
 * pause. Meanwhile the token manager keeps handing out the current access token while it is still valid.
 * An answer that ends a grant (invalid_grant) is an answer: the server is up.
 */

export interface RefreshBackoffOptions {
  /** The first pause, in seconds (default 2). */
  firstSeconds?: number;
  /** The longest pause, in seconds (default 60). */
  maxSeconds?: number;
  /** Epoch seconds. */
  clock: () => number;
  /** [0, 1) for the jitter (default Math.random). */
  random?: () => number;
}

export interface RefreshPermit {
  /** The server answered (a token, or a refusal that ends the grant). */
  success(): void;
  /** A transient failure of the server: extend the backoff. */
  failure(): void;
  /** Neither (the refresh did not reach the server). */
  cancel(): void;
}

export type RefreshAdmission = { ok: true; permit: RefreshPermit } | { ok: false; retryAt: number };

interface ServerState {
  failures: number;
  retryAt: number;
  trialInFlight: boolean;
}

export class RefreshBackoff {
  readonly #servers = new Map<string, ServerState>();
  readonly #first: number;
  readonly #max: number;
  readonly #clock: () => number;
  readonly #random: () => number;

  constructor(options: RefreshBackoffOptions) {
    this.#first = options.firstSeconds ?? 2;
    this.#max = options.maxSeconds ?? 60;
    if (!(this.#first > 0 && this.#max >= this.#first)) throw new TypeError('RefreshBackoff: need 0 < firstSeconds <= maxSeconds');
    this.#clock = options.clock;
    this.#random = options.random ?? Math.random;
  }

  /** Whether a refresh towards `server` may be tried now. */
  admit(server: string): RefreshAdmission {
    const s = this.#servers.get(server);
    if (!s) return { ok: true, permit: this.#permit(server, false) };
    if (s.trialInFlight || this.#clock() < s.retryAt) return { ok: false, retryAt: s.retryAt };
    s.trialInFlight = true;
    return { ok: true, permit: this.#permit(server, true) };
  }

  /** Servers in backoff now (diagnostics). */
  failing(): string[] {
    return [...this.#servers.keys()];
  }

  #permit(server: string, trial: boolean): RefreshPermit {
    let done = false;
    const settle = (fn: () => void) => () => {
      if (done) return;
      done = true;
      const s = this.#servers.get(server);
      if (trial && s) s.trialInFlight = false;
      fn();
    };
    return {
      success: settle(() => this.#servers.delete(server)),
      failure: settle(() => {
        const s = this.#servers.get(server) ?? { failures: 0, retryAt: 0, trialInFlight: false };
        s.failures += 1;
        const pause = Math.min(this.#max, this.#first * 2 ** (s.failures - 1));
        s.retryAt = Math.max(s.retryAt, this.#clock() + pause * (0.8 + 0.4 * this.#random()));
        this.#servers.set(server, s);
      }),
      cancel: settle(() => undefined),
    };
  }
}
