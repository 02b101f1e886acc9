/**
 * Token buckets behind the rate limiter, and the in-memory store of them.
 *
 * Contract of a {@link BucketStore}: `takeAll` is all-or-nothing. Either every bucket named holds at least one
 * token and one is taken from each, or nothing is taken (no bucket is modified) and the answer names the refusing
 * bucket with the longest wait. A shared store (PostgreSQL, a later issue) implements the same contract in one
 * transaction and may answer with a Promise; the in-memory store answers synchronously.
 *
 * Memory: at most `maxKeys` buckets, evicted in least-recently-used order approximated by CLOCK (second chance: a
 * bucket used since it was last passed over is moved to the back instead of evicted, so a hit costs no Map
 * mutation); `sweep(now)` drops every bucket that has refilled completely, which is exactly as if it had never
 * been used. Between sweeps, every new bucket also drops the (up to) two oldest ones when they are full again, so
 * the store holds about the keys active within one refill time rather than every key seen since the last sweep
 * (issue 17: a burst over 100k people kept them all until the minute's sweep). Evicting a partly drained bucket under the
 * cap gives its key a fresh burst: size `maxKeys` well above the number of active keys.
 */
export interface BucketSpec {
  key: string;
  /** Bucket size (the burst). */
  capacity: number;
  /** Tokens added per millisecond. */
  refillPerMs: number;
}

export type TakeResult = { ok: true } | { ok: false; index: number; retryAfterMs: number };

export interface BucketStore {
  takeAll(specs: readonly BucketSpec[], now: number): TakeResult | Promise<TakeResult>;
  /** Drop buckets that are full again by `now`. Returns how many were dropped. */
  sweep(now: number): number;
  size(): number;
}

interface Bucket {
  tokens: number;
  at: number;
  /** When the bucket is full again (then it is the same as no bucket). */
  fullAt: number;
  /** Used since the eviction hand last passed it. */
  used: boolean;
}

/** The in-memory store answers synchronously. */
export interface MemoryBucketStore extends BucketStore {
  takeAll(specs: readonly BucketSpec[], now: number): TakeResult;
}

const OK: TakeResult = Object.freeze({ ok: true });

export function createMemoryBucketStore(options: { maxKeys?: number } = {}): MemoryBucketStore {
  const maxKeys = options.maxKeys ?? 100_000;
  if (!Number.isInteger(maxKeys) || maxKeys < 1) throw new TypeError('maxKeys must be a positive integer');
  // Map iteration order is insertion order: new buckets go to the back; the eviction hand starts at the front.
  const buckets = new Map<string, Bucket>();
  const level = (b: Bucket | undefined, spec: BucketSpec, now: number): number =>
    b === undefined ? spec.capacity : Math.min(spec.capacity, b.tokens + Math.max(0, now - b.at) * spec.refillPerMs);

  /** Buckets found by the first pass, reused by the second (takeAll is synchronous: no interleaving). */
  const found: Array<Bucket | undefined> = [];
  /** Incremental sweep: the (up to) two oldest buckets are dropped when full again (as if never used). */
  const dropOldFull = (now: number): void => {
    for (let n = 0; n < 2 && buckets.size > 0; n++) {
      const [key, b] = buckets.entries().next().value!;
      if (b.fullAt > now) return;
      buckets.delete(key);
    }
  };
  const evictOne = (): void => {
    for (;;) {
      const [key, b] = buckets.entries().next().value!;
      buckets.delete(key);
      if (!b.used) return;
      b.used = false;
      buckets.set(key, b); // second chance
    }
  };

  return {
    takeAll(specs, now) {
      let refused = -1;
      let wait = 0;
      for (let i = 0; i < specs.length; i++) {
        const spec = specs[i]!;
        const b = buckets.get(spec.key);
        found[i] = b;
        const tokens = level(b, spec, now);
        if (tokens < 1) {
          const ms = (1 - tokens) / spec.refillPerMs;
          if (refused < 0 || ms > wait) {
            refused = i;
            wait = ms;
          }
        }
      }
      if (refused >= 0) {
        found.length = 0;
        return { ok: false, index: refused, retryAfterMs: wait };
      }
      let created = false;
      for (let i = 0; i < specs.length; i++) {
        const spec = specs[i]!;
        const b = found[i];
        const tokens = level(b, spec, now) - 1;
        const fullAt = now + (spec.capacity - tokens) / spec.refillPerMs;
        if (b === undefined) {
          created = true;
          if (buckets.size >= maxKeys) evictOne();
          buckets.set(spec.key, { tokens, at: now, fullAt, used: false });
        } else {
          b.tokens = tokens;
          b.at = now;
          b.fullAt = fullAt;
          b.used = true;
        }
      }
      found.length = 0;
      if (created) dropOldFull(now); // after the takes: never drops a bucket this call is still updating
      return OK;
    },
    sweep(now) {
      let dropped = 0;
      for (const [key, b] of buckets) {
        if (b.fullAt <= now) {
          buckets.delete(key);
          dropped++;
        }
      }
      return dropped;
    },
    size: () => buckets.size,
  };
}
