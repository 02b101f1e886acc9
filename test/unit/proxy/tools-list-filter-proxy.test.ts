/**
 * Issue 9 F3 through keyhole over real sockets: an upstream SSE answer to a filtered `tools/list` with an
 * unterminated 20 MB event ends at the client with a JSON-RPC error event (never unfiltered bytes), the upstream
 * request is closed, and an unrelated request meanwhile is answered promptly. A filtered list says
 * `cacheScope: "private"`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMcpHarness, type McpHarness } from './mcp-harness.js';

const LIST = JSON.stringify({ jsonrpc: '2.0', id: 'L', method: 'tools/list' });
const PING = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' });

describe('tools/list filter behind keyhole', () => {
  let h: McpHarness;
  let scoped: string;
  let plain: string;
  let upstreamClosed: Promise<void>;
  beforeAll(async () => {
    h = await startMcpHarness();
    scoped = (await h.grant('scoped', ['read'])).token;
    plain = (await h.grant('plain')).token;
  });
  afterAll(async () => h?.close());

  const headers = (token: string) => ({ authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' });

  it('rejects an unterminated 20 MB event: error event, no unfiltered byte, upstream closed, others unaffected', async () => {
    let closed!: () => void;
    upstreamClosed = new Promise((r) => (closed = r));
    h.setUpstream((req, res) => {
      if (!req.body.includes('tools/list')) {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"jsonrpc":"2.0","id":1,"result":{}}');
        return;
      }
      res.on('close', () => closed());
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('event: message\ndata: {"jsonrpc":"2.0","id":"L","result":{"tools":[{"name":"write_note","description":"');
      const block = Buffer.alloc(1_048_576, 0x78);
      let sent = 0;
      const pump = (): void => {
        while (sent < 20 && !res.destroyed) {
          sent++;
          if (!res.write(block)) return void res.once('drain', pump);
        }
      };
      pump();
    });
    const started = performance.now();
    const listing = h.call('POST', 'scoped', headers(scoped), LIST);
    const other = h.call('POST', 'plain', headers(plain), PING).then((r) => ({ r, ms: performance.now() - started }));
    const [r, o] = await Promise.all([listing, other]);
    expect(r.status).toBe(200);
    expect(r.body).not.toContain('write_note');
    expect(r.body).toBe('event: message\ndata: {"jsonrpc":"2.0","error":{"code":-32011,"message":"tools/list response too large to filter"},"id":"L"}\n\n');
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(o.r.status).toBe(200);
    expect(o.ms).toBeLessThan(2_000);
    await upstreamClosed;
  });

  it('rewrites cacheScope "public" to "private" in a filtered SSE tools/list', async () => {
    h.setUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(`event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', id: 'L', result: { tools: [{ name: 'echo' }, { name: 'write_note' }], ttlMs: 60_000, cacheScope: 'public' } })}\n\n`);
    });
    const r = await h.call('POST', 'scoped', headers(scoped), LIST);
    expect(r.status).toBe(200);
    const data = JSON.parse(r.body.slice('event: message\ndata: '.length));
    expect(data.result).toEqual({ tools: [{ name: 'echo' }], ttlMs: 0, cacheScope: 'private' });
  });

  it('leaves an unfiltered server\'s cacheScope "public" as the upstream sent it', async () => {
    const body = `event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', id: 'L', result: { tools: [{ name: 'echo' }], ttlMs: 1, cacheScope: 'public' } })}\n\n`;
    h.setUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(body);
    });
    expect((await h.call('POST', 'plain', headers(plain), LIST)).body).toBe(body);
  });
});
