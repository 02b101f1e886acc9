/**
 * The plain `/mcp/{server}` dispatcher's composition (src/proxy/mcp-dispatch.ts) over a real socket: Hono's rule
 * (an error goes to the error handler where it was thrown, the outer steps go on and see `c.error`), steps that
 * answer synchronously or asynchronously, a step that throws before returning, `next()` called twice, and paths
 * it leaves to Hono.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Context, MiddlewareHandler } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { createMcpDispatch, type ErrorHandler } from '../../../src/proxy/mcp-dispatch.js';

let server: Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

async function serveWith(handlers: MiddlewareHandler[], onError: ErrorHandler = (e, c) => c.json({ error: e.message }, 500)) {
  const dispatch = createMcpDispatch(handlers, onError);
  server = createServer((req, res) => {
    if (!dispatch(req, res)) {
      res.writeHead(418);
      res.end('not mine');
    }
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return (path: string) => new Promise<{ status: number; body: string; headers: Record<string, unknown> }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end('{}');
  });
}

describe('mcp-dispatch composition', () => {
  it('a synchronous step (no promise) answers; an async one after next() still runs', async () => {
    const seen: string[] = [];
    const call = await serveWith([
      async (c, next) => { seen.push('outer in'); await next(); seen.push(`outer out ${(c as Context).res.status}`); },
      ((c: Context) => c.json({ sync: true }, 201)) as unknown as MiddlewareHandler,
      async () => { seen.push('never'); },
    ]);
    const r = await call('/mcp/demo');
    expect(r.status).toBe(201);
    expect(JSON.parse(r.body)).toEqual({ sync: true });
    expect(seen).toEqual(['outer in', 'outer out 201']);
  });

  it('an inner step that rejects: the error handler answers at that level, the outer step goes on and sees c.error', async () => {
    const seen: string[] = [];
    const call = await serveWith([
      async (c, next) => {
        await next();
        seen.push(`outer saw ${(c as Context).error?.message}`);
        return (c as Context).json({ late: true }, 200); // ignored: the answer is decided
      },
      async () => { await Promise.resolve(); throw new Error('boom'); },
    ]);
    const r = await call('/mcp/demo');
    expect(r.status).toBe(500);
    expect(JSON.parse(r.body)).toEqual({ error: 'boom' });
    expect(seen).toEqual(['outer saw boom']);
  });

  it('a step that throws synchronously (before returning a promise) is handled the same way', async () => {
    const call = await serveWith([
      async (_c, next) => { await next(); },
      (() => { throw new Error('sync boom'); }) as unknown as MiddlewareHandler,
    ]);
    const r = await call('/mcp/demo');
    expect(r.status).toBe(500);
    expect(JSON.parse(r.body)).toEqual({ error: 'sync boom' });
  });

  it('an async error handler answers too', async () => {
    const call = await serveWith([async () => { throw new Error('x'); }], async (_e, c) => c.json({ handled: 'async' }, 503));
    const r = await call('/mcp/demo');
    expect(r.status).toBe(503);
    expect(JSON.parse(r.body)).toEqual({ handled: 'async' });
  });

  it('next() called twice is an error, answered by the error handler', async () => {
    const call = await serveWith([
      async (_c, next) => { await next(); await next(); },
      async (c) => { (c as Context).header('x-inner', '1'); },
    ]);
    const r = await call('/mcp/demo');
    expect(r.status).toBe(500);
    expect(JSON.parse(r.body)).toEqual({ error: 'next() called multiple times' });
  });

  it('a failing error handler ends in a generic 500, never a stack trace', async () => {
    const call = await serveWith([async () => { throw new Error('secret detail'); }], () => { throw new Error('handler broke'); });
    const r = await call('/mcp/demo');
    expect(r.status).toBe(500);
    expect(JSON.parse(r.body)).toEqual({ error: 'server_error', error_description: 'internal error' });
    expect(r.body).not.toContain('secret detail');
  });

  it('leaves other paths to Hono (percent-encoding, trailing slash, other prefixes)', async () => {
    const call = await serveWith([async (c) => (c as Context).json({ mine: true })]);
    expect((await call('/mcp/demo')).status).toBe(200);
    for (const p of ['/mcp/de%6Do', '/mcp/demo/', '/mcpx/demo', '/other']) expect((await call(p)).status).toBe(418);
  });
});
