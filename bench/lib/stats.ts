/** Small statistics helpers: a growable sample recorder, percentiles, and min/median/max over repetitions. */

/** Collects float samples (e.g. latencies in µs) without boxing; percentiles by sorting once. */
export class Samples {
  #data = new Float64Array(1024);
  #n = 0;
  #sorted = false;

  add(v: number): void {
    if (this.#n === this.#data.length) {
      const next = new Float64Array(this.#data.length * 2);
      next.set(this.#data);
      this.#data = next;
    }
    this.#data[this.#n++] = v;
    this.#sorted = false;
  }

  get count(): number {
    return this.#n;
  }

  #view(): Float64Array {
    const v = this.#data.subarray(0, this.#n);
    if (!this.#sorted) {
      v.sort();
      this.#sorted = true;
    }
    return v;
  }

  /** Nearest-rank percentile, p in [0, 100]. NaN when empty. */
  percentile(p: number): number {
    const v = this.#view();
    if (v.length === 0) return Number.NaN;
    const rank = Math.min(v.length - 1, Math.max(0, Math.ceil((p / 100) * v.length) - 1));
    return v[rank]!;
  }

  mean(): number {
    if (this.#n === 0) return Number.NaN;
    let s = 0;
    for (let i = 0; i < this.#n; i++) s += this.#data[i]!;
    return s / this.#n;
  }
}

/** min / median / max of one figure over the repetitions, plus the raw values. */
export interface Spread {
  min: number;
  median: number;
  max: number;
  runs: number[];
}

export function spread(values: number[]): Spread {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return { min: Number.NaN, median: Number.NaN, max: Number.NaN, runs: values };
  const mid = v.length >> 1;
  const median = v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
  return { min: v[0]!, median, max: v[v.length - 1]!, runs: values };
}

/** Rounds for JSON output: 3 significant decimals below 10, fewer above. */
export function round(x: number): number {
  if (!Number.isFinite(x)) return x;
  const a = Math.abs(x);
  const d = a >= 1000 ? 0 : a >= 100 ? 1 : a >= 10 ? 2 : 3;
  const f = 10 ** d;
  return Math.round(x * f) / f;
}

export function roundSpread(s: Spread): Spread {
  return { min: round(s.min), median: round(s.median), max: round(s.max), runs: s.runs.map(round) };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
