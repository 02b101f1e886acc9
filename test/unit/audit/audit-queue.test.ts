import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { auditLogLine, createAuditQueue, type AuditQueueOptions } from '../../../src/audit/audit-queue.js';
import { buildAuditRecord, type AuditRecord } from '../../../src/audit/audit-record.js';

let seq = 0;
const rec = (over: Partial<Parameters<typeof buildAuditRecord>[0]> = {}): AuditRecord =>
  buildAuditRecord({ startedAt: Date.UTC(2026, 11, 1, 16, 0, 0), server: 'demo', requestId: 'r', outcome: 'ok', httpStatus: 200, durationMsTotal: 3, ...over }, () => `au_${++seq}`);

function setup(over: Partial<AuditQueueOptions> = {}) {
  const batches: string[][] = [];
  const lines: string[] = [];
  const drops: Array<[number, string]> = [];
  const queue = createAuditQueue({
    sink: async (records) => { batches.push(records.map((r) => r.id)); },
    log: (l) => lines.push(l),
    batchSize: 3, flushIntervalMs: 1_000, maxQueue: 5, maxRetries: 2, backoffMs: 100,
    onDrop: (n, reason) => drops.push([n, reason]),
    ...over,
  });
  return { queue, batches, lines, drops };
}

describe('audit-queue', () => {
  beforeEach(() => { seq = 0; vi.useFakeTimers(); });
  afterEach(() => { vi.useRealTimers(); });

  it('writes one keyhole.audit JSON line per record at enqueue', () => {
    const { queue, lines } = setup();
    const r = rec({ tool: 'echo', method: 'tools/call' });
    queue.enqueue(r);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toEqual({ msg: 'keyhole.audit', ...r });
    expect(lines[0]).toBe(auditLogLine(r));
    expect(lines[0]).toBe(JSON.stringify({ msg: 'keyhole.audit', ...r })); // the same text, byte for byte
    const full = rec({ tool: 'echo', method: 'tools/call', arguments: { q: 'x"y', n: [1, null] }, redactions: { jwt: 2 } });
    expect(auditLogLine(full)).toBe(JSON.stringify({ msg: 'keyhole.audit', ...full }));
    expect(lines[0]!.startsWith('{"msg":"keyhole.audit","id":"au_1","at":"2026-12-01T16:00:00.000Z"')).toBe(true);
  });

  it('flushes a full batch at once and a partial one after the interval', async () => {
    const { queue, batches } = setup();
    for (let i = 0; i < 4; i++) queue.enqueue(rec());
    await vi.advanceTimersByTimeAsync(0);
    expect(batches).toEqual([['au_1', 'au_2', 'au_3']]);
    expect(queue.pending).toBe(1);
    await vi.advanceTimersByTimeAsync(999);
    expect(batches).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(batches).toEqual([['au_1', 'au_2', 'au_3'], ['au_4']]);
    expect(queue.pending).toBe(0);
  });

  it('drops and counts records beyond maxQueue without throwing', async () => {
    const { queue, drops } = setup({ batchSize: 100 });
    for (let i = 0; i < 8; i++) expect(() => queue.enqueue(rec())).not.toThrow();
    expect(queue.pending).toBe(5);
    expect(queue.dropped).toBe(3);
    expect(drops).toEqual([[1, 'queue_full'], [1, 'queue_full'], [1, 'queue_full']]);
  });

  it('retries a failing sink with exponential backoff, then succeeds', async () => {
    const calls: number[] = [];
    let fail = 2;
    const { queue } = setup({ sink: async () => { calls.push(Date.now()); if (fail-- > 0) throw new Error('busy'); } });
    const t0 = Date.now();
    for (let i = 0; i < 3; i++) queue.enqueue(rec());
    await vi.advanceTimersByTimeAsync(1_000);
    expect(calls.map((t) => t - t0)).toEqual([0, 100, 300]);
    expect(queue.dropped).toBe(0);
  });

  it('counts a batch as dropped after maxRetries failed retries', async () => {
    const errors: number[] = [];
    const { queue, drops } = setup({ sink: async () => { throw new Error('down'); }, onSinkError: (_e, attempt) => errors.push(attempt) });
    for (let i = 0; i < 3; i++) queue.enqueue(rec());
    await vi.advanceTimersByTimeAsync(10_000);
    expect(errors).toEqual([1, 2, 3]);
    expect(queue.dropped).toBe(3);
    expect(drops).toEqual([[3, 'sink_failed']]);
  });

  it('never throws when the log function or the hooks throw', async () => {
    const { queue, batches } = setup({ log: () => { throw new Error('EPIPE'); }, onDrop: () => { throw new Error('x'); }, maxQueue: 1 });
    expect(() => { queue.enqueue(rec()); queue.enqueue(rec()); }).not.toThrow();
    expect(queue.dropped).toBe(1);
    await queue.flush();
    expect(batches).toEqual([['au_1']]);
  });

  it('flush() drains everything, including records enqueued during a batch', async () => {
    const { queue, batches } = setup({ batchSize: 2, maxQueue: 100 });
    for (let i = 0; i < 5; i++) queue.enqueue(rec());
    await queue.flush();
    expect(batches).toEqual([['au_1', 'au_2'], ['au_3', 'au_4'], ['au_5']]);
    expect(queue.pending).toBe(0);
  });

  it('close() drains and then refuses (counts) new records', async () => {
    const { queue, batches, drops } = setup();
    queue.enqueue(rec());
    await queue.close();
    expect(batches).toEqual([['au_1']]);
    queue.enqueue(rec());
    expect(queue.dropped).toBe(1);
    expect(drops).toEqual([[1, 'closed']]);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(batches).toEqual([['au_1']]);
  });

  it('sends one batch at a time (no concurrent sink calls)', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const { queue } = setup({
      maxQueue: 100,
      sink: async () => { inFlight++; maxInFlight = Math.max(maxInFlight, inFlight); await new Promise((r) => setTimeout(r, 50)); inFlight--; },
    });
    for (let i = 0; i < 9; i++) queue.enqueue(rec());
    await vi.advanceTimersByTimeAsync(1_000);
    expect(maxInFlight).toBe(1);
    expect(queue.pending).toBe(0);
  });

  it('checks its options when built', () => {
    expect(() => createAuditQueue({ sink: undefined as never })).toThrow('sink must be a function');
    expect(() => createAuditQueue({ sink: async () => {}, batchSize: 0 })).toThrow('batchSize must be an integer ≥ 1');
    expect(() => createAuditQueue({ sink: async () => {}, maxRetries: -1 })).toThrow('maxRetries must be an integer ≥ 0');
  });
});
