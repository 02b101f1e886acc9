/**
 * Baselines for keyhole's forwarding cost, both without any authorization work:
 * - `--mode hono` (the "bare" pass-through): Hono 4 on @hono/node-server 2, one route, forwarding with the SAME
 *   technique as keyhole's forwarder — a `node:http` keep-alive Agent with the same options, the upstream answer
 *   piped into the raw ServerResponse, and @hono/node-server's RESPONSE_ALREADY_SENT marker. The same-stack
 *   baseline: keyhole minus auth, CORS/Origin rules, header filtering and error handling.
 * - `--mode raw`: a plain `node:http` server doing the same forwarding (no Hono): the platform's floor.
 *
 * The client's Authorization header is passed through unchanged (the client sends the upstream token).
 * Run by bench/run.ts as a child: `bare-proxy.js --mode hono|raw --upstream http://127.0.0.1:PORT/mcp`.
 */
import { Agent, createServer, request, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Hono } from 'hono';
import { serve, type HttpBindings } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { argValue, isChildEntry, serveChildProtocol } from './lib/child.js';

const HOP = ['connection', 'keep-alive', 'transfer-encoding', 'te', 'upgrade', 'proxy-connection', 'trailer'];

function strip(h: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = { ...h };
  for (const k of HOP) delete out[k];
  return out;
}

/** Forward `incoming` to `upstream` and pipe the answer into `outgoing`. Resolves once the answer started (true) or failed (false). */
function forward(agent: Agent, upstream: URL, incoming: IncomingMessage, outgoing: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    const headers = strip(incoming.headers);
    headers.host = upstream.host;
    const up = request(
      { agent, hostname: upstream.hostname, port: upstream.port, path: upstream.pathname + upstream.search, method: incoming.method, headers },
      (res) => {
        outgoing.writeHead(res.statusCode ?? 502, strip(res.headers));
        if (res.headers['content-length'] === undefined) outgoing.flushHeaders();
        res.pipe(outgoing);
        outgoing.on('close', () => {
          if (!res.complete) up.destroy();
        });
        resolve(true);
      },
    );
    up.on('error', () => resolve(false));
    incoming.pipe(up);
  });
}

export async function startBareProxy(mode: 'hono' | 'raw', upstreamUrl: string): Promise<{ port: number; close(): Promise<void> }> {
  const upstream = new URL(upstreamUrl);
  // The same Agent options as src/proxy/upstream-send.ts.
  const agent = new Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 256, scheduling: 'lifo', timeout: 4_000 });

  if (mode === 'raw') {
    const server = createServer((req, res) => {
      void forward(agent, upstream, req, res).then((ok) => {
        if (!ok && !res.headersSent) res.writeHead(502).end();
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return {
      port: (server.address() as AddressInfo).port,
      close: () => new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); agent.destroy(); }),
    };
  }

  const app = new Hono<{ Bindings: HttpBindings }>();
  app.all('/mcp', async (c) => {
    const ok = await forward(agent, upstream, c.env.incoming, c.env.outgoing);
    return ok ? RESPONSE_ALREADY_SENT : c.json({ error: 'bad gateway' }, 502);
  });
  const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 });
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
        agent.destroy();
      }),
  };
}

if (isChildEntry(import.meta.url)) {
  const mode = argValue('mode', 'hono') === 'raw' ? 'raw' : 'hono';
  const p = await startBareProxy(mode, argValue('upstream')!);
  serveChildProtocol(p.port, () => p.close());
}
