import { once } from 'node:events';
import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve, type HttpBindings, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mcpCors } from '../../../src/proxy/cors.js';
import {
  BodyTooLargeError,
  createForwarder,
  readRequestBody,
  type ForwardAuth,
  type ForwardTarget,
} from '../../../src/proxy/forwarder.js';

// ---------------------------------------------------------------------------------------------------------------
// Real peers: an upstream node:http server whose behaviour each test swaps, and keyhole's forwarder mounted in a
// Hono app served by @hono/node-server. The client is node:http too (fetch cannot send hop-by-hop headers).
// ---------------------------------------------------------------------------------------------------------------

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
}

type UpstreamHandler = (req: IncomingMessage, res: ServerResponse, seen: Seen) => void;

const MAX_BODY = 1024;
const TIMEOUT_MS = 300;
const CHALLENGE = 'Bearer error="invalid_token", resource_metadata="http://kh.test/.well-known/oauth-protected-resource/mcp/demo"';

let upstream: Server;
let upstreamPort: number;
let handler: UpstreamHandler;
let seen: Seen[];
let upstreamClosed: Array<{ complete: boolean }>;

let proxy: ServerType;
let proxyPort: number;
let forwarder: ReturnType<typeof createForwarder>;
let target: ForwardTarget;
let tokenCalls: boolean[];
let tokenError: Error | null;
let upstreamErrors: Array<{ grantId: string; kind: string }>;
let bodyErrors: unknown[];
let grantOverride: ForwardAuth | null = null;

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

const auth: ForwardAuth = {
  grantId: 'grant-1',
  async getAccessToken(force) {
    tokenCalls.push(force);
    if (tokenError) throw tokenError;
    return { header: 'Authorization', value: `Bearer ${force ? 'upstream-token-2' : 'upstream-token-1'}` };
  },
};

beforeAll(async () => {
  upstream = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s: Seen = { method: req.method!, url: req.url!, headers: req.headers, rawHeaders: req.rawHeaders, body: Buffer.concat(chunks) };
      seen.push(s);
      res.on('close', () => upstreamClosed.push({ complete: res.writableFinished }));
      handler(req, res, s);
    });
  });
  upstreamPort = await listen(upstream);

  forwarder = createForwarder({ maxBodyBytes: MAX_BODY, onUpstreamError: (info) => upstreamErrors.push(info) });
  const app = new Hono<{ Bindings: HttpBindings }>();
  // Middleware that touches the response headers after next(), as hono/secure-headers does.
  app.use('/cors/*', async (c, next) => {
    await next();
    c.res.headers.set('X-After-Next', '1');
  });
  app.use('/cors/*', mcpCors({ publicOrigin: 'http://kh.test', allowedOrigins: ['http://app.test'] }));
  app.on(['GET', 'POST', 'DELETE', 'PUT'], '*', async (c) => {
    let body: Buffer | null = null;
    if (c.req.method === 'POST') {
      try {
        body = await readRequestBody(c.env.incoming, MAX_BODY);
      } catch (err) {
        bodyErrors.push(err);
        if (err instanceof BodyTooLargeError) return c.json({ error: 'too_large' }, 413);
        throw err;
      }
    }
    return forwarder.forward(c, target, grantOverride ?? auth, body);
  });
  app.onError((err, c) => c.json({ mapped: err.message }, 500));
  await new Promise<void>((resolve) => {
    proxy = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => {
      proxyPort = info.port;
      resolve();
    });
  });
});

afterAll(async () => {
  forwarder.close();
  await new Promise((r) => proxy.close(r));
  upstream.closeAllConnections();
  await new Promise((r) => upstream.close(r));
});

beforeEach(() => {
  seen = [];
  upstreamClosed = [];
  tokenCalls = [];
  tokenError = null;
  upstreamErrors = [];
  bodyErrors = [];
  target = { url: new URL(`http://127.0.0.1:${upstreamPort}/mcp?x=1`), timeoutMs: TIMEOUT_MS, challenge401: CHALLENGE };
  handler = (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end('{"jsonrpc":"2.0","result":{},"id":1}');
  };
});

afterEach(() => {
  expect(forwarder.openStreamCount()).toBe(0);
});

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Node adds no Host to a raw header array. */
const withHost = (headers: string[]) => ['Host', `127.0.0.1:${proxyPort}`, ...headers];

/** One request to keyhole, raw headers as given (array form keeps duplicates and hop-by-hop fields). */
function call(method: string, path: string, headers: string[] = [], body?: string | Buffer): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: proxyPort, method, path, headers: withHost(headers) as never, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Open a streaming response; `next()` resolves with the next chunk as soon as it arrives. */
async function openStream(method: string, path: string, headers: string[] = [], body?: string) {
  const req = httpRequest({ host: '127.0.0.1', port: proxyPort, method, path, headers: withHost(headers) as never, agent: false });
  req.end(body);
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  const queue: string[] = [];
  const waiters: Array<(v: string | null) => void> = [];
  let ended = false;
  const ended$ = new Promise<'end' | 'error'>((resolve) => {
    res.on('end', () => resolve('end'));
    res.on('error', () => resolve('error'));
    res.on('close', () => resolve(res.complete ? 'end' : 'error'));
  });
  res.on('data', (c: Buffer) => {
    const w = waiters.shift();
    if (w) w(c.toString());
    else queue.push(c.toString());
  });
  void ended$.then(() => {
    ended = true;
    for (const w of waiters.splice(0)) w(null);
  });
  return {
    req,
    res,
    ended: ended$,
    next(): Promise<string | null> {
      if (queue.length) return Promise.resolve(queue.shift()!);
      if (ended) return Promise.resolve(null);
      return new Promise((resolve) => waiters.push(resolve));
    },
  };
}

const deferred = () => {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
};

const waitFor = async (cond: () => boolean, ms = 2_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('forwarder', () => {
  describe('request headers', () => {
    it('swaps Authorization for the upstream token and never sends the client token upstream', async () => {
      const r = await call('POST', '/mcp/demo', ['Authorization', 'Bearer keyhole-client-token', 'Content-Type', 'application/json'], '{"a":1}');
      expect(r.status).toBe(200);
      expect(seen).toHaveLength(1);
      const s = seen[0]!;
      expect(s.headers.authorization).toBe('Bearer upstream-token-1');
      expect(s.rawHeaders.filter((h) => h.toLowerCase() === 'authorization')).toHaveLength(1);
      expect(JSON.stringify(s.rawHeaders)).not.toContain('keyhole-client-token');
      expect(tokenCalls).toEqual([false]);
      expect(s.url).toBe('/mcp?x=1');
    });

    it('strips cookies, hop-by-hop, Connection-named, Origin, Forwarded, X-Forwarded-* and unlisted fields', async () => {
      await call('POST', '/mcp/demo', [
        'Authorization', 'Bearer client',
        'Cookie', '__Host-keyhole-consent=secret',
        'Connection', 'keep-alive, X-Hop-Custom',
        'Keep-Alive', 'timeout=5',
        'X-Hop-Custom', 'drop-me',
        'TE', 'trailers',
        'Trailer', 'X-Foo',
        'Upgrade', 'websocket',
        'Proxy-Authorization', 'Basic Zm9vOmJhcg==',
        'Origin', 'http://evil.test',
        'Forwarded', 'for=1.2.3.4',
        'X-Forwarded-For', '1.2.3.4',
        'X-Forwarded-Host', 'evil.test',
        'Accept-Encoding', 'gzip, br',
        'Content-Type', 'application/json',
        'X-Other', 'kept',
      ], '{"jsonrpc":"2.0","method":"ping","id":1}');
      const h = seen[0]!.headers;
      for (const name of ['cookie', 'keep-alive', 'x-hop-custom', 'te', 'trailer', 'upgrade', 'proxy-authorization', 'origin', 'forwarded', 'x-forwarded-for', 'x-forwarded-host']) {
        expect(h[name], name).toBeUndefined();
      }
      expect(h.connection).toBe('keep-alive'); // the agent's own, not the client's
      expect(h.host).toBe(`127.0.0.1:${upstreamPort}`);
      expect(h['accept-encoding']).toBe('identity');
      expect(h['content-length']).toBe(String(Buffer.byteLength('{"jsonrpc":"2.0","method":"ping","id":1}')));
      expect(h['content-type']).toBe('application/json');
      expect(h['x-other']).toBeUndefined(); // not on the allow-list
      expect(seen[0]!.body.toString()).toBe('{"jsonrpc":"2.0","method":"ping","id":1}');
    });

    it('passes Accept, Mcp-Session-Id, MCP-Protocol-Version, Last-Event-ID and every Mcp-* field unchanged', async () => {
      await call('POST', '/mcp/demo', [
        'Accept', 'application/json, text/event-stream',
        'Content-Type', 'application/json',
        'Mcp-Session-Id', 'sess-123',
        'MCP-Protocol-Version', '2025-11-25',
        'Last-Event-ID', 'evt-41',
        'Mcp-Method', 'tools/call',
        'Mcp-Name', 'echo',
      ], '{}');
      const h = seen[0]!.headers;
      expect(h.accept).toBe('application/json, text/event-stream');
      expect(h['mcp-session-id']).toBe('sess-123');
      expect(h['mcp-protocol-version']).toBe('2025-11-25');
      expect(h['last-event-id']).toBe('evt-41');
      expect(h['mcp-method']).toBe('tools/call');
      expect(h['mcp-name']).toBe('echo');
    });

    it('forwards GET and DELETE without a body', async () => {
      handler = (_req, res) => {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end('ok');
      };
      const del = await call('DELETE', '/mcp/demo', ['Mcp-Session-Id', 'sess-9']);
      expect(del.status).toBe(200);
      expect(seen[0]!.method).toBe('DELETE');
      expect(seen[0]!.headers['mcp-session-id']).toBe('sess-9');
      expect(seen[0]!.headers['content-length']).toBeUndefined();
      expect(seen[0]!.body.length).toBe(0);
    });

    it('answers other methods 405 without calling the upstream', async () => {
      const r = await call('PUT', '/mcp/demo', [], 'x');
      expect(r.status).toBe(405);
      expect(r.headers.allow).toBe('GET, POST, DELETE');
      expect(seen).toHaveLength(0);
    });
  });

  describe('responses', () => {
    it('returns Mcp-Session-Id and strips hop-by-hop, upstream cookies and upstream challenges', async () => {
      handler = (_req, res) => {
        res.setHeader('Mcp-Session-Id', 'sess-new');
        res.setHeader('MCP-Protocol-Version', '2025-11-25');
        res.setHeader('Connection', 'keep-alive, X-Up-Hop');
        res.setHeader('X-Up-Hop', '1');
        res.setHeader('Set-Cookie', ['up=1; Path=/']);
        res.setHeader('WWW-Authenticate', 'Bearer resource_metadata="https://upstream.example/prm"');
        res.setHeader('Access-Control-Allow-Origin', '*');
        res.setHeader('Content-Type', 'application/json');
        res.end('{"ok":true}');
      };
      const r = await call('POST', '/mcp/demo', [], '{}');
      expect(r.status).toBe(200);
      expect(r.body).toBe('{"ok":true}');
      expect(r.headers['mcp-session-id']).toBe('sess-new');
      expect(r.headers['mcp-protocol-version']).toBe('2025-11-25');
      expect(r.headers['content-length']).toBe('11');
      expect(r.headers['x-up-hop']).toBeUndefined();
      expect(r.headers['set-cookie']).toBeUndefined();
      expect(r.headers['www-authenticate']).toBeUndefined();
      expect(r.headers['access-control-allow-origin']).toBeUndefined();
    });

    it.each([
      [202, '', undefined],
      [400, '{"jsonrpc":"2.0","error":{"code":-32600,"message":"Bad Request: missing session"},"id":null}', 'application/json'],
      [404, '{"jsonrpc":"2.0","error":{"code":-32001,"message":"Session not found"},"id":null}', 'application/json'],
      [405, 'Method Not Allowed', 'text/plain'],
    ])('passes status %i and its body through unchanged', async (status, body, type) => {
      handler = (_req, res) => {
        if (type) res.setHeader('Content-Type', type);
        res.writeHead(status);
        res.end(body);
      };
      const r = await call('POST', '/mcp/demo', ['Content-Type', 'application/json'], '{}');
      expect(r.status).toBe(status);
      expect(r.body).toBe(body);
      if (type) expect(r.headers['content-type']).toBe(type);
      expect(tokenCalls).toEqual([false]);
    });

    it('streams SSE events one by one, before the upstream ends the stream', async () => {
      const sawFirst = deferred();
      handler = (_req, res) => {
        res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'max-age=60', 'Mcp-Session-Id': 's1' });
        res.write('id: 1\ndata: {"n":1}\n\n');
        void sawFirst.promise.then(() => {
          res.write('id: 2\ndata: {"n":2}\n\n');
          res.end();
        });
      };
      const s = await openStream('POST', '/mcp/demo', ['Accept', 'text/event-stream'], '{}');
      expect(s.res.statusCode).toBe(200);
      expect(s.res.headers['content-type']).toBe('text/event-stream');
      expect(s.res.headers['cache-control']).toBe('no-cache, no-transform');
      expect(s.res.headers['x-accel-buffering']).toBe('no');
      expect(s.res.headers['mcp-session-id']).toBe('s1');
      expect(forwarder.openStreamCount()).toBe(1);
      // Event 1 arrives while the upstream is still waiting for us: nothing is buffered.
      expect(await s.next()).toBe('id: 1\ndata: {"n":1}\n\n');
      expect(seen).toHaveLength(1);
      sawFirst.resolve();
      expect(await s.next()).toBe('id: 2\ndata: {"n":2}\n\n');
      expect(await s.ended).toBe('end');
      await waitFor(() => forwarder.openStreamCount() === 0);
    });

    it('passes a same-origin redirect as is and never follows it', async () => {
      handler = (_req, res) => {
        res.writeHead(307, { Location: '/mcp/' });
        res.end();
      };
      const r = await call('POST', '/mcp/demo', [], '{}');
      expect(r.status).toBe(307);
      expect(r.headers.location).toBe('/mcp/');
      expect(seen).toHaveLength(1);
    });

    it('refuses a cross-origin redirect with 502', async () => {
      handler = (_req, res) => {
        res.writeHead(302, { Location: 'https://elsewhere.example/steal' });
        res.end();
      };
      const r = await call('POST', '/mcp/demo', [], '{}');
      expect(r.status).toBe(502);
      expect(r.headers.location).toBeUndefined();
      expect(JSON.parse(r.body)).toEqual({ jsonrpc: '2.0', error: { code: -32006, message: 'upstream redirect refused' }, id: null });
    });

    it('sends the CORS headers that middleware prepared along with a piped response', async () => {
      handler = (_req, res) => {
        res.writeHead(200, { 'Content-Type': 'application/json', Vary: 'Accept' });
        res.end('{}');
      };
      const r = await call('POST', '/cors/mcp', ['Origin', 'http://app.test'], '{}');
      expect(r.status).toBe(200);
      expect(r.headers['access-control-allow-origin']).toBe('http://app.test');
      expect(r.headers['access-control-expose-headers']).toBe('Mcp-Session-Id, WWW-Authenticate, MCP-Protocol-Version');
      expect(r.headers.vary).toBe('Accept, Origin');
      expect(seen[0]!.headers.origin).toBeUndefined();
    });

    it('keeps an SSE stream intact when middleware sets headers after next()', async () => {
      const sawFirst = deferred();
      handler = (_req, res) => {
        res.writeHead(200, { 'Content-Type': 'text/event-stream' });
        res.write('data: 1\n\n');
        void sawFirst.promise.then(() => setTimeout(() => res.end('data: 2\n\n'), 30));
      };
      const s = await openStream('GET', '/cors/mcp', ['Origin', 'http://app.test']);
      expect(s.res.headers['access-control-allow-origin']).toBe('http://app.test');
      expect(await s.next()).toBe('data: 1\n\n');
      sawFirst.resolve();
      const rest: string[] = [];
      for (let chunk = await s.next(); chunk !== null; chunk = await s.next()) rest.push(chunk);
      expect(rest.join('')).toBe('data: 2\n\n');
      expect(await s.ended).toBe('end');
      await waitFor(() => forwarder.openStreamCount() === 0);
    });
  });

  describe('upstream 401', () => {
    it('refreshes once (force) and replays the identical body with the new token', async () => {
      handler = (req, res) => {
        if (req.headers.authorization !== 'Bearer upstream-token-2') {
          res.writeHead(401, { 'WWW-Authenticate': 'Bearer error="invalid_token"', 'Content-Type': 'application/json' });
          res.end('{"error":"invalid_token"}');
          return;
        }
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end('{"retried":true}');
      };
      const body = '{"jsonrpc":"2.0","method":"tools/call","params":{"name":"echo","arguments":{"t":"é"}},"id":7}';
      const r = await call('POST', '/mcp/demo', ['Content-Type', 'application/json', 'Mcp-Session-Id', 'sx'], body);
      expect(r.status).toBe(200);
      expect(r.body).toBe('{"retried":true}');
      expect(tokenCalls).toEqual([false, true]);
      expect(seen.map((s) => s.headers.authorization)).toEqual(['Bearer upstream-token-1', 'Bearer upstream-token-2']);
      expect(seen[1]!.body.equals(seen[0]!.body)).toBe(true);
      expect(seen[1]!.body.toString()).toBe(body);
      expect(seen[1]!.headers['mcp-session-id']).toBe('sx');
    });

    it('answers 401 with keyhole\'s challenge when the upstream also rejects the fresh token', async () => {
      handler = (_req, res) => {
        res.writeHead(401, { 'WWW-Authenticate': 'Bearer resource_metadata="https://upstream.example/prm"' });
        res.end('nope');
      };
      const r = await call('POST', '/mcp/demo', [], '{}');
      expect(r.status).toBe(401);
      expect(r.headers['www-authenticate']).toBe(CHALLENGE);
      expect(JSON.parse(r.body)).toEqual({ jsonrpc: '2.0', error: { code: -32001, message: 'upstream rejected the credential' }, id: null });
      expect(tokenCalls).toEqual([false, true]);
      expect(seen).toHaveLength(2);
    });

    it('propagates a getAccessToken failure to the caller', async () => {
      tokenError = new Error('grant revoked');
      const r = await call('POST', '/mcp/demo', [], '{}');
      expect(r.status).toBe(500);
      expect(JSON.parse(r.body)).toEqual({ mapped: 'grant revoked' });
      expect(seen).toHaveLength(0);
    });
  });

  describe('upstream failures', () => {
    it('answers 502 with a fixed JSON body when the upstream is unreachable', async () => {
      const dead = createServer();
      const port = await listen(dead);
      await new Promise((r) => dead.close(r));
      target = { url: new URL(`http://127.0.0.1:${port}/mcp`), timeoutMs: 2_000 };
      const r = await call('POST', '/mcp/demo', [], '{}');
      expect(r.status).toBe(502);
      expect(r.body).toBe('{"jsonrpc":"2.0","error":{"code":-32004,"message":"upstream unreachable"},"id":null}');
      expect(r.body).not.toContain(String(port));
      expect(r.body).not.toContain('ECONNREFUSED');
      expect(r.body).not.toContain('127.0.0.1');
      expect(upstreamErrors).toEqual([{ grantId: 'grant-1', kind: 'unreachable' }]);
    });

    it('answers 502 when DNS resolution fails', async () => {
      target = { url: new URL('http://keyhole-no-such-host.invalid/mcp'), timeoutMs: 5_000 };
      const r = await call('GET', '/mcp/demo');
      expect(r.status).toBe(502);
      expect(r.body).toBe('{"jsonrpc":"2.0","error":{"code":-32004,"message":"upstream unreachable"},"id":null}');
    });

    it('answers 504 when no response headers arrive within timeoutMs', async () => {
      handler = () => {
        /* never answers */
      };
      const start = Date.now();
      const r = await call('POST', '/mcp/demo', [], '{}');
      const elapsed = Date.now() - start;
      expect(r.status).toBe(504);
      expect(r.body).toBe('{"jsonrpc":"2.0","error":{"code":-32005,"message":"upstream timed out"},"id":null}');
      expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS - 20);
      expect(elapsed).toBeLessThan(TIMEOUT_MS + 700);
      expect(upstreamErrors).toEqual([{ grantId: 'grant-1', kind: 'timeout' }]);
      await waitFor(() => upstreamClosed.length === 1); // the upstream request was aborted
    });

    it('does not apply the timeout once streaming has started', async () => {
      const release = deferred();
      handler = (_req, res) => {
        res.writeHead(200, { 'Content-Type': 'text/event-stream' });
        res.write('data: a\n\n');
        void release.promise.then(() => res.end('data: b\n\n'));
      };
      const s = await openStream('GET', '/mcp/demo', ['Accept', 'text/event-stream']);
      expect(await s.next()).toBe('data: a\n\n');
      await new Promise((r) => setTimeout(r, TIMEOUT_MS * 2));
      release.resolve();
      expect(await s.next()).toBe('data: b\n\n');
      expect(await s.ended).toBe('end');
      await waitFor(() => forwarder.openStreamCount() === 0);
    });

    it('ends the client response when the upstream resets mid-stream', async () => {
      handler = (_req, res) => {
        res.writeHead(200, { 'Content-Type': 'text/event-stream' });
        res.write('data: a\n\n');
        setTimeout(() => res.socket?.destroy(), 50);
      };
      const s = await openStream('GET', '/mcp/demo');
      expect(await s.next()).toBe('data: a\n\n');
      expect(await s.ended).toBe('error');
      await waitFor(() => forwarder.openStreamCount() === 0);
    });
  });

  describe('streams', () => {
    it('closeStreams(grantId) ends an open SSE stream at the client', async () => {
      handler = (_req, res) => {
        res.writeHead(200, { 'Content-Type': 'text/event-stream' });
        res.write(': open\n\n');
      };
      const s = await openStream('GET', '/mcp/demo', ['Accept', 'text/event-stream']);
      expect(await s.next()).toBe(': open\n\n');
      expect(forwarder.openStreamCount()).toBe(1);
      expect(forwarder.closeStreams('other-grant')).toBe(0);
      expect(forwarder.closeStreams('grant-1')).toBe(1);
      expect(forwarder.openStreamCount()).toBe(0);
      expect(await s.ended).toBe('end');
      await waitFor(() => upstreamClosed.length === 1);
      expect(upstreamClosed[0]!.complete).toBe(false);
    });

    it('forgetSessions(grantId) releases the sessions the upstream minted for that grant only', async () => {
      handler = (_req, res) => {
        res.writeHead(200, { 'Content-Type': 'application/json', 'Mcp-Session-Id': 'sess-fs' });
        res.end('{}');
      };
      await forwarder.forgetSessions('grant-1'); // sessions earlier tests minted
      expect((await call('POST', '/mcp/demo', ['Content-Type', 'application/json'], '{}')).status).toBe(200);
      expect(await forwarder.forgetSessions('other-grant')).toBe(0);
      expect(await forwarder.forgetSessions('grant-1')).toBe(1);
      expect(await forwarder.forgetSessions('grant-1')).toBe(0);
    });

    it('keys sessions by upstream: the same id minted by two upstreams for two grants does not clash', async () => {
      handler = (_req, res) => {
        res.writeHead(200, { 'Content-Type': 'application/json', 'Mcp-Session-Id': 'same-id' });
        res.end('{}');
      };
      const app = { grantId: 'grant-2', getAccessToken: async () => ({ header: 'Authorization', value: 'Bearer t2' }) };
      const urlB = new URL(`http://127.0.0.1:${upstreamPort}/other-mcp`);
      expect((await call('POST', '/mcp/demo', ['Content-Type', 'application/json'], '{}')).status).toBe(200); // grant-1, URL A
      target = { ...target, url: urlB };
      grantOverride = app;
      expect((await call('POST', '/mcp/demo', ['Content-Type', 'application/json'], '{}')).status).toBe(200); // grant-2, URL B
      expect((await call('POST', '/mcp/demo', ['Content-Type', 'application/json', 'Mcp-Session-Id', 'same-id'], '{}')).status).toBe(200);
      target = { ...target, url: new URL(`http://127.0.0.1:${upstreamPort}/mcp?x=1`) };
      const foreign = await call('POST', '/mcp/demo', ['Content-Type', 'application/json', 'Mcp-Session-Id', 'same-id'], '{}'); // grant-2 on URL A
      expect(foreign.status).toBe(404);
      expect(JSON.parse(foreign.body)).toEqual({ jsonrpc: '2.0', error: { code: -32010, message: 'Session not found' }, id: null });
      grantOverride = null;
      await forwarder.forgetSessions('grant-1');
      await forwarder.forgetSessions('grant-2');
    });

    it('a client abort mid-stream closes the upstream request', async () => {
      handler = (_req, res) => {
        res.writeHead(200, { 'Content-Type': 'text/event-stream' });
        res.write('data: 1\n\n');
      };
      const s = await openStream('GET', '/mcp/demo');
      expect(await s.next()).toBe('data: 1\n\n');
      s.req.destroy();
      await waitFor(() => upstreamClosed.length === 1);
      expect(upstreamClosed[0]!.complete).toBe(false);
      await waitFor(() => forwarder.openStreamCount() === 0);
    });

    it('a client abort before the upstream answered aborts the upstream request', async () => {
      handler = () => {
        /* holds the request */
      };
      target = { ...target, timeoutMs: 5_000 };
      const req = httpRequest({ host: '127.0.0.1', port: proxyPort, method: 'POST', path: '/mcp/demo', agent: false });
      req.on('error', () => {});
      req.end('{}');
      await waitFor(() => seen.length === 1);
      req.destroy();
      await waitFor(() => upstreamClosed.length === 1);
      expect(upstreamErrors).toEqual([]);
    });
  });
});

describe('readRequestBody', () => {
  it('refuses a body over maxBytes with BodyTooLargeError (declared length)', async () => {
    const r = await call('POST', '/mcp/demo', ['Content-Type', 'application/json'], Buffer.alloc(MAX_BODY + 1, 'a'));
    expect(r.status).toBe(413);
    expect(bodyErrors[0]).toBeInstanceOf(BodyTooLargeError);
    expect(seen).toHaveLength(0);
  });

  it('refuses a chunked body once it passes maxBytes', async () => {
    const result = new Promise<Reply>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: proxyPort, method: 'POST', path: '/mcp/demo', agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      });
      req.on('error', reject);
      req.write(Buffer.alloc(600, 'a'));
      setTimeout(() => {
        req.write(Buffer.alloc(600, 'b'));
        req.end();
      }, 20);
    });
    const r = await result;
    expect(r.status).toBe(413);
    expect(bodyErrors[0]).toBeInstanceOf(BodyTooLargeError);
    expect(seen).toHaveLength(0);
  });

  // Sent in one write with its end: the body is all buffered (several chunks) before the handler reads it, the
  // synchronous path of readWholeBody.
  function chunkedAtOnce(parts: Buffer[]): Promise<Reply> {
    return new Promise<Reply>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: proxyPort, method: 'POST', path: '/mcp/demo', agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      });
      req.on('error', reject);
      req.cork();
      for (const p of parts) req.write(p);
      req.end();
      req.uncork();
    });
  }

  it('reads a chunked body that arrived whole, every chunk in order', async () => {
    const r = await chunkedAtOnce([Buffer.from('{"a":'), Buffer.from('"'), Buffer.alloc(300, 'q'), Buffer.from('"}')]);
    expect(r.status).toBe(200);
    expect(seen[0]!.body.toString()).toBe(`{"a":"${'q'.repeat(300)}"}`);
  });

  it('refuses a chunked body past maxBytes that arrived whole (no declared length)', async () => {
    const r = await chunkedAtOnce([Buffer.alloc(600, 'a'), Buffer.alloc(600, 'b')]);
    expect(r.status).toBe(413);
    expect(bodyErrors[0]).toBeInstanceOf(BodyTooLargeError);
    expect(seen).toHaveLength(0);
  });

  it('reads an empty chunked body that arrived whole', async () => {
    const r = await chunkedAtOnce([]);
    expect(r.status).toBe(200);
    expect(seen[0]!.body.length).toBe(0);
  });

  it('accepts a body of exactly maxBytes', async () => {
    const r = await call('POST', '/mcp/demo', [], Buffer.alloc(MAX_BODY, 'z'));
    expect(r.status).toBe(200);
    expect(seen[0]!.body.length).toBe(MAX_BODY);
  });
});
