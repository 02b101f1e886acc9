/**
 * Audit micro-benchmark (issue 14): CPU per request of building an audit record and enqueueing it (the JSON log
 * line included, the sink a no-op), plus the trace context and the error-code scan a request also pays.
 *
 *   npx tsc -p bench/tsconfig.json && node dist-bench/bench/audit.js
 *
 * Single process, no I/O: CPU time (process.cpuUsage, user+system) per operation, median of 7 runs. Budget: ≤ 10 µs.
 */
import { createAuditQueue } from '../src/audit/audit-queue.js';
import { buildAuditRecord } from '../src/audit/audit-record.js';
import { scanJsonRpcErrorCode } from '../src/audit/response-accounting.js';
import { requestIdOf, traceContextFrom } from '../src/audit/trace-context.js';
import { createArgumentRedactor } from '../src/audit/argument-redactor.js';
import { openSync, writeSync } from 'node:fs';
import { createRequestAuditor } from '../src/audit/request-audit.js';
import { createKeyholeMetrics } from '../src/metrics/keyhole-metrics.js';

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const cpuUs = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

async function perOp(label: string, n: number, op: (i: number) => void, after?: () => Promise<void>): Promise<number> {
  const runs: number[] = [];
  for (let r = 0; r < 7; r++) {
    const t0 = cpuUs();
    for (let i = 0; i < n; i++) op(i);
    if (after) await after();
    runs.push((cpuUs() - t0) / n);
  }
  const m = median(runs);
  console.log(`${label.padEnd(58)} ${m.toFixed(2)} µs`);
  return m;
}

const lines: string[] = [];
const queue = createAuditQueue({ sink: async () => {}, log: (l) => { if (lines.length < 1) lines.push(l); }, maxQueue: 100_000, batchSize: 500 });
const queueNoLog = createAuditQueue({ sink: async () => {}, maxQueue: 100_000, batchSize: 500 });
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const started = Date.now();
const input = (requestId: string) => ({
  startedAt: started, server: 'demo', requestId, outcome: 'ok' as const, httpStatus: 200, durationMsTotal: 3,
  durationMsToFirstByte: 2, person: null, subject: 'alice', clientId: 'c_0123456789abcdef', grantId: 'g_0123456789abcdef',
  method: 'tools/call', tool: 'echo', requestBytes: 104, responseBytes: 210,
});

const N = 50_000;
const build = await perOp('build record', N, () => { buildAuditRecord(input('4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7')); });
const noLog = await perOp('build + enqueue (no log line)', N, () => queueNoLog.enqueue(buildAuditRecord(input('r'))), () => queueNoLog.flush());
const full = await perOp('build + enqueue + JSON log line (the budgeted figure)', N, () => queue.enqueue(buildAuditRecord(input('r'))), () => queue.flush());
const devNull = openSync('/dev/null', 'w');
const queueDevNull = createAuditQueue({ sink: async () => {}, log: (l) => { writeSync(devNull, `${l}\n`); }, maxQueue: 100_000, batchSize: 500 });
const withWrite = await perOp('… + the line written (writeSync to /dev/null, as stderr)', N, () => queueDevNull.enqueue(buildAuditRecord(input('r'))), () => queueDevNull.flush());
const auditor = createRequestAuditor({ queue });
const fakeRes = { write: (_c: unknown) => true, end: (_c?: unknown) => undefined };
const answer = Buffer.from('event: message\ndata: {"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"hello"}]}}\n\n');
const trail = await perOp('whole request: auditor.begin + write + end (record, log line, enqueue)', N, () => {
  const t = auditor.begin('demo', TRACEPARENT, fakeRes as never);
  (fakeRes.end as (c: Buffer) => void)(answer);
  t.end({ httpStatus: 200, subject: 'alice', clientId: 'c_0123456789abcdef', grantId: 'g_0123456789abcdef', method: 'tools/call', tool: 'echo', requestBytes: 104 });
}, () => queue.flush());
const trace = await perOp('traceContextFrom(incoming traceparent) + requestId', N, () => { requestIdOf(traceContextFrom(TRACEPARENT)); });
const body = Buffer.from('{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"hello world"}],"isError":false}}');
const scan = await perOp('scanJsonRpcErrorCode (100-byte result)', N, () => { scanJsonRpcErrorCode(body); });
const redact = createArgumentRedactor();
const args = { query: 'select * from users where id = 42', limit: 10, options: { verbose: true, tags: ['a', 'b'] } };
const red = await perOp('redact arguments (small, no secrets; redacted mode only)', N, () => { redact(args); });
const metrics = createKeyholeMetrics({ servers: ['demo'], configTools: { demo: ['echo'] }, processMetrics: false });
const observe = await perOp('metrics.observeRequest (counter + histogram)', N, () => metrics.observeRequest({ server: 'demo', method: 'tools/call', tool: 'echo', outcome: 'ok', durationSeconds: 0.003 }));
console.log(JSON.stringify({ build, noLog, full, withWrite, trail, trace, scan, redact: red, observe, budgetUs: 10, withinBudget: trail <= 10, dropped: queue.dropped }));
