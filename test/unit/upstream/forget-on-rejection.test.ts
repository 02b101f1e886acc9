import { describe, expect, it } from 'vitest';
import { forgetOnRejection } from '../../../src/upstream/forget-on-rejection.js';

class Cached {
  calls = 0;
  private slot: Promise<number> | undefined;
  constructor(private readonly outcomes: Array<number | Error>) {}
  get(): Promise<number> {
    this.slot ??= forgetOnRejection(
      (async () => {
        const o = this.outcomes[this.calls++]!;
        if (o instanceof Error) throw o;
        return o;
      })(),
      () => (this.slot = undefined),
    );
    return this.slot;
  }
}

describe('forgetOnRejection', () => {
  it('keeps a success: later and concurrent callers share it', async () => {
    const c = new Cached([7, 8]);
    expect(await Promise.all([c.get(), c.get()])).toEqual([7, 7]);
    expect(await c.get()).toBe(7);
    expect(c.calls).toBe(1);
  });

  it('forgets a failure: concurrent callers share it, the next call tries again', async () => {
    const c = new Cached([new Error('down'), 9]);
    const both = await Promise.allSettled([c.get(), c.get()]);
    expect(both.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect((both[0] as PromiseRejectedResult).reason).toMatchObject({ message: 'down' });
    expect(await c.get()).toBe(9);
    expect(c.calls).toBe(2);
  });
});
