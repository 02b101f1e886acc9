/**
 * Transient refresh failures are recorded once per interval per grant, not once per request: while an upstream
 * authorization server is down, `upstream.refresh_failed` rows stay bounded (one per grant per interval, plus the
 * count of the failures folded into it as `detail.repeated`). Failures that end a grant are always recorded.
 * Bounded: at most `maxGrants` grants are remembered (least recently failed evicted; an evicted grant's next failure
 * is recorded at once), so a long outage over many grants does not grow memory without end.
 */
import { LruMap } from '../http/lru-map.js';

export class FailureEventThrottle {
  readonly #last: LruMap<string, { at: number; suppressed: number }>;

  /** @param intervalSeconds at most one event per grant per this many seconds. */
  constructor(private readonly intervalSeconds: number, private readonly clock: () => number, maxGrants = 10_000) {
    if (!(intervalSeconds >= 0)) throw new TypeError('FailureEventThrottle: intervalSeconds must be ≥ 0');
    this.#last = new LruMap(maxGrants);
  }

  /** Grants remembered now. */
  get size(): number {
    return this.#last.size;
  }

  /** Undefined: do not record this failure (it is counted); else record it with `repeated` earlier failures folded in. */
  admit(grantId: string): { repeated: number } | undefined {
    const now = this.clock();
    const last = this.#last.get(grantId);
    if (last && now - last.at < this.intervalSeconds) {
      last.suppressed += 1;
      return undefined;
    }
    this.#last.set(grantId, { at: now, suppressed: 0 });
    return { repeated: last?.suppressed ?? 0 };
  }

  /** The grant refreshed (or ended): its next failure is recorded at once. */
  reset(grantId: string): void {
    this.#last.delete(grantId);
  }
}
