/**
 * How far V8 lets the old generation grow before its next full collection (issue 17: memory).
 *
 * By default V8 lets the heap grow to up to 4× what was live after the last full collection when the process
 * allocates fast. keyhole under load promotes short-lived request objects (and cache entries that are later evicted)
 * into the old generation; with the default factor a burst over 100k grants grew the heap to ~280 MB for ~55 MB live,
 * and V8 does not give that back to the operating system while the process stays busy. A fixed, smaller factor keeps
 * the heap near what is live, at the price of more frequent full collections (most of their marking runs on a
 * background thread; the CPU cost per request is in bench/README.md, Memory).
 *
 * The V8 flag is process-wide and read at every full collection, so setting it at startup takes effect at once. A
 * flag given on the command line (`node --heap-growing-percent=…`) wins: it is left alone.
 * @see https://v8.dev/blog/trash-talk (generational collection, old-generation growth)
 */
import { setFlagsFromString } from 'node:v8';

const FLAG = '--heap-growing-percent';

/**
 * Sets the old generation's growing factor to (1 + percent / 100). 0 leaves V8's default (adaptive, up to 4×).
 * Returns what it applied: the percentage, 0 when left to V8, or 'command-line' when the operator set the flag.
 */
export function limitHeapGrowth(percent: number, execArgv: readonly string[] = process.execArgv): number | 'command-line' {
  if (!Number.isInteger(percent) || percent < 0) throw new TypeError('limitHeapGrowth: percent must be an integer ≥ 0');
  if (execArgv.some((a) => a === FLAG || a.startsWith(`${FLAG}=`) || a.startsWith('--heap_growing_percent'))) return 'command-line';
  if (percent === 0) return 0; // V8's own factor: no flag is touched
  setFlagsFromString(`${FLAG}=${percent}`);
  return percent;
}
