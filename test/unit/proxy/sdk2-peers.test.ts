/**
 * Real 2026-07-28 peers through keyhole: the SDK 2.x client (which sends MCP-Protocol-Version, Mcp-Method and
 * Mcp-Name, Base64-encoding names that are not plain ASCII) and an SDK 2.x server (which checks them) pass the
 * header/body check; a filtered tools/list comes back with cacheScope "private" where the server said "public".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import { startMcpHarness, type McpHarness } from './mcp-harness.js';

function upstreamServer(): McpServer {
  const server = new McpServer({ name: 'up', version: '1.0.0' }, { cacheHints: { 'tools/list': { ttlMs: 60_000, cacheScope: 'public' } } });
  const text = (t: string) => ({ content: [{ type: 'text' as const, text: t }] });
  server.registerTool('echo', { inputSchema: z.object({ text: z.string() }) }, async ({ text: t }) => text(`echo:${t}`));
  server.registerTool('get_café', { inputSchema: z.object({}) }, async () => text('latte'));
  server.registerTool('write_note', { inputSchema: z.object({}) }, async () => text('written'));
  return server;
}

describe('SDK 2.x client and server through keyhole', () => {
  let h: McpHarness;
  let token: string;
  const handler = createMcpHandler(() => upstreamServer());
  beforeAll(async () => {
    h = await startMcpHarness({ upstreamFetch: (req) => handler.fetch(req) });
    token = (await h.grant('scoped', ['read'])).token;
  });
  afterAll(async () => h?.close());

  async function connect(server: string): Promise<Client> {
    const client = new Client({ name: 'sdk2', version: '1.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
    const transport = new StreamableHTTPClientTransport(new URL(h.url(server)), { requestInit: { headers: { authorization: `Bearer ${token}` } } });
    await client.connect(transport);
    return client;
  }

  it('lists the granted tools only and calls them with the headers the SDK sends (Base64 Mcp-Name included)', async () => {
    const client = await connect('scoped');
    const listed = await client.listTools();
    expect(listed.tools.map((t) => t.name).sort()).toEqual(['echo', 'get_café']);
    const listAnswer = h.upstreamSeen.find((s) => s.headers['mcp-method'] === 'tools/list');
    expect(listAnswer?.headers['mcp-protocol-version']).toBe('2026-07-28');
    expect(await client.callTool({ name: 'echo', arguments: { text: 'hi' } })).toMatchObject({ content: [{ type: 'text', text: 'echo:hi' }] });
    expect(await client.callTool({ name: 'get_café', arguments: {} })).toMatchObject({ content: [{ type: 'text', text: 'latte' }] });
    const cafe = h.upstreamSeen.find((s) => s.body.includes('"get_café"') && s.headers['mcp-method'] === 'tools/call');
    expect(cafe?.headers['mcp-name']).toMatch(/^=\?base64\?/);
    await expect(client.callTool({ name: 'write_note', arguments: {} })).rejects.toThrow();
    expect(h.upstreamSeen.some((s) => s.body.includes('"write_note"') && s.headers['mcp-method'] === 'tools/call')).toBe(false);
    await client.close();
  });

  it('rewrites the SDK server\'s cacheScope "public" to "private" in the filtered tools/list', async () => {
    const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' }, 'io.modelcontextprotocol/clientCapabilities': {} };
    const r = await h.call('POST', 'scoped', {
      authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list',
    }, JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/list', params: { _meta: meta } }));
    expect(r.status).toBe(200);
    const json = r.headers['content-type']?.startsWith('text/event-stream') ? r.body.split('\n').find((l) => l.startsWith('data: '))!.slice(6) : r.body;
    const result = (JSON.parse(json) as { result: { tools: Array<{ name: string }>; cacheScope: string; ttlMs: number } }).result;
    expect(result.tools.map((t) => t.name).sort()).toEqual(['echo', 'get_café']);
    expect(result.cacheScope).toBe('private');
    expect(result.ttlMs).toBe(0);
  });
});
