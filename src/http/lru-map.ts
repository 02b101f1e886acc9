/**
 * A Map bounded to `maxEntries`, least recently used evicted first (issue 17: per-grant caches must stay bounded when
 * many grants are active). `get` of a present key and `set` move the key to the most recent end; eviction drops the
 * oldest. Insertion order of the underlying Map is the recency order, so a hit costs one delete and one set.
 * Pure: no timers, no clock.
 */
export class LruMap<K, V> {
  readonly #map = new Map<K, V>();
  #evicted = 0;

  constructor(readonly maxEntries: number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new TypeError('LruMap: maxEntries must be a positive integer');
  }

  get(key: K): V | undefined {
    const v = this.#map.get(key);
    if (v !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, v);
    }
    return v;
  }

  /** The value without touching its recency. */
  peek(key: K): V | undefined {
    return this.#map.get(key);
  }

  has(key: K): boolean {
    return this.#map.has(key);
  }

  set(key: K, value: V): this {
    this.#map.delete(key);
    this.#map.set(key, value);
    while (this.#map.size > this.maxEntries) {
      this.#map.delete(this.#map.keys().next().value as K);
      this.#evicted++;
    }
    return this;
  }

  delete(key: K): boolean {
    return this.#map.delete(key);
  }

  clear(): void {
    this.#map.clear();
  }

  get size(): number {
    return this.#map.size;
  }

  /** Entries dropped to stay within `maxEntries` since creation. */
  get evicted(): number {
    return this.#evicted;
  }
}
