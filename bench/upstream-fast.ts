/**
 * The fast upstream MCP endpoint: a minimal `node:http` JSON-RPC responder, so that what the benchmark measures
 * is the proxy, not the upstream.
 * - Every request must carry `Authorization: Bearer <token>`; the token is checked with one Map lookup.
 * - `POST /mcp` `tools/call`:
 *   - any tool but `stream` → a small JSON result (Content-Length);
 *   - `stream` with `{ count, intervalMs }` → an SSE response: `count` `notifications/progress` events, each carrying
 *     its send time as `process.hrtime.bigint()` (CLOCK_MONOTONIC, the same clock in every process of the machine)
 *     in `params.message` ("sent <ns>"), then the result. `intervalMs: 0` sends them as fast as the socket takes them.
 * - `GET /mcp` (Accept: text/event-stream) → a standalone SSE stream that stays open (a comment at once, then one every 15 s).
 * - `initialize`, `tools/list` answer; notifications get 202.
 *
 * Run by bench/run.ts as a child: `upstream-fast.js --token-prefix up_x_ --token-count 1000`.
 * The valid tokens are `${prefix}${i}` for i in [0, count).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import type { AddressInfo } from 'node:net';
import { argValue, isChildEntry, serveChildProtocol } from './lib/child.js';

export interface FastUpstream {
  server: Server;
  port: number;
  close(): Promise<void>;
}

const TOOLS_LIST = JSON.stringify({
  tools: [
    { name: 'echo', description: 'Echoes its text', inputSchema: { type: 'object', properties: { text: { type: 'string' } } } },
    { name: 'stream', description: 'Streams progress notifications', inputSchema: { type: 'object', properties: { count: { type: 'number' }, intervalMs: { type: 'number' } } } },
  ],
});

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function json(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

interface RpcRequest {
  jsonrpc?: string;
  id?: string | number | null;
  method?: string;
  params?: { name?: string; arguments?: { count?: number; intervalMs?: number; text?: string }; _meta?: { progressToken?: string | number } };
}

async function streamProgress(res: ServerResponse, idJson: string, progressToken: string, count: number, intervalMs: number): Promise<void> {
  let closed = false;
  res.on('close', () => {
    closed = true;
  });
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
  res.flushHeaders();
  for (let i = 1; i <= count && !closed; i++) {
    if (intervalMs > 0) await delay(intervalMs);
    const ev =
      `event: message\ndata: {"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":${progressToken},` +
      `"progress":${i},"total":${count},"message":"sent ${process.hrtime.bigint()}"}}\n\n`;
    if (!res.write(ev) && !closed) await once(res, 'drain').catch(() => undefined);
  }
  if (closed) return;
  res.end(`event: message\ndata: {"jsonrpc":"2.0","id":${idJson},"result":{"content":[{"type":"text","text":"streamed ${count}"}]}}\n\n`);
}

function standaloneStream(res: ServerResponse): void {
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
  res.write(': open\n\n');
  const t = setInterval(() => res.write(': ping\n\n'), 15_000);
  res.on('close', () => clearInterval(t));
}

export async function startFastUpstream(opts: { tokenPrefix: string; tokenCount: number; port?: number }): Promise<FastUpstream> {
  const tokens = new Map<string, number>();
  for (let i = 0; i < opts.tokenCount; i++) tokens.set(`${opts.tokenPrefix}${i}`, i);

  const server = createServer((req, res) => {
    const auth = req.headers.authorization;
    if (auth === undefined || !auth.startsWith('Bearer ') || !tokens.has(auth.slice(7))) {
      req.resume();
      res.writeHead(401, { 'Content-Type': 'application/json', 'WWW-Authenticate': 'Bearer error="invalid_token"', 'Content-Length': 25 });
      res.end('{"error":"invalid_token"}');
      return;
    }
    if (req.method === 'GET') {
      standaloneStream(res);
      return;
    }
    if (req.method === 'DELETE') {
      req.resume();
      res.writeHead(204).end();
      return;
    }
    if (req.method !== 'POST') {
      req.resume();
      json(res, 405, '{"error":"method not allowed"}');
      return;
    }
    readBody(req).then(
      (text) => {
        let rpc: RpcRequest;
        try {
          rpc = JSON.parse(text) as RpcRequest;
        } catch {
          json(res, 400, '{"jsonrpc":"2.0","error":{"code":-32700,"message":"parse error"},"id":null}');
          return;
        }
        if (rpc.id === undefined) {
          res.writeHead(202).end(); // a notification
          return;
        }
        const idJson = JSON.stringify(rpc.id);
        switch (rpc.method) {
          case 'tools/call': {
            if (rpc.params?.name === 'stream') {
              const args = rpc.params.arguments ?? {};
              const pt = JSON.stringify(rpc.params._meta?.progressToken ?? 1);
              void streamProgress(res, idJson, pt, Math.max(0, Math.floor(args.count ?? 1000)), Math.max(0, args.intervalMs ?? 0));
              return;
            }
            json(res, 200, `{"jsonrpc":"2.0","id":${idJson},"result":{"content":[{"type":"text","text":"hello from the fast upstream"}],"isError":false}}`);
            return;
          }
          case 'tools/list':
            json(res, 200, `{"jsonrpc":"2.0","id":${idJson},"result":${TOOLS_LIST}}`);
            return;
          case 'initialize':
            json(res, 200, `{"jsonrpc":"2.0","id":${idJson},"result":{"protocolVersion":"2025-11-25","capabilities":{"tools":{}},"serverInfo":{"name":"fast-upstream","version":"1.0.0"}}}`);
            return;
          default:
            json(res, 200, `{"jsonrpc":"2.0","id":${idJson},"error":{"code":-32601,"message":"method not found"}}`);
        }
      },
      () => res.destroy(),
    );
  });
  server.listen(opts.port ?? 0, '127.0.0.1');
  await once(server, 'listening');
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

if (isChildEntry(import.meta.url)) {
  const up = await startFastUpstream({
    tokenPrefix: argValue('token-prefix', 'up_')!,
    tokenCount: Number(argValue('token-count', '1')),
    port: Number(argValue('port', '0')),
  });
  serveChildProtocol(up.port, () => up.close());
}
