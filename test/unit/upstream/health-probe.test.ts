import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { healthUrl, httpHealthProbe } from '../../../src/upstream/health-probe.js';

let server: Server;
let port: number;
const seen: Array<{ method: string; url: string; authorization: string | undefined }> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization });
    if (req.url === '/healthz') res.writeHead(204).end();
    else if (req.url === '/moved') res.writeHead(302, { location: '/healthz' }).end();
    else if (req.url === '/hang') return; // never answers
    else res.writeHead(503).end('down');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

describe('httpHealthProbe', () => {
  it('probes the path on the upstream\'s origin (not under the MCP path)', () => {
    expect(healthUrl('http://10.0.0.1:9000/mcp/v1?x=1', '/healthz').href).toBe('http://10.0.0.1:9000/healthz');
  });

  it('is healthy on a 2xx only: a 5xx, a redirect (not followed), a timeout and a closed port are unhealthy', async () => {
    const probe = (path: string, timeoutMs = 1_000) => httpHealthProbe(healthUrl(`http://127.0.0.1:${port}/mcp`, path), timeoutMs)();
    expect(await probe('/healthz')).toBe(true);
    expect(await probe('/down')).toBe(false);
    expect(await probe('/moved')).toBe(false);
    expect(await probe('/hang', 100)).toBe(false);
    expect(seen.map((s) => [s.method, s.url, s.authorization])).toEqual([['GET', '/healthz', undefined], ['GET', '/down', undefined], ['GET', '/moved', undefined], ['GET', '/hang', undefined]]);
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    expect(await httpHealthProbe(new URL(`http://127.0.0.1:${closedPort}/healthz`), 1_000)()).toBe(false);
  });

  it('rejects a URL that is not http(s) and a timeout that is not positive', () => {
    expect(() => httpHealthProbe(new URL('ftp://x/healthz'), 1)).toThrow('httpHealthProbe: the URL must be http(s)');
    expect(() => httpHealthProbe(new URL('http://x/healthz'), 0)).toThrow('httpHealthProbe: timeoutMs must be positive');
  });
});
