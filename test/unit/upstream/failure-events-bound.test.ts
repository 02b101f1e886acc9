import { describe, expect, it } from 'vitest';
import { FailureEventThrottle } from '../../../src/upstream/failure-events.js';

describe('FailureEventThrottle bound (issue 17)', () => {
  it('remembers at most maxGrants grants; an evicted grant\'s next failure is recorded at once', () => {
    const t = new FailureEventThrottle(60, () => 1_000, 2);
    expect(t.admit('a')).toEqual({ repeated: 0 });
    expect(t.admit('a')).toBeUndefined(); // within the interval: counted, not recorded
    expect(t.admit('b')).toEqual({ repeated: 0 });
    expect(t.admit('c')).toEqual({ repeated: 0 }); // evicts a (least recently failed)
    expect(t.size).toBe(2);
    expect(t.admit('a')).toEqual({ repeated: 0 });
    expect(t.admit('c')).toBeUndefined();
  });
});
