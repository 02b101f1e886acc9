import { describe, expect, it } from 'vitest';
import { LruMap } from '../../../src/http/lru-map.js';

describe('LruMap', () => {
  it('holds at most maxEntries and evicts the least recently used (get and set count as use, peek does not)', () => {
    const m = new LruMap<string, number>(3);
    m.set('a', 1).set('b', 2).set('c', 3);
    expect(m.get('a')).toBe(1); // a is now the most recent
    expect(m.peek('b')).toBe(2); // b stays the oldest
    m.set('d', 4);
    expect(m.size).toBe(3);
    expect(m.has('b')).toBe(false);
    expect([m.get('a'), m.get('c'), m.get('d')]).toEqual([1, 3, 4]);
    // recency now: a, c, d (oldest first); an update is a use
    m.set('a', 10);
    m.set('e', 5); // evicts c
    expect(m.has('c')).toBe(false);
    expect(m.get('a')).toBe(10);
    expect(m.evicted).toBe(2);
    expect(m.size).toBe(3);
  });

  it('evicts in exact recency order over many keys', () => {
    const m = new LruMap<number, number>(1_000);
    for (let i = 0; i < 100_000; i++) m.set(i, i);
    expect(m.size).toBe(1_000);
    expect(m.has(98_999)).toBe(false);
    expect(m.has(99_000)).toBe(true);
    m.get(99_000);
    m.set(100_000, 0);
    expect(m.has(99_000)).toBe(true);
    expect(m.has(99_001)).toBe(false);
  });

  it('delete and clear', () => {
    const m = new LruMap<string, number>(2);
    m.set('a', 1);
    expect(m.delete('a')).toBe(true);
    expect(m.get('a')).toBeUndefined();
    m.set('b', 2);
    m.clear();
    expect(m.size).toBe(0);
  });

  it('refuses a bad bound', () => {
    expect(() => new LruMap(0)).toThrow(/maxEntries/);
    expect(() => new LruMap(1.5)).toThrow(/maxEntries/);
  });
});
