/**
 * `keyhole connect` as a transparent relay, against a plain SDK MCP server (stateful Streamable HTTP, no
 * authorization: "any MCP server" includes open ones) driven by the SDK's StdioClientTransport + Client:
 * - server→client requests (roots/list, elicitation/create) reach the stdio client and its answers reach the server;
 * - a JSON-RPC error the server sends with an HTTP error status reaches the client unchanged, with the request's id;
 * - when the server ends the session (404 for its id), the bridge initializes a new one with the client's own
 *   initialize request and delivers the request, the client never seeing the bridge's own messages.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { ElicitRequestSchema, ListRootsRequestSchema, McpError, isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuiltCli } from '../helpers/keyhole-cli.js';
import { childEnv, spawnBridge, textOf, type SpawnedBridge } from './connect-support.js';

interface OpenServer {
  url: string;
  initializeCount: number;
  /** Session ids ended by the end_session tool. */
  ended: string[];
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : undefined;
}

async function startOpenServer(): Promise<OpenServer> {
  const transports = new Map<string, StreamableHTTPServerTransport>();
  const state: OpenServer = { url: '', initializeCount: 0, ended: [], close: async () => undefined };
  const build = () => {
    const mcp = new McpServer({ name: 'relay-peer', version: '1.0.0' });
    mcp.registerTool('ask_roots', { description: 'asks the client for its roots' }, async () => {
      const roots = await mcp.server.listRoots();
      return { content: [{ type: 'text', text: JSON.stringify(roots.roots) }] };
    });
    mcp.registerTool('ask_user', { description: 'asks the user a question' }, async () => {
      const answer = await mcp.server.elicitInput({ message: 'Favourite colour?', requestedSchema: { type: 'object', properties: { colour: { type: 'string' } }, required: ['colour'] } });
      return { content: [{ type: 'text', text: `${answer.action}:${String(answer.content?.colour)}` }] };
    });
    mcp.registerTool('end_session', { description: 'the server forgets this session after answering' }, async (extra) => {
      const sid = extra.sessionId!;
      setTimeout(() => {
        const t = transports.get(sid);
        transports.delete(sid);
        state.ended.push(sid);
        void t?.close();
      }, 20);
      return { content: [{ type: 'text', text: 'bye' }] };
    });
    return mcp;
  };
  const server: Server = createServer((req, res) => {
    void (async () => {
      const sid = req.headers['mcp-session-id'] as string | undefined;
      const body = req.method === 'POST' ? await readBody(req) : undefined;
      const call = body as { method?: string; params?: { name?: string } } | undefined;
      if (call?.method === 'tools/call' && call.params?.name === 'limited') {
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '3' });
        res.end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32029, message: 'rate limited', data: { retry_after: 3 } } }));
        return;
      }
      const existing = sid ? transports.get(sid) : undefined;
      if (existing) return existing.handleRequest(req, res, body);
      if (sid) {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32001, message: 'Session not found' } }));
        return;
      }
      if (req.method === 'POST' && isInitializeRequest(body)) {
        state.initializeCount += 1;
        const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
          sessionIdGenerator: () => randomUUID(),
          onsessioninitialized: (id) => void transports.set(id, transport),
        });
        await build().connect(transport);
        return transport.handleRequest(req, res, body);
      }
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32000, message: 'Bad Request' } }));
    })().catch((e: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(e));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
  state.close = async () => {
    for (const t of transports.values()) await t.close().catch(() => undefined);
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  };
  return state;
}

describe('keyhole connect relays MCP transparently', () => {
  let peer: OpenServer;
  let xdg: string;
  let bridge: SpawnedBridge;
  const clientErrors: Error[] = [];

  beforeAll(async () => {
    await ensureBuiltCli();
    peer = await startOpenServer();
    xdg = mkdtempSync(join(tmpdir(), 'keyhole-connect-xdg-'));
    bridge = spawnBridge(peer.url, childEnv({ XDG_CONFIG_HOME: xdg, KEYHOLE_CONNECT_STORE: 'file' }));
    bridge.client = new Client({ name: 'relay-e2e', version: '1.0.0' }, { capabilities: { roots: { listChanged: false }, elicitation: { form: {} } } });
    bridge.client.setRequestHandler(ListRootsRequestSchema, async () => ({ roots: [{ uri: 'file:///work/project', name: 'project' }] }));
    bridge.client.setRequestHandler(ElicitRequestSchema, async (req) => {
      expect(req.params.message).toBe('Favourite colour?');
      return { action: 'accept', content: { colour: 'teal' } };
    });
    bridge.client.onerror = (e) => void clientErrors.push(e);
    await bridge.client.connect(bridge.transport);
  });

  afterAll(async () => {
    await bridge?.client.close().catch(() => undefined);
    await peer?.close();
    if (xdg) rmSync(xdg, { recursive: true, force: true });
  });

  it('relays server→client requests: roots/list and elicitation/create, and their answers', async () => {
    const roots = JSON.parse(textOf(await bridge.client.callTool({ name: 'ask_roots', arguments: {} })));
    expect(roots).toEqual([{ uri: 'file:///work/project', name: 'project' }]);
    expect(textOf(await bridge.client.callTool({ name: 'ask_user', arguments: {} }))).toBe('accept:teal');
    expect(bridge.stderr()).not.toContain('/authorize?'); // an open server: no sign-in at all
  });

  it('passes a JSON-RPC error sent with an HTTP error status through unchanged, with the request id', async () => {
    const failure = await bridge.client.callTool({ name: 'limited', arguments: {} }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(McpError);
    expect((failure as McpError).code).toBe(-32029);
    expect((failure as McpError).data).toEqual({ retry_after: 3 });
  });

  it('starts a new session when the server ends the old one, invisibly to the client', async () => {
    expect(textOf(await bridge.client.callTool({ name: 'end_session', arguments: {} }))).toBe('bye');
    await new Promise((r) => setTimeout(r, 100));
    expect(peer.ended).toHaveLength(1);
    const tools = await bridge.client.listTools();
    expect(tools.tools.map((t) => t.name).sort()).toEqual(['ask_roots', 'ask_user', 'end_session']);
    expect(peer.initializeCount).toBe(2);
    expect(bridge.stderr()).toContain('the server ended the session');
    // Server→client requests work in the new session too.
    expect(textOf(await bridge.client.callTool({ name: 'ask_user', arguments: {} }))).toBe('accept:teal');
    expect(clientErrors).toEqual([]);
  });
});
