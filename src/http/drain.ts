/**
 * Graceful shutdown as a list of named steps (issue 12 §3 "Drain"), run in order by `runDrain`.
 * - A step marked `bounded` gets only the time left before the deadline (the grace period, `shutdown.graceSeconds`);
 *   when the deadline passes it is reported `timed_out` and the next step runs (the step's own work may go on).
 * - An unbounded step runs to its end: waiting for upstream refreshes to be persisted is one, since abandoning a
 *   refresh the upstream already committed ends the grant for good; they are bounded by the upstream timeout.
 * - A failing step is reported `failed` (its error's name only) and the steps after it still run: the store is
 *   closed even when flushing the audit queue failed.
 * keyhole.ts defines the steps (src/keyhole.ts `drain`); `keyhole serve` runs them on SIGTERM/SIGINT.
 */

export interface DrainStep {
  /** e.g. `stop-accepting`, `finish-requests`, `persist-refreshes`, `close-store`. */
  name: string;
  run(): Promise<unknown> | unknown;
  /** Cut short at the deadline (default false: runs to its end). */
  bounded?: boolean;
}

export interface DrainStepReport {
  name: string;
  outcome: 'done' | 'timed_out' | 'failed';
  ms: number;
  /** The error's name when `failed`. */
  error?: string;
}

export interface DrainOptions {
  /** Epoch ms after which bounded steps stop waiting. */
  deadline: number;
  now?: () => number;
  /** Told after each step (the operator log). */
  onStep?: (report: DrainStepReport) => void;
}

export async function runDrain(steps: readonly DrainStep[], opts: DrainOptions): Promise<DrainStepReport[]> {
  const now = opts.now ?? Date.now;
  const reports: DrainStepReport[] = [];
  for (const step of steps) {
    const started = now();
    let report: DrainStepReport;
    let timer: NodeJS.Timeout | undefined;
    try {
      const work = Promise.resolve().then(() => step.run());
      if (step.bounded) {
        const left = Math.max(0, opts.deadline - now());
        const timeout = new Promise<typeof TIMED_OUT>((resolve) => { timer = setTimeout(() => resolve(TIMED_OUT), left); });
        work.catch(() => undefined); // a late failure after the deadline is nobody's unhandled rejection
        const result = await Promise.race([work, timeout]);
        report = { name: step.name, outcome: result === TIMED_OUT ? 'timed_out' : 'done', ms: now() - started };
      } else {
        await work;
        report = { name: step.name, outcome: 'done', ms: now() - started };
      }
    } catch (e) {
      report = { name: step.name, outcome: 'failed', ms: now() - started, error: e instanceof Error ? e.name : 'Error' };
    } finally {
      clearTimeout(timer);
    }
    reports.push(report);
    try { opts.onStep?.(report); } catch { /* a failing observer never stops the drain */ }
  }
  return reports;
}

const TIMED_OUT = Symbol('timed out');
