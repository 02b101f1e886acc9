/**
 * The forwarder's credential header: a `{ header, value }` from ForwardAuth (identity JWT, static API key) is sent
 * as that header, replacing any client header of the same name; keyhole's bearer token never goes upstream.
 * A bare string keeps meaning `Authorization: Bearer <token>`.
 */
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve, type HttpBindings, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createForwarder, type ForwardAuth } from '../../../src/proxy/forwarder.js';

let upstream: Server;
let proxy: ServerType;
let proxyPort: number;
let seen: IncomingHttpHeaders[] = [];
let credential: Awaited<ReturnType<ForwardAuth['getAccessToken']>> = { header: 'Authorization', value: 'Bearer tok' };
const forwarder = createForwarder({ maxBodyBytes: 1024 });

beforeAll(async () => {
  upstream = createServer((req, res) => {
    seen.push(req.headers);
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const url = new URL(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}/mcp`);
  const app = new Hono<{ Bindings: HttpBindings }>();
  app.post('/mcp', (c) => forwarder.forward(c, { url, timeoutMs: 2_000 }, { grantId: 'g', getAccessToken: async () => credential }, Buffer.from('{}')));
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

function post(headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: proxyPort, path: '/mcp', method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    req.end('{}');
  });
}

describe('forwarder credential header', () => {
  it('sends { header: Authorization, value: Bearer … } in place of the client\'s Authorization', async () => {
    seen = [];
    credential = { header: 'Authorization', value: 'Bearer upstream-token' };
    expect(await post({ authorization: 'Bearer kh_at_client' })).toBe(200);
    expect(seen[0]!.authorization).toBe('Bearer upstream-token');
  });

  it('sends { header, value } as that header, replacing the client\'s, and drops the client\'s Authorization', async () => {
    seen = [];
    credential = { header: 'X-API-Key', value: 'vault-key' };
    expect(await post({ authorization: 'Bearer kh_at_client', 'X-Api-Key': 'forged', 'x-other': 'kept' })).toBe(200);
    expect(seen[0]!['x-api-key']).toBe('vault-key');
    expect(seen[0]!.authorization).toBeUndefined();
    expect(seen[0]!['x-other']).toBeUndefined(); // request headers go through an allow-list
    expect(seen[0]!['x-api-key']).not.toContain('forged');
  });

  it('sends an Authorization credential object as is', async () => {
    seen = [];
    credential = { header: 'Authorization', value: 'Token abc' };
    expect(await post({ authorization: 'Bearer kh_at_client' })).toBe(200);
    expect(seen[0]!.authorization).toBe('Token abc');
  });
});
