import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createRetentionJob, type RetentionPurger, type RetentionRun } from '../../../src/audit/retention.js';
import { retentionSchema } from '../../../src/config/observability-schema.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 11, 1);

/** A fake purger holding `rows` per kind; records each call. */
function fakePurger(rows: { audit: number; events: number; tokens: number }, failOn?: keyof RetentionPurger) {
  const calls: Array<[string, number, number]> = [];
  const left = { ...rows };
  const take = (kind: 'audit' | 'events' | 'tokens', name: keyof RetentionPurger) => async (before: number, limit: number) => {
    calls.push([name, before, limit]);
    if (failOn === name) throw new RangeError('disk I/O');
    const n = Math.min(limit, left[kind]);
    left[kind] -= n;
    return n;
  };
  const purger: RetentionPurger = { purgeAudit: take('audit', 'purgeAudit'), purgeEvents: take('events', 'purgeEvents'), purgeExpiredTokens: take('tokens', 'purgeExpiredTokens') };
  return { purger, calls };
}

const config = retentionSchema.parse({ batchSize: 10, intervalMinutes: 5 });

describe('retention', () => {
  beforeEach(() => { vi.useFakeTimers(); });
  afterEach(() => { vi.useRealTimers(); });

  it('purges each kind in batches until a batch is short, with cutoffs from the configured days', async () => {
    const { purger, calls } = fakePurger({ audit: 25, events: 10, tokens: 0 });
    const runs: RetentionRun[] = [];
    let yields = 0;
    const job = createRetentionJob({ purger, config, now: () => NOW, onRun: (r) => runs.push(r), yieldToLoop: async () => { yields++; } });
    const run = await job.runOnce();
    const a = NOW - 30 * DAY, e = NOW - 365 * DAY, t = NOW - 7 * DAY;
    expect(calls).toEqual([
      ['purgeAudit', a, 10], ['purgeAudit', a, 10], ['purgeAudit', a, 10],
      ['purgeEvents', e, 10], ['purgeEvents', e, 10],
      ['purgeExpiredTokens', t, 10],
    ]);
    expect(yields).toBe(3);
    expect(run).toEqual({ startedAt: NOW, finishedAt: NOW, auditBefore: a, eventsBefore: e, expiredTokensBefore: t, audit: 25, events: 10, expiredTokens: 0, batches: 6, error: null });
    expect(runs).toEqual([run]);
  });

  it('stops at maxBatchesPerKind when the purger always reports a full batch', async () => {
    const calls: string[] = [];
    const full = async () => { calls.push('x'); return 10; };
    const job = createRetentionJob({ purger: { purgeAudit: full, purgeEvents: async () => 0, purgeExpiredTokens: async () => 0 }, config, now: () => NOW, maxBatchesPerKind: 3, yieldToLoop: async () => {} });
    expect((await job.runOnce()).audit).toBe(30);
    expect(calls).toHaveLength(3);
  });

  it('reports the error name of a failing purge and keeps the counts so far', async () => {
    const { purger } = fakePurger({ audit: 5, events: 5, tokens: 5 }, 'purgeEvents');
    const runs: RetentionRun[] = [];
    const job = createRetentionJob({ purger, config, now: () => NOW, onRun: (r) => runs.push(r), yieldToLoop: async () => {} });
    await expect(job.runOnce()).resolves.toMatchObject({ audit: 5, events: 0, expiredTokens: 0, error: 'RangeError' });
    expect(runs).toHaveLength(1);
  });

  it('runs every intervalMinutes once started, and not after stop()', async () => {
    const { purger, calls } = fakePurger({ audit: 0, events: 0, tokens: 0 });
    const job = createRetentionJob({ purger, config, now: () => NOW, yieldToLoop: async () => {} });
    job.start();
    await vi.advanceTimersByTimeAsync(5 * 60_000 - 1);
    expect(calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(5 * 60_000);
    expect(calls).toHaveLength(6);
    await job.stop();
    await vi.advanceTimersByTimeAsync(60 * 60_000);
    expect(calls).toHaveLength(6);
  });

  it('unrefs its timer so it never keeps the process alive', () => {
    vi.useRealTimers();
    const spy = vi.spyOn(globalThis, 'setTimeout');
    const job = createRetentionJob({ purger: fakePurger({ audit: 0, events: 0, tokens: 0 }).purger, config });
    job.start();
    const handle = spy.mock.results.at(-1)?.value as NodeJS.Timeout;
    expect(handle.hasRef()).toBe(false);
    void job.stop();
    spy.mockRestore();
  });

  it('shares one run between concurrent runOnce calls', async () => {
    const { purger, calls } = fakePurger({ audit: 0, events: 0, tokens: 0 });
    const job = createRetentionJob({ purger, config, now: () => NOW, yieldToLoop: async () => {} });
    const [a, b] = await Promise.all([job.runOnce(), job.runOnce()]);
    expect(a).toBe(b);
    expect(calls).toHaveLength(3);
  });

  it('checks its options when built', () => {
    expect(() => createRetentionJob({ purger: {} as RetentionPurger, config })).toThrow('purger.purgeAudit must be a function');
    expect(() => createRetentionJob({ purger: fakePurger({ audit: 0, events: 0, tokens: 0 }).purger, config: { ...config, batchSize: 0 } })).toThrow('config.batchSize must be an integer ≥ 1');
  });
});
