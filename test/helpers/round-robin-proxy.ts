/**
 * A small load balancer for tests with several keyhole instances: a node:http proxy that sends each request to the
 * next instance in turn (round robin), streaming both bodies (SSE included) without buffering.
 *
 * Headers go through as they came, `Host` included (every instance's publicUrl is the proxy's URL, as behind a real
 * load balancer); `X-Forwarded-For`, `X-Forwarded-Proto` and `X-Forwarded-Host` are added (appended) as a reverse
 * proxy does. No sticky sessions: that is the point.
 *
 * `pin(path, index)` sends every request whose path (without the query) equals `path` to one instance, so that a test
 * can say "authorize on A, callback on B, token on A"; everything else alternates. `log` records where each request
 * went.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProxiedRequest {
  method: string;
  path: string;
  /** Index of the instance that answered. */
  instance: number;
  status?: number;
}

export interface RoundRobinProxy {
  /** `http://127.0.0.1:<port>`: the publicUrl every instance is configured with. */
  readonly url: string;
  readonly port: number;
  /** Targets, e.g. `http://127.0.0.1:<port>` of each instance; may be set after start (the publicUrl comes first). */
  targets: string[];
  readonly log: ProxiedRequest[];
  pin(path: string, instance: number): void;
  unpin(path: string): void;
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade']);

export async function startRoundRobinProxy(targets: string[] = [], options: { port?: number } = {}): Promise<RoundRobinProxy> {
  let next = 0;
  const pins = new Map<string, number>();
  const log: ProxiedRequest[] = [];
  const proxy: Partial<RoundRobinProxy> & { targets: string[]; log: ProxiedRequest[] } = { targets, log };

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (proxy.targets.length === 0) {
      res.writeHead(503).end('no instances');
      return;
    }
    const pinned = pins.get(path);
    const instance = pinned ?? next++ % proxy.targets.length;
    const target = new URL(proxy.targets[instance]!);
    const entry: ProxiedRequest = { method: req.method ?? 'GET', path, instance };
    log.push(entry);
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
    const peer = req.socket.remoteAddress ?? '127.0.0.1';
    headers['x-forwarded-for'] = req.headers['x-forwarded-for'] ? `${String(req.headers['x-forwarded-for'])}, ${peer}` : peer;
    headers['x-forwarded-proto'] = 'http';
    headers['x-forwarded-host'] = req.headers.host ?? '';
    const upstream = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers }, (answer) => {
      entry.status = answer.statusCode;
      const out: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(answer.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
      res.writeHead(answer.statusCode ?? 502, out);
      res.flushHeaders();
      answer.pipe(res);
      answer.once('error', () => res.destroy());
      answer.once('aborted', () => res.destroy());
    });
    upstream.once('error', () => {
      if (!res.headersSent) res.writeHead(502).end('bad gateway');
      else res.destroy();
    });
    res.once('close', () => {
      if (!res.writableFinished) upstream.destroy(); // the client went away: so does the upstream request
    });
    req.pipe(upstream);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return Object.assign(proxy, {
    url: `http://127.0.0.1:${port}`,
    port,
    pin: (path: string, instance: number) => void pins.set(path, instance),
    unpin: (path: string) => void pins.delete(path),
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  }) as RoundRobinProxy;
}
