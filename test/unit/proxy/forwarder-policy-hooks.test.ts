/**
 * The forwarder's two hooks for traffic policy, over real sockets: `onOutcome` (once per request: the upstream's
 * status after the 401 retry, a timeout, no connection) and a chain of response rewrites applied in order.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Transform } from 'node:stream';
import { serve, type HttpBindings, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createForwarder, type ForwardAuth, type ForwardTarget } from '../../../src/proxy/forwarder.js';
import type { UpstreamOutcome } from '../../../src/proxy/forward-target.js';

let upstream: Server;
let upstreamPort: number;
let handler: (req: IncomingMessage, res: ServerResponse) => void;
let proxy: ServerType;
let proxyPort: number;
let target: ForwardTarget;
let outcomes: UpstreamOutcome[];
const forwarder = createForwarder({ maxBodyBytes: 1024 });
const auth: ForwardAuth = { grantId: 'g', getAccessToken: async () => ({ header: 'Authorization', value: 'Bearer up' }) };

const listen = (s: Server) => new Promise<number>((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port)));

/** A rewrite that maps each chunk's text. */
const mapText = (f: (s: string) => string) => () => new Transform({ transform: (chunk: Buffer, _e, cb) => cb(null, f(chunk.toString())) });

beforeAll(async () => {
  upstream = createServer((req, res) => {
    req.resume();
    req.on('end', () => handler(req, res));
  });
  upstreamPort = await listen(upstream);
  const app = new Hono<{ Bindings: HttpBindings }>();
  app.post('/mcp', (c) => forwarder.forward(c, { ...target, onOutcome: (o) => outcomes.push(o) }, auth, Buffer.from('{}')));
  await new Promise<void>((resolve) => {
    proxy = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) => {
      proxyPort = info.port;
      resolve();
    });
  });
});
afterAll(async () => {
  forwarder.close();
  await new Promise<void>((r) => proxy.close(() => r()));
  await new Promise<void>((r) => upstream.close(() => r()));
});
beforeEach(() => {
  outcomes = [];
  target = { url: new URL(`http://127.0.0.1:${upstreamPort}/mcp`), timeoutMs: 300 };
});

const post = () => fetch(`http://127.0.0.1:${proxyPort}/mcp`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });

describe('forwarder policy hooks', () => {
  it('reports the upstream status once per request: 200, 500, and 401 after the one retry', async () => {
    for (const status of [200, 500]) {
      handler = (_q, res) => res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
      expect((await post()).status).toBe(status);
    }
    handler = (_q, res) => res.writeHead(401).end();
    expect((await post()).status).toBe(401);
    expect(outcomes).toEqual([{ kind: 'response', status: 200 }, { kind: 'response', status: 500 }, { kind: 'response', status: 401 }]);
  });

  it('reports a timeout and an upstream with nothing listening', async () => {
    handler = () => {}; // never answers
    expect((await post()).status).toBe(504);
    const closed = createServer();
    const port = await listen(closed);
    await new Promise<void>((r) => closed.close(() => r()));
    target = { url: new URL(`http://127.0.0.1:${port}/mcp`), timeoutMs: 300 };
    expect((await post()).status).toBe(502);
    expect(outcomes).toEqual([{ kind: 'timeout' }, { kind: 'unreachable' }]);
  });

  it('pipes a successful body through a chain of rewrites in order, skipping those that answer null', async () => {
    handler = (_q, res) => res.writeHead(200, { 'content-type': 'application/json', 'content-length': '11' }).end('{"a":"abc"}');
    target.transformResponse = [mapText((s) => s.toUpperCase()), () => null, mapText((s) => s.replace('ABC', 'x'))];
    const res = await post();
    expect(res.headers.get('content-length')).toBeNull();
    expect(await res.text()).toBe('{"A":"x"}');
    // Error answers are never rewritten.
    handler = (_q, res2) => res2.writeHead(400, { 'content-type': 'application/json' }).end('{"a":"abc"}');
    expect(await (await post()).text()).toBe('{"a":"abc"}');
  });

  it('a single rewrite still works as before', async () => {
    handler = (_q, res) => res.writeHead(200, { 'content-type': 'text/event-stream' }).end('data: abc\n\n');
    target.transformResponse = mapText((s) => s.toUpperCase());
    expect(await (await post()).text()).toBe('DATA: ABC\n\n');
  });
});
