import { describe, expect, it } from 'vitest';
import { FixedWindowCounter, FixedWindowLimiter, perInstance } from '../../../src/http/rate-limit.js';

describe('FixedWindowCounter', () => {
  it('counts per key within a window that starts at the first count', () => {
    const c = new FixedWindowCounter(1_000);
    expect(c.add('a', 5_000)).toBe(1);
    expect(c.add('a', 5_500)).toBe(2);
    expect(c.add('b', 5_500)).toBe(1);
    expect(c.peek('a', 5_999)).toEqual({ count: 2, endsAt: 6_000 });
  });

  it('starts a new window once the old one has ended', () => {
    const c = new FixedWindowCounter(1_000);
    c.add('a', 0);
    c.add('a', 10);
    expect(c.peek('a', 1_000)).toEqual({ count: 0, endsAt: 2_000 });
    expect(c.add('a', 1_000)).toBe(1);
    expect(c.peek('a', 1_500).endsAt).toBe(2_000);
  });

  it('reset forgets a key', () => {
    const c = new FixedWindowCounter(1_000);
    c.add('a', 0);
    c.add('a', 0);
    c.reset('a');
    expect(c.add('a', 1)).toBe(1);
  });

  it('stays bounded: ended windows go first, then all', () => {
    const c = new FixedWindowCounter(1_000, 2);
    c.add('a', 0);
    c.add('b', 900);
    c.add('c', 1_000); // full: 'a' has ended and is dropped, 'b' stays
    expect(c.peek('b', 1_000).count).toBe(1);
    c.add('d', 1_100); // full with live windows only: all are dropped
    expect(c.peek('b', 1_100).count).toBe(0);
    expect(c.peek('c', 1_100).count).toBe(0);
    expect(c.peek('d', 1_100).count).toBe(1);
  });
});

describe('FixedWindowLimiter', () => {
  it('allows `limit` calls per key and window, then refuses until the window ends', () => {
    const l = new FixedWindowLimiter(2, 60_000);
    expect([l.take('x', 0), l.take('x', 1), l.take('x', 2)]).toEqual([true, true, false]);
    expect(l.take('y', 2)).toBe(true);
    expect(l.take('x', 59_999)).toBe(false);
    expect(l.take('x', 60_000)).toBe(true);
  });
});

describe('perInstance (config `instances`)', () => {
  it('gives each instance its whole share of a deployment-wide limit, rounded down, never below 1', () => {
    expect(perInstance(60, 1)).toBe(60);
    expect(perInstance(60, 2)).toBe(30);
    expect(perInstance(5, 2)).toBe(2);
    expect(perInstance(1200, 7)).toBe(171);
    expect(perInstance(1, 4)).toBe(1);
  });
});
