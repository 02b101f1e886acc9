/**
 * Raw MCP requests through keyhole for the e2e tests that assert exact statuses, headers and JSON-RPC bodies:
 * authorize a client with the real SDK (discovery, DCR, PKCE, consent, upstream login) without connecting, open a
 * session with a raw `initialize`, and POST JSON-RPC bodies, reading JSON or SSE answers.
 */
import { expect } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { CapturingProvider, driveConsent } from './sdk-client.js';

export const PROTOCOL = '2025-06-18';

/** The SDK client's whole authorization (401 → … → tokens) for `login`; no MCP message reaches the upstream. */
export async function authorizeClient(mcpUrl: string, login: string, name = `client of ${login}`): Promise<{ provider: CapturingProvider; token: string }> {
  const provider = new CapturingProvider(`http://127.0.0.1:9/${encodeURIComponent(name)}`, name);
  const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider });
  await expect(new Client({ name, version: '1' }).connect(transport)).rejects.toBeInstanceOf(UnauthorizedError);
  const consent = await driveConsent(provider.authorizationUrl!, { login, redirectPrefix: String(provider.redirectUrl) });
  await transport.finishAuth(consent.clientRedirect.searchParams.get('code')!);
  return { provider, token: provider.tokens()!.access_token };
}

export interface RawReply {
  status: number;
  headers: Headers;
  text: string;
  /** The JSON-RPC messages of the answer: the JSON body, or the `data` of each SSE event. */
  messages: unknown[];
}

export function sseMessages(text: string): unknown[] {
  return text
    .split(/\r?\n\r?\n/)
    .map((event) => event.split(/\r?\n/).filter((l) => l.startsWith('data:')).map((l) => l.slice(l.startsWith('data: ') ? 6 : 5)).join('\n'))
    .filter((data) => data.length > 0)
    .map((data) => JSON.parse(data) as unknown);
}

export async function rawPost(url: string, token: string, body: unknown, session?: string): Promise<RawReply> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': PROTOCOL,
      ...(session ? { 'mcp-session-id': session } : {}),
    },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  const type = res.headers.get('content-type') ?? '';
  const messages = type.startsWith('text/event-stream') ? sseMessages(text) : text && type.includes('json') ? [JSON.parse(text) as unknown] : [];
  return { status: res.status, headers: res.headers, text, messages };
}

export const initializeBody = (id: number | string = 0) => ({ jsonrpc: '2.0', id, method: 'initialize', params: { protocolVersion: PROTOCOL, capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });

/** The HTTP status of a raw `initialize` with `token` (200 while the token is good, 401 once it is not); the body is not read. */
export async function initializeStatus(url: string, token: string): Promise<number> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': PROTOCOL },
    body: JSON.stringify(initializeBody(1)),
  });
  await res.body?.cancel();
  return res.status;
}

/** A raw `initialize` (one message through keyhole); returns the upstream's session id. */
export async function openSession(url: string, token: string): Promise<string> {
  const res = await rawPost(url, token, initializeBody());
  expect(res.status).toBe(200);
  const session = res.headers.get('mcp-session-id');
  expect(session).toBeTruthy();
  return session!;
}

export const toolCall = (id: number | string, name: string, args: Record<string, unknown> = {}) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });
