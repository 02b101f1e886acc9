import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { headerFetch } from '../../../src/connect/header-fetch.js';

async function recorder(): Promise<{ url: string; seen: IncomingHttpHeaders[]; server: Server }> {
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers);
    res.end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

describe('headerFetch', () => {
  let mcp: Awaited<ReturnType<typeof recorder>>;
  let as: Awaited<ReturnType<typeof recorder>>;
  beforeAll(async () => {
    mcp = await recorder();
    as = await recorder();
  });
  afterAll(() => {
    mcp.server.close();
    as.server.close();
  });

  it('adds the headers to requests for the MCP server origin, keeping the request own headers', async () => {
    const f = headerFetch(new URL(`${mcp.url}/mcp`), { 'X-Team': 'platform' });
    await f(`${mcp.url}/.well-known/oauth-protected-resource/mcp`, { headers: { accept: 'application/json' } });
    expect(mcp.seen.at(-1)).toMatchObject({ 'x-team': 'platform', accept: 'application/json' });
  });

  it('never sends them to another origin (the authorization server)', async () => {
    const f = headerFetch(new URL(`${mcp.url}/mcp`), { 'X-Gateway-Key': 'secret' });
    await f(`${as.url}/token`, { method: 'POST', body: 'x' });
    expect(as.seen.at(-1)!['x-gateway-key']).toBeUndefined();
  });

  it('is the plain fetch when there are no headers', () => {
    expect(headerFetch(new URL(`${mcp.url}/mcp`), {})).toBe(fetch);
  });
});
