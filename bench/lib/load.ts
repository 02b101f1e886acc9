/**
 * HTTP load through autocannon's programmatic API.
 *
 * autocannon's own latency histogram has 1 ms resolution (integer HDR values), too coarse for sub-millisecond
 * overheads, so every 2xx response time (a float in ms from process.hrtime) is also recorded here at full resolution.
 */
import autocannon from 'autocannon';
import type { IncomingHttpHeaders } from 'node:http';
import { Samples } from './stats.js';

export interface HttpLoadOptions {
  url: string;
  connections: number;
  /** Seconds; ignored when `amount` is set. */
  durationS: number;
  amount?: number;
  method?: 'GET' | 'POST';
  body?: string;
  headers: Record<string, string>;
  /** Extra headers per connection (e.g. one grant's token per connection, as with real MCP clients). */
  connectionHeaders?: (connectionIndex: number) => Record<string, string>;
  /** A fresh body and/or headers for every request (e.g. a new refresh token, or another grant's token, each time). */
  perRequest?: () => { body?: string; headers?: Record<string, string> };
  /** Fixed overall request rate (open loop) instead of as fast as possible. */
  overallRate?: number;
}

export interface HttpLoadResult {
  /** 2xx responses per second. */
  rps: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  meanMs: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  durationS: number;
  /** A few status codes seen when non-2xx > 0, to explain failures. */
  statusCodes: Record<string, number>;
}

export function httpLoad(o: HttpLoadOptions): Promise<HttpLoadResult> {
  const samples = new Samples();
  let conn = 0;
  const statusCodes: Record<string, number> = {};
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const options: autocannon.Options = {
      url: o.url,
      connections: o.connections,
      duration: o.durationS,
      method: o.method ?? 'POST',
      headers: o.headers,
      ...(o.amount !== undefined ? { amount: o.amount } : {}),
      ...(o.overallRate !== undefined ? { overallRate: o.overallRate } : {}),
      ...(o.body !== undefined ? { body: o.body } : {}),
      ...(o.connectionHeaders
        ? {
            setupClient: (client: autocannon.Client) => {
              client.setHeaders({ ...o.headers, ...o.connectionHeaders!(conn++) } as IncomingHttpHeaders);
            },
          }
        : {}),
      ...(o.perRequest
        ? {
            requests: [
              {
                method: o.method ?? 'POST',
                setupRequest: (req: autocannon.Request) => {
                  const next = o.perRequest!();
                  if (next.body !== undefined) req.body = next.body;
                  if (next.headers) req.headers = { ...o.headers, ...next.headers };
                  return req;
                },
              } as autocannon.Request,
            ],
          }
        : {}),
      timeout: 30,
    };
    const instance = autocannon(options, (err, result) => {
      if (err) {
        reject(err);
        return;
      }
      const elapsedS = Math.max(result.duration, (performance.now() - started) / 1000);
      resolve({
        rps: samples.count / elapsedS,
        p50Ms: samples.percentile(50),
        p90Ms: samples.percentile(90),
        p99Ms: samples.percentile(99),
        meanMs: samples.mean(),
        ok: samples.count,
        non2xx: result.non2xx,
        errors: result.errors,
        timeouts: result.timeouts,
        durationS: elapsedS,
        statusCodes,
      });
    });
    instance.on('response', (_client: autocannon.Client, statusCode: number, _bytes: number, responseTime: number) => {
      if (statusCode >= 200 && statusCode < 300) samples.add(responseTime);
      else statusCodes[statusCode] = (statusCodes[statusCode] ?? 0) + 1;
    });
  });
}

export interface PacedLoadOptions {
  url: string;
  connections: number;
  /** Total requests per second over all connections, evenly spaced. */
  ratePerSec: number;
  durationS: number;
  body: string;
  headers: Record<string, string>;
  connectionHeaders: (connectionIndex: number) => Record<string, string>;
}

/**
 * Open-loop load: `connections` keep-alive clients, each sending one request every `connections / ratePerSec`
 * seconds, staggered so that the requests are evenly spaced overall. Unlike a closed loop at saturation (where
 * latency ≈ connections / throughput), this shows what a request costs while the machine is not overloaded.
 * (autocannon's `overallRate` sends each second's quota in a burst, so it is not used for this.)
 * A client whose response comes later than its next slot sends the next request at once.
 */
export async function pacedLoad(o: PacedLoadOptions): Promise<HttpLoadResult> {
  const { request, Agent } = await import('node:http');
  const agent = new Agent({ keepAlive: true, maxSockets: o.connections });
  const samples = new Samples();
  const statusCodes: Record<string, number> = {};
  let non2xx = 0;
  let errors = 0;
  const intervalMs = (o.connections * 1000) / o.ratePerSec;
  const started = performance.now();
  const end = started + o.durationS * 1000;
  const body = Buffer.from(o.body);
  const one = (headers: Record<string, string>): Promise<void> =>
    new Promise((resolve) => {
      const t = performance.now();
      const req = request(o.url, { method: 'POST', agent, headers: { ...headers, 'Content-Length': String(body.length) } });
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.on('response', (res) => {
        res.on('data', () => undefined);
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) samples.add(performance.now() - t);
          else {
            non2xx++;
            statusCodes[status] = (statusCodes[status] ?? 0) + 1;
          }
          resolve();
        });
      });
      req.end(body);
    });
  await Promise.all(
    Array.from({ length: o.connections }, async (_, i) => {
      const headers = { ...o.headers, ...o.connectionHeaders(i) };
      let next = started + (i * intervalMs) / o.connections;
      for (;;) {
        const wait = next - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        if (performance.now() >= end) break;
        await one(headers);
        next += intervalMs;
      }
    }),
  );
  agent.destroy();
  const durationS = (performance.now() - started) / 1000;
  return {
    rps: samples.count / durationS, p50Ms: samples.percentile(50), p90Ms: samples.percentile(90), p99Ms: samples.percentile(99),
    meanMs: samples.mean(), ok: samples.count, non2xx, errors, timeouts: 0, durationS, statusCodes,
  };
}
