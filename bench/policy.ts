/**
 * Traffic-policy micro-benchmark (issue 15): CPU cost of secret redaction per MB (JSON bodies, SSE streams;
 * clean and secret-laden), and the per-request cost of each policy unit in its common case.
 *
 *   npx tsc -p bench/tsconfig.json && node dist-bench/bench/policy.js
 *
 * Single process, no I/O: figures are CPU time (process.cpuUsage, user+system) divided by work, median of 5 runs.
 */
import { PassThrough, Readable, Writable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createSecretRedactor } from '../src/policy/secret-redactor.js';
import { jsonRedactionStream, sseRedactionStream } from '../src/policy/redaction-stream.js';
import { createRateLimits } from '../src/policy/rate-limiter.js';
import { createArgumentRules } from '../src/policy/argument-rules.js';
import { createCircuitBreaker } from '../src/policy/circuit-breaker.js';
import { createPinnedTools, toolDigest } from '../src/policy/pinned-tools.js';

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1_000;
};

const redactor = createSecretRedactor({ redactSecrets: true, patterns: [{ name: 'ticket-id', regex: '(?i)\\bsec-\\d{4,}\\b' }] });
const GITHUB = `ghp_${'a1B2'.repeat(9)}`;
const prose = 'The quick brown fox jumps over the lazy dog; results are listed below with their identifiers. ';
const message = (id: number, text: string) => JSON.stringify({ jsonrpc: '2.0', id, result: { content: [{ type: 'text', text }], isError: false } });

/** ~1 MiB of tool output in `events` messages, optionally with a secret in each. */
function payload(events: number, secret: boolean): string[] {
  const per = Math.floor(1_048_576 / events);
  const text = prose.repeat(Math.ceil(per / prose.length)).slice(0, per - 120 - (secret ? GITHUB.length + 1 : 0));
  return Array.from({ length: events }, (_, i) => message(i, secret ? `${text} ${GITHUB}` : text));
}

async function streamCost(make: () => Transform, chunks: Buffer[]): Promise<number> {
  const runs: number[] = [];
  for (let r = 0; r < 6; r++) {
    const t0 = cpuMs();
    await pipeline(Readable.from(chunks), make(), new Writable({ write: (_c, _e, cb) => cb() }));
    if (r > 0) runs.push(cpuMs() - t0); // first run warms up
  }
  return median(runs);
}

function toChunks(text: string, size = 16_384): Buffer[] {
  const b = Buffer.from(text);
  const out: Buffer[] = [];
  for (let i = 0; i < b.length; i += size) out.push(b.subarray(i, i + size));
  return out;
}

function perOp(label: string, n: number, fn: (i: number) => void): [string, string] {
  const runs: number[] = [];
  for (let r = 0; r < 6; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) fn(i);
    if (r > 0) runs.push(Number(process.hrtime.bigint() - t0) / n);
  }
  return [label, `${median(runs).toFixed(0)} ns/op`];
}

async function main(): Promise<void> {
  const rows: Array<[string, string]> = [];
  const passthrough = (): Transform => new PassThrough();
  const mb = (ms: number) => `${ms.toFixed(1)} ms CPU per MiB`;

  const cleanJson = toChunks(payload(1, false)[0]!);
  const secretJson = toChunks(payload(1, true)[0]!);
  const sse = (events: string[]) => toChunks(events.map((e) => `event: message\ndata: ${e}\n\n`).join(''));
  rows.push(['PassThrough (floor), 1 MiB in 16 KiB chunks', mb(await streamCost(passthrough, cleanJson))]);
  rows.push(['JSON body, clean (prefilter only)', mb(await streamCost(() => jsonRedactionStream(redactor), cleanJson))]);
  rows.push(['JSON body, one secret (parse + walk + stringify)', mb(await streamCost(() => jsonRedactionStream(redactor), secretJson))]);
  rows.push(['SSE, 1,024 clean events of 1 KiB', mb(await streamCost(() => sseRedactionStream(redactor), sse(payload(1_024, false))))]);
  rows.push(['SSE, 1,024 events of 1 KiB, a secret in each', mb(await streamCost(() => sseRedactionStream(redactor), sse(payload(1_024, true))))]);
  rows.push(['SSE, 16 clean events of 64 KiB', mb(await streamCost(() => sseRedactionStream(redactor), sse(payload(16, false))))]);
  const text = prose.repeat(Math.ceil(1_048_576 / prose.length)).slice(0, 1_048_576);
  rows.push(['redact() on 1 MiB of plain prose with "token: …" every 1 KiB', mb(await (async () => {
    const withKeys = text.replace(/(.{1000})/g, '$1 token: Xk9mQ2vL7pW4zR8t ');
    const runs: number[] = [];
    for (let r = 0; r < 6; r++) { const t0 = cpuMs(); redactor.redact(withKeys, {}); if (r) runs.push(cpuMs() - t0); }
    return median(runs);
  })())]);

  // Per request, common case.
  const limitsOff = createRateLimits({ now: () => 0 }).forServer('demo', undefined);
  let t = 0;
  const limitsOn = createRateLimits({ now: () => t }).forServer('demo', { perPerson: { requestsPerMinute: 600_000_000, burst: 1_000_000_000 }, perClient: { requestsPerMinute: 600_000_000, burst: 1_000_000_000 }, tools: { 'execute_*': { requestsPerMinute: 30 } }, upstream: { maxConcurrent: 10 } });
  const rules = createArgumentRules([{ tool: 'create_issue', pointer: '/repo', match: 'glob', allow: ['acme/*'] }, { tool: 'run_query', pointer: '/sql', match: 'regex', deny: ['(?i)\\bdrop\\b'] }]);
  const breaker = createCircuitBreaker({ failureThreshold: 5, openSeconds: 30, successThreshold: 2, now: () => t });
  const echo = { name: 'echo', description: 'Echo', inputSchema: { type: 'object', properties: { text: { type: 'string' } } } };
  const pins = createPinnedTools({ echo: toolDigest(echo) });
  const persons = Array.from({ length: 1_000 }, (_, i) => `person-${i}`);
  rows.push(perOp('limits: none configured (check)', 5_000_000, () => { limitsOff.check({ person: 'a', clientId: 'c' }); }));
  rows.push(perOp('limits: person+client buckets, gate, 1k people (check+release)', 1_000_000, (i) => {
    t = i;
    const d = limitsOn.check({ person: persons[i % 1_000]!, clientId: 'c', tool: 'echo' });
    if (d instanceof Promise || !d.ok) throw new Error('refused');
    d.release();
  }));
  rows.push(perOp('argument rules: tool without a rule', 5_000_000, () => { rules.check('echo', { text: 'x' }); }));
  rows.push(perOp('argument rules: glob allow on /repo', 2_000_000, () => { rules.check('create_issue', { repo: 'acme/widgets' }); }));
  rows.push(perOp('argument rules: regex deny on /sql (60 chars)', 2_000_000, () => { rules.check('run_query', { sql: 'select id, name from customers where region = $1 limit 100' }); }));
  rows.push(perOp('circuit breaker: closed, admit + success', 5_000_000, () => { const a = breaker.admit(); if (a.ok) a.permit.success(); }));
  rows.push(perOp('pinned tools: checkCall', 5_000_000, () => { pins.checkCall('echo'); }));
  rows.push(perOp('pinned tools: keepTool (digest of a small tool)', 200_000, () => { pins.keepTool(echo); }));

  const w = Math.max(...rows.map(([l]) => l.length));
  console.log(`node ${process.version}, ${new Date().toISOString()}`);
  for (const [l, v] of rows) console.log(`${l.padEnd(w)}  ${v}`);
}

void main();
