/**
 * Retention: deletes audit records, lifecycle events and long-expired keyhole tokens/codes older than the
 * configured ages, in small batches (one short store transaction each) so a large purge never holds the
 * database. Each kind loops until a batch comes back short (or `maxBatchesPerKind`, a bound against a purger
 * that never reports less); the job yields to the event loop between batches. One `onRun` report per run
 * (the lead records it as an event). The timer is unref'd; `stop()` waits for a running purge.
 */
import type { RetentionConfig } from '../config/observability-schema.js';
import { realTimers, type Timers } from './audit-queue.js';

/** Implemented by the store later. `before` is epoch ms (exclusive); each call deletes at most `limit` rows. */
export interface RetentionPurger {
  purgeAudit(before: number, limit: number): Promise<number>;
  purgeEvents(before: number, limit: number): Promise<number>;
  purgeExpiredTokens(before: number, limit: number): Promise<number>;
}

export interface RetentionRun {
  startedAt: number;
  finishedAt: number;
  auditBefore: number;
  eventsBefore: number;
  expiredTokensBefore: number;
  audit: number;
  events: number;
  expiredTokens: number;
  batches: number;
  /** The error's name when a purge call failed (the run stops there; counts so far are kept). */
  error: string | null;
}

export interface RetentionJobOptions {
  purger: RetentionPurger;
  config: Pick<RetentionConfig, 'auditDays' | 'eventDays' | 'expiredTokensDays' | 'intervalMinutes' | 'batchSize'>;
  now?: () => number;
  onRun?: (run: RetentionRun) => void;
  timers?: Timers;
  /** Between batches; default `setImmediate`. */
  yieldToLoop?: () => Promise<void>;
  maxBatchesPerKind?: number;
}

export interface RetentionJob {
  runOnce(): Promise<RetentionRun>;
  /** Runs every `intervalMinutes` (first run after one interval). */
  start(): void;
  stop(): Promise<void>;
}

const DAY_MS = 86_400_000;

export function createRetentionJob(opts: RetentionJobOptions): RetentionJob {
  const { purger, config } = opts;
  for (const m of ['purgeAudit', 'purgeEvents', 'purgeExpiredTokens'] as const) {
    if (typeof purger?.[m] !== 'function') throw new TypeError(`createRetentionJob: purger.${m} must be a function`);
  }
  for (const k of ['auditDays', 'eventDays', 'expiredTokensDays', 'intervalMinutes', 'batchSize'] as const) {
    const min = k === 'expiredTokensDays' ? 0 : 1;
    if (!Number.isInteger(config[k]) || config[k] < min) throw new TypeError(`createRetentionJob: config.${k} must be an integer ≥ ${min}`);
  }
  const now = opts.now ?? Date.now;
  const timers = opts.timers ?? realTimers;
  const yieldToLoop = opts.yieldToLoop ?? (() => new Promise<void>((r) => setImmediate(r)));
  const maxBatches = opts.maxBatchesPerKind ?? 10_000;
  const limit = config.batchSize;
  let timer: unknown;
  let stopped = true;
  let running: Promise<RetentionRun> | undefined;

  async function purgeAll(purge: (before: number, limit: number) => Promise<number>, before: number, run: RetentionRun): Promise<number> {
    let total = 0;
    for (let i = 0; i < maxBatches; i++) {
      const n = await purge(before, limit);
      run.batches++;
      total += n;
      if (n < limit) break;
      await yieldToLoop();
    }
    return total;
  }

  async function execute(): Promise<RetentionRun> {
    const startedAt = now();
    const run: RetentionRun = {
      startedAt, finishedAt: startedAt,
      auditBefore: startedAt - config.auditDays * DAY_MS,
      eventsBefore: startedAt - config.eventDays * DAY_MS,
      expiredTokensBefore: startedAt - config.expiredTokensDays * DAY_MS,
      audit: 0, events: 0, expiredTokens: 0, batches: 0, error: null,
    };
    try {
      run.audit = await purgeAll((b, l) => purger.purgeAudit(b, l), run.auditBefore, run);
      run.events = await purgeAll((b, l) => purger.purgeEvents(b, l), run.eventsBefore, run);
      run.expiredTokens = await purgeAll((b, l) => purger.purgeExpiredTokens(b, l), run.expiredTokensBefore, run);
    } catch (error) {
      run.error = error instanceof Error ? error.name : 'Error';
    }
    run.finishedAt = now();
    try { opts.onRun?.(run); } catch { /* the hook never breaks the job */ }
    return run;
  }

  function schedule(): void {
    if (stopped) return;
    timer = timers.setTimeout(() => {
      timer = undefined;
      void runOnce().finally(schedule);
    }, config.intervalMinutes * 60_000);
  }

  function runOnce(): Promise<RetentionRun> {
    running ??= execute().finally(() => { running = undefined; });
    return running;
  }

  return {
    runOnce,
    start() {
      if (!stopped) return;
      stopped = false;
      schedule();
    },
    async stop() {
      stopped = true;
      if (timer !== undefined) { timers.clearTimeout(timer); timer = undefined; }
      if (running) await running;
    },
  };
}
