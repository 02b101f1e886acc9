/**
 * SSE clients for the benchmark.
 * - {@link sseCall}: one `tools/call` of the upstream's `stream` tool. Each progress event carries the upstream's
 *   send time (process.hrtime.bigint(), CLOCK_MONOTONIC: the same clock in every process), so the receive time
 *   minus the send time is the event's end-to-end latency through whatever sits in between.
 * - {@link sseThroughput}: back-to-back unpaced calls on `concurrency` connections for a while: bytes per second.
 * - {@link openStreams}: many standalone GET streams held open at once (for RSS).
 */
import { Agent, request, type ClientRequest } from 'node:http';
import { Samples } from './stats.js';

export interface SseCallOptions {
  url: string;
  token: string;
  count: number;
  intervalMs: number;
  agent: Agent;
  /** Record per-event latency (µs) into this recorder. */
  latencies?: Samples;
}

export interface SseCallResult {
  status: number;
  bytes: number;
  events: number;
  /** Socket reads that completed at least one event: events/chunks ≈ 1 means no batching. */
  chunksWithEvents: number;
  ms: number;
}

const MARK = '"message":"sent ';

export function sseCall(o: SseCallOptions): Promise<SseCallResult> {
  const body = JSON.stringify({
    jsonrpc: '2.0',
    id: 7,
    method: 'tools/call',
    params: { name: 'stream', arguments: { count: o.count, intervalMs: o.intervalMs }, _meta: { progressToken: 7 } },
  });
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(o.url, {
      method: 'POST',
      agent: o.agent,
      headers: {
        Authorization: `Bearer ${o.token}`,
        'Content-Type': 'application/json',
        Accept: 'application/json, text/event-stream',
        'Mcp-Protocol-Version': '2025-11-25',
        'Content-Length': Buffer.byteLength(body),
      },
    });
    req.on('error', reject);
    req.on('response', (res) => {
      let bytes = 0;
      let events = 0;
      let chunksWithEvents = 0;
      let carry = '';
      const lat = o.latencies;
      res.on('data', (chunk: Buffer) => {
        const now = process.hrtime.bigint();
        bytes += chunk.length;
        let buf = carry + chunk.toString('latin1');
        let seen = 0;
        let idx: number;
        while ((idx = buf.indexOf('\n\n')) >= 0) {
          const ev = buf.slice(0, idx);
          buf = buf.slice(idx + 2);
          seen++;
          if (lat) {
            const m = ev.indexOf(MARK);
            if (m >= 0) {
              const end = ev.indexOf('"', m + MARK.length);
              const sent = BigInt(ev.slice(m + MARK.length, end));
              lat.add(Number(now - sent) / 1000);
            }
          }
        }
        carry = buf;
        events += seen;
        if (seen) chunksWithEvents++;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, events, chunksWithEvents, ms: performance.now() - started }));
      res.on('error', reject);
    });
    req.end(body);
  });
}

export interface SseThroughputResult {
  bytesPerSec: number;
  eventsPerSec: number;
  calls: number;
  failedCalls: number;
}

/** `concurrency` loops of back-to-back unpaced `stream` calls for `durationS` seconds. */
export async function sseThroughput(url: string, tokenFor: (i: number) => string, count: number, concurrency: number, durationS: number): Promise<SseThroughputResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  let bytes = 0;
  let events = 0;
  let calls = 0;
  let failedCalls = 0;
  const started = performance.now();
  const deadline = started + durationS * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, i) => {
      while (performance.now() < deadline) {
        try {
          const r = await sseCall({ url, token: tokenFor(i), count, intervalMs: 0, agent });
          if (r.status !== 200) failedCalls++;
          bytes += r.bytes;
          events += r.events;
          calls++;
        } catch {
          failedCalls++;
        }
      }
    }),
  );
  const elapsedS = (performance.now() - started) / 1000;
  agent.destroy();
  return { bytesPerSec: bytes / elapsedS, eventsPerSec: events / elapsedS, calls, failedCalls };
}

export interface OpenStreams {
  opened: number;
  failed: number;
  /** Status codes of the streams that did not open (e.g. 504 when an upstream socket pool is exhausted). */
  failures: Record<string, number>;
  openMs: number;
  close(): void;
}

/**
 * Opens `n` standalone SSE streams (GET, one connection each) and resolves once every stream has delivered its
 * first event end to end, has failed, or `timeoutMs` passed.
 */
export async function openStreams(url: string, tokenFor: (i: number) => string, n: number, timeoutMs: number): Promise<OpenStreams> {
  const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
  const reqs: ClientRequest[] = [];
  const failures: Record<string, number> = {};
  let opened = 0;
  let failed = 0;
  const started = performance.now();
  const all = Array.from({ length: n }, (_, i) =>
    new Promise<void>((resolve) => {
      const req = request(url, {
        method: 'GET',
        agent,
        headers: { Authorization: `Bearer ${tokenFor(i)}`, Accept: 'text/event-stream', 'Mcp-Protocol-Version': '2025-11-25' },
      });
      reqs.push(req);
      req.on('error', (e: NodeJS.ErrnoException) => {
        failed++;
        failures[e.code ?? 'error'] = (failures[e.code ?? 'error'] ?? 0) + 1;
        resolve();
      });
      req.on('response', (res) => {
        if (res.statusCode !== 200) {
          failed++;
          failures[String(res.statusCode)] = (failures[String(res.statusCode)] ?? 0) + 1;
          res.resume();
          resolve();
          return;
        }
        res.once('data', () => {
          opened++;
          resolve();
        });
        res.on('error', () => undefined);
      });
      req.end();
    }),
  );
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all(all), new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
  clearTimeout(timer);
  const pending = n - opened - failed;
  if (pending > 0) failures.pending = pending;
  return {
    opened,
    failed: failed + pending,
    failures,
    openMs: performance.now() - started,
    close() {
      for (const r of reqs) r.destroy();
      agent.destroy();
    },
  };
}
