/**
 * The refresh backoff per authorization server (src/upstream/refresh-backoff.ts) and the bounded failure events
 * (src/upstream/failure-events.ts), on a fake clock.
 */
import { describe, expect, it } from 'vitest';
import { RefreshBackoff } from '../../../src/upstream/refresh-backoff.js';
import { FailureEventThrottle } from '../../../src/upstream/failure-events.js';

describe('RefreshBackoff', () => {
  it('admits everything while healthy; after failures, one trial per pause, doubling up to the cap; a success ends it', () => {
    const now = { t: 1000 };
    const b = new RefreshBackoff({ clock: () => now.t, random: () => 0.5, firstSeconds: 2, maxSeconds: 8 });
    const p1 = b.admit('demo');
    const p2 = b.admit('demo');
    expect(p1.ok && p2.ok).toBe(true);
    if (!p1.ok || !p2.ok) return;
    p1.permit.failure();
    p2.permit.failure(); // two failures from before the backoff: pause 2, then 4 s
    expect(b.admit('demo')).toEqual({ ok: false, retryAt: 1004 });
    expect(b.admit('other').ok).toBe(true); // per server
    now.t = 1004;
    const trial = b.admit('demo');
    expect(trial.ok).toBe(true);
    expect(b.admit('demo').ok).toBe(false); // one trial at a time
    if (!trial.ok) return;
    trial.permit.failure(); // third failure: 8 s (the cap)
    expect(b.admit('demo')).toEqual({ ok: false, retryAt: 1012 });
    now.t = 1012;
    const t2 = b.admit('demo');
    if (!t2.ok) throw new Error('expected a trial');
    t2.permit.failure(); // capped at 8 s
    expect(b.admit('demo')).toEqual({ ok: false, retryAt: 1020 });
    now.t = 1020;
    const t3 = b.admit('demo');
    if (!t3.ok) throw new Error('expected a trial');
    t3.permit.cancel(); // did not reach the server: the next trial may go at once
    const t4 = b.admit('demo');
    if (!t4.ok) throw new Error('expected a trial');
    t4.permit.success();
    expect(b.failing()).toEqual([]);
    expect(b.admit('demo').ok && b.admit('demo').ok).toBe(true);
  });

  it('refuses invalid pauses', () => {
    expect(() => new RefreshBackoff({ clock: () => 0, firstSeconds: 0 })).toThrow(TypeError);
    expect(() => new RefreshBackoff({ clock: () => 0, firstSeconds: 5, maxSeconds: 2 })).toThrow(TypeError);
  });
});

describe('FailureEventThrottle', () => {
  it('records one failure per grant per interval, folding the others into `repeated`', () => {
    const now = { t: 0 };
    const f = new FailureEventThrottle(60, () => now.t);
    expect(f.admit('g_a')).toEqual({ repeated: 0 });
    for (let i = 0; i < 5; i++) expect(f.admit('g_a')).toBeUndefined();
    expect(f.admit('g_b')).toEqual({ repeated: 0 });
    now.t = 60;
    expect(f.admit('g_a')).toEqual({ repeated: 5 });
    f.reset('g_a');
    expect(f.admit('g_a')).toEqual({ repeated: 0 });
  });
});
