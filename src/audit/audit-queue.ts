/**
 * Bounded write-behind queue of audit records. `enqueue` never blocks and never throws: it writes the record's
 * JSON log line (`{"msg":"keyhole.audit",…}`) and buffers it. Batches go to an async sink (the store's audit
 * repository: one transaction per batch) when `batchSize` records wait or `flushIntervalMs` after the first one.
 * A full queue drops the record and counts it; a failing sink is retried with exponential backoff
 * (`backoffMs`, ×2 each time) up to `maxRetries` times, then the batch is counted as dropped.
 * `flush()` drains everything; `close()` stops accepting records (they count as dropped) and drains.
 */
import type { AuditRecord } from './audit-record.js';

export type AuditSink = (records: readonly AuditRecord[]) => Promise<void>;

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: Timers = {
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface AuditQueueOptions {
  sink: AuditSink;
  /** Receives one JSON line per record (no newline); e.g. the operator log's sink. Absent: no log line. */
  log?: (line: string) => void;
  /** Records buffered at most; more are dropped. Default 10 000. */
  maxQueue?: number;
  /**
   * Records per sink call. Default 500: on SQLite one transaction per batch, and the pages a commit writes to the
   * WAL (table tail, index leaves, sqlite_sequence) are shared by its rows, so 500 rows cost ~0.8 pwrite(2) per
   * request against ~1.3 with 200 (bench `--profile --syscalls`). Below 500 requests/s the interval flushes first.
   */
  batchSize?: number;
  /** Longest a record waits before a flush starts. Default 1 000 ms. */
  flushIntervalMs?: number;
  /** Retries of a failed batch. Default 3. */
  maxRetries?: number;
  /** First retry delay. Default 200 ms. */
  backoffMs?: number;
  /** Called with how many records were just dropped (a full queue, a closed queue, or a batch given up). */
  onDrop?: (count: number, reason: 'queue_full' | 'closed' | 'sink_failed') => void;
  /** Called on each failed sink call (the operator logs the error's name). */
  onSinkError?: (error: unknown, attempt: number) => void;
  timers?: Timers;
}

export interface AuditQueue {
  enqueue(record: AuditRecord): void;
  /** Resolves when every record buffered so far reached the sink or was given up. */
  flush(): Promise<void>;
  close(): Promise<void>;
  /** Records dropped since start (for `keyhole_audit_dropped_total`). */
  readonly dropped: number;
  readonly pending: number;
}

function positiveInt(name: string, v: number, min = 1): number {
  if (!Number.isInteger(v) || v < min) throw new TypeError(`createAuditQueue: ${name} must be an integer ≥ ${min}`);
  return v;
}

/** `{"msg":"keyhole.audit",…the record's fields}`: the text of JSON.stringify({ msg, ...record }), without the copy. */
export function auditLogLine(record: AuditRecord): string {
  return `{"msg":"keyhole.audit",${JSON.stringify(record).slice(1)}`;
}

export function createAuditQueue(opts: AuditQueueOptions): AuditQueue {
  if (typeof opts.sink !== 'function') throw new TypeError('createAuditQueue: sink must be a function');
  const maxQueue = positiveInt('maxQueue', opts.maxQueue ?? 10_000);
  const batchSize = positiveInt('batchSize', opts.batchSize ?? 500);
  const flushIntervalMs = positiveInt('flushIntervalMs', opts.flushIntervalMs ?? 1_000);
  const maxRetries = positiveInt('maxRetries', opts.maxRetries ?? 3, 0);
  const backoffMs = positiveInt('backoffMs', opts.backoffMs ?? 200);
  const timers = opts.timers ?? realTimers;
  const { sink, log, onDrop, onSinkError } = opts;

  let buffer: AuditRecord[] = [];
  let dropped = 0;
  let closed = false;
  let timer: unknown;
  let draining: Promise<void> | undefined;

  const drop = (count: number, reason: 'queue_full' | 'closed' | 'sink_failed'): void => {
    dropped += count;
    try { onDrop?.(count, reason); } catch { /* a hook never breaks the queue */ }
  };
  const sleep = (ms: number) => new Promise<void>((resolve) => { timers.setTimeout(resolve, ms); });

  async function send(batch: AuditRecord[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await sink(batch);
        return;
      } catch (error) {
        try { onSinkError?.(error, attempt + 1); } catch { /* ignore */ }
        if (attempt >= maxRetries) return drop(batch.length, 'sink_failed');
        await sleep(backoffMs * 2 ** attempt);
      }
    }
  }

  /** One drain at a time; full batches go at once, a partial one only when forced (interval, flush, close). */
  function drain(force: boolean): Promise<void> {
    if (draining) return force ? draining.then(() => drain(true)) : draining;
    if (timer !== undefined) { timers.clearTimeout(timer); timer = undefined; }
    draining = (async () => {
      while (buffer.length >= batchSize || (force && buffer.length > 0)) {
        const batch = buffer.length <= batchSize ? buffer : buffer.slice(0, batchSize);
        buffer = buffer.length <= batchSize ? [] : buffer.slice(batchSize);
        await send(batch);
      }
    })().finally(() => {
      draining = undefined;
      if (buffer.length >= batchSize) void drain(false);
      else if (buffer.length > 0) arm();
    });
    return draining;
  }

  function arm(): void {
    if (timer === undefined && !closed) timer = timers.setTimeout(() => { timer = undefined; void drain(true); }, flushIntervalMs);
  }

  return {
    enqueue(record) {
      try {
        if (log) log(auditLogLine(record));
      } catch { /* the log line is best effort */ }
      if (closed) return drop(1, 'closed');
      if (buffer.length >= maxQueue) return drop(1, 'queue_full');
      buffer.push(record);
      if (buffer.length >= batchSize) { if (!draining) void drain(false); } else if (!draining) arm();
    },
    flush: () => drain(true),
    async close() {
      closed = true;
      await drain(true);
    },
    get dropped() { return dropped; },
    get pending() { return buffer.length; },
  };
}
