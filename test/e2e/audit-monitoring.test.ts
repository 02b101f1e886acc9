/**
 * Issue 14 end to end with real peers (oidc-provider, SDK MCP servers, the SDK client's authorization): every MCP
 * request leaves exactly one audit record, readable through /admin/api/audit and its export; redacted arguments
 * never store a secret; /metrics counts the calls (strict text parser); /readyz names a read-only database; a
 * watched tool raises one signed alert per minute.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { chmodSync, existsSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { CapturingProvider, connectThroughKeyhole, driveConsent } from '../helpers/sdk-client.js';
import { CookieBrowser } from '../helpers/cookie-browser.js';
import { parsePrometheusText, sampleValue } from '../unit/metrics/prom-text.js';
import { verifyAlertSignature } from '../../src/alerts/alert-dispatcher.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

const ADMIN = { authorization: 'Bearer admin-token-for-tests-0123456789' };
const METRICS_TOKEN = 'metrics-token-0123456789abcdef';
const ALERT_SECRET = 'alert-secret-0123456789';
const SCOPES = {
  read: { description: 'Read issues', upstreamScopes: ['mcp:read'], tools: ['whoami', 'echo', 'count', 'list_issues'] },
  write: { description: 'Write issues', upstreamScopes: ['mcp:write'], tools: ['create_issue', 'delete_issue'] },
};
const GHP = `ghp_${'A1b2C3d4E5'.repeat(3)}x9Y8z7`; // 40 characters, GitHub's classic token shape
const PASSWORD = 'canary-password-Zq81xT';

type AuditJson = Record<string, unknown> & { method: string | null; tool: string | null; outcome: string; http_status: number; subject: string | null };

async function authorizeRead(mcpUrl: string): Promise<string> {
  const browser = new CookieBrowser();
  const provider = new CapturingProvider('http://127.0.0.1:9/audit', 'Audit client');
  const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider });
  await expect(new Client({ name: 't', version: '1' }).connect(transport)).rejects.toBeInstanceOf(UnauthorizedError);
  const url = new URL(provider.authorizationUrl!);
  url.searchParams.set('scope', 'read');
  const consent = await driveConsent(url, { login: 'dana', browser, redirectPrefix: String(provider.redirectUrl) });
  await transport.finishAuth(consent.clientRedirect.searchParams.get('code')!);
  return provider.tokens()!.access_token;
}

function rpc(url: string, token: string | null, body: unknown, session?: string) {
  return fetch(url, {
    method: 'POST',
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json', accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-06-18', ...(session ? { 'mcp-session-id': session } : {}),
    },
    body: JSON.stringify(body),
  });
}

async function auditPage(stack: Stack, query: string): Promise<{ records: AuditJson[]; next_cursor: string | null }> {
  const res = await fetch(`${stack.publicUrl}/admin/api/audit?${query}`, { headers: ADMIN });
  expect(res.status).toBe(200);
  return (await res.json()) as { records: AuditJson[]; next_cursor: string | null };
}

/** Waits until the audit log holds `n` records for the query (responses close, then the queue flushes). */
async function settle(stack: Stack, query: string, n: number): Promise<AuditJson[]> {
  for (let i = 0; i < 100; i++) {
    await stack.keyhole.observability.queue.flush();
    const page = await auditPage(stack, `${query}&limit=500`);
    if (page.records.length >= n) return page.records;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the audit log never reached ${n} records for ${query}`);
}

describe('audit and monitoring (real peers)', () => {
  let stack: Stack;
  let receiver: Server;
  const alerts: Array<{ body: string; signature: string | undefined }> = [];

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => { body += c.toString('utf8'); });
      req.on('end', () => {
        alerts.push({ body, signature: req.headers['x-keyhole-signature'] as string | undefined });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const webhook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    stack = await startStack({
      config: { metrics: { token: METRICS_TOKEN, processMetrics: false }, alerts: { webhook, secret: ALERT_SECRET, watchTools: ['delete_*'] } },
      server: { scopes: SCOPES, defaultPolicy: 'deny' },
      extraServers: { vault: { server: { audit: { arguments: 'redacted' } } }, plain: {} },
    });
  });
  afterAll(async () => {
    await stack?.close();
    await new Promise((r) => receiver?.close(r));
  });

  it('records a session exactly: initialize, tools/list, allowed calls, a 403-denied call, an upstream error, a 401', async () => {
    const token = await authorizeRead(stack.mcpUrl);
    const before = (await settle(stack, 'server=demo', 1)).length;
    const init = await rpc(stack.mcpUrl, token, { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
    expect(init.status).toBe(200);
    await init.text();
    const session = init.headers.get('mcp-session-id')!;
    expect((await rpc(stack.mcpUrl, token, { jsonrpc: '2.0', method: 'notifications/initialized' }, session)).status).toBe(202);
    const list = await rpc(stack.mcpUrl, token, { jsonrpc: '2.0', id: 2, method: 'tools/list' }, session);
    expect(await list.text()).toContain('"list_issues"');
    const echo = await rpc(stack.mcpUrl, token, { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'echo', arguments: { text: 'hi' } } }, session);
    expect(await echo.text()).toContain('"text":"hi"');
    await (await rpc(stack.mcpUrl, token, { jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'whoami', arguments: {} } }, session)).text();
    const denied = await rpc(stack.mcpUrl, token, { jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'create_issue', arguments: { title: 'x' } } }, session);
    expect(denied.status).toBe(403);
    await denied.text();
    // An upstream tool failure: a result with isError (the SDK server's answer to an unknown tool).
    const toolError = await rpc(stack.mcpUrl, token, { jsonrpc: '2.0', id: 8, method: 'tools/call', params: { name: 'echo', arguments: { text: 42 } } }, session);
    expect(await toolError.text()).toContain('"isError":true');
    // The upstream answers an unknown method with a JSON-RPC error (-32601) inside a 200.
    const failed = await rpc(stack.mcpUrl, token, { jsonrpc: '2.0', id: 6, method: 'no/such_method', params: {} }, session);
    expect(await failed.text()).toContain('-32601');
    expect((await rpc(stack.mcpUrl, null, { jsonrpc: '2.0', id: 7, method: 'tools/list' })).status).toBe(401);

    const all = await settle(stack, 'server=demo', before + 9);
    expect(all).toHaveLength(before + 9);
    const fields = (r: AuditJson) => [r.method, r.tool, r.outcome, r.http_status, r.subject, r.rpc_error_code, r.denial_reason];
    // Newest first.
    expect(all.slice(0, 9).map(fields)).toEqual([
      [null, null, 'unauthorized', 401, null, null, 'missing_token'],
      ['no/such_method', null, 'error', 200, 'dana', -32601, null],
      ['tools/call', 'echo', 'error', 200, 'dana', null, null],
      ['tools/call', 'create_issue', 'denied', 403, 'dana', -32003, 'insufficient_scope'],
      ['tools/call', 'whoami', 'ok', 200, 'dana', null, null],
      ['tools/call', 'echo', 'ok', 200, 'dana', null, null],
      ['tools/list', null, 'ok', 200, 'dana', null, null],
      ['notifications/initialized', null, 'ok', 202, 'dana', null, null],
      ['initialize', null, 'ok', 200, 'dana', null, null],
    ]);
    const echoRecord = all[5]!;
    expect(echoRecord.request_id).toMatch(/^[0-9a-f]{32}-[0-9a-f]{16}$/);
    expect(echoRecord.response_bytes).toBeGreaterThan(0);
    expect('arguments' in echoRecord).toBe(false); // audit.arguments defaults to none

    // Filters and the cursor.
    expect((await auditPage(stack, 'server=demo&tool=create_issue')).records.map((r) => r.outcome)).toEqual(['denied']);
    // Two 401s: the SDK client's first, token-less probe, and ours.
    expect((await auditPage(stack, 'server=demo&outcome=unauthorized')).records.map((r) => r.denial_reason)).toEqual(['missing_token', 'missing_token']);
    const p1 = await auditPage(stack, 'server=demo&subject=dana&limit=3');
    const p2 = await auditPage(stack, `server=demo&subject=dana&limit=3&cursor=${p1.next_cursor}`);
    expect([...p1.records, ...p2.records].map((r) => r.id)).toEqual(all.slice(1, 7).map((r) => r.id));
    expect((await fetch(`${stack.publicUrl}/admin/api/audit?cursor=x`, { headers: ADMIN })).status).toBe(400);
    expect((await fetch(`${stack.publicUrl}/admin/api/audit`)).status).toBe(401);

    // The export: the same records, oldest first, one JSON object per line.
    const exported = await fetch(`${stack.publicUrl}/admin/api/audit/export?server=demo&subject=dana`, { headers: ADMIN });
    expect(exported.headers.get('content-type')).toBe('application/jsonl; charset=utf-8');
    const lines = (await exported.text()).trim().split('\n').map((l) => JSON.parse(l) as AuditJson);
    expect(lines.map((r) => r.id)).toEqual(all.filter((r) => r.subject === 'dana').map((r) => r.id).reverse());

    // One keyhole.audit log line per record.
    const logged = stack.logs.filter((l) => l.includes('"msg":"keyhole.audit"')).map((l) => (JSON.parse(l) as { id: string }).id);
    for (const r of all) expect(logged).toContain(r.id);

    // /metrics: 404-free, bearer-protected, counters equal to the calls made (strict parser).
    expect((await fetch(`${stack.publicUrl}/metrics`)).status).toBe(401);
    const text = await (await fetch(`${stack.publicUrl}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
    const families = parsePrometheusText(text);
    const count = (method: string, tool: string, outcome: string) => sampleValue(families, 'keyhole_mcp_requests_total', { server: 'demo', method, tool, outcome });
    expect(count('tools/call', 'echo', 'ok')).toBe(1);
    expect(count('tools/call', 'echo', 'error')).toBe(1);
    expect(count('tools/call', 'whoami', 'ok')).toBe(1);
    expect(count('tools/call', 'create_issue', 'denied')).toBe(1);
    expect(count('tools/list', 'none', 'ok')).toBe(1);
    expect(sampleValue(families, 'keyhole_auth_failures_total', { reason: 'missing_token' })).toBe(2); // the SDK client's first probe, and ours
    expect(sampleValue(families, 'keyhole_grants', { server: 'demo', status: 'active' })).toBe(1);
  });

  it('stores no secret with audit.arguments "redacted", and no argument at all with "none"', async () => {
    const vaultUrl = `${stack.publicUrl}/mcp/vault`;
    const plainUrl = `${stack.publicUrl}/mcp/plain`;
    const { client: vault } = await connectThroughKeyhole(vaultUrl, { login: 'erin' });
    const { client: plain } = await connectThroughKeyhole(plainUrl, { login: 'erin' });
    const args = { text: `deploy with ${GHP}`, password: PASSWORD };
    await vault.callTool({ name: 'echo', arguments: args });
    await plain.callTool({ name: 'echo', arguments: args });
    await vault.close();
    await plain.close();
    const [vaultCall] = (await settle(stack, 'server=vault&tool=echo', 1));
    const [plainCall] = (await settle(stack, 'server=plain&tool=echo', 1));
    expect(vaultCall!.arguments).toEqual({ text: 'deploy with [REDACTED:github_token]', password: '[REDACTED:key]' });
    expect('arguments' in plainCall!).toBe(false);
    const exported = await (await fetch(`${stack.publicUrl}/admin/api/audit/export`, { headers: ADMIN })).text();
    SqliteStore.connectionOf(stack.keyhole.store as SqliteStore).pragma('wal_checkpoint(PASSIVE)');
    for (const where of [exported, stack.logs.join('\n'), JSON.stringify(await auditPage(stack, 'limit=500'))]) {
      expect(where).not.toContain(GHP);
      expect(where).not.toContain(PASSWORD);
    }
    for (const file of [stack.dbPath, `${stack.dbPath}-wal`, `${stack.dbPath}-shm`]) {
      if (!existsSync(file)) continue;
      const bytes = readFileSync(file);
      expect(bytes.includes(Buffer.from(GHP)), file).toBe(false);
      expect(bytes.includes(Buffer.from(PASSWORD)), file).toBe(false);
      expect(bytes.includes(Buffer.from('A1b2C3d4E5A1b2C3d4E5')), file).toBe(false);
    }
  });

  it('sends one signed alert per minute for a watched tool, and records it as an event', async () => {
    const { client } = await connectThroughKeyhole(`${stack.publicUrl}/mcp/plain`, { login: 'frank' });
    expect((await client.listTools()).tools.map((t) => t.name)).toContain('delete_issue'); // labels the tools of a server without scopes
    await client.callTool({ name: 'delete_issue', arguments: { id: '1' } });
    await client.callTool({ name: 'delete_issue', arguments: { id: '2' } });
    await client.close();
    await settle(stack, 'server=plain&tool=delete_issue&subject=frank', 2);
    await stack.keyhole.observability.alerts!.flush();
    const watched = alerts.filter((a) => (JSON.parse(a.body) as { kind: string }).kind === 'watched_tool_called');
    expect(watched).toHaveLength(1);
    expect(verifyAlertSignature(watched[0]!.body, watched[0]!.signature, ALERT_SECRET)).toBe(true);
    const body = JSON.parse(watched[0]!.body) as { kind: string; summary: string; detail: Record<string, unknown> };
    expect(body.summary).toBe('watched tool delete_issue called on plain');
    expect(body.detail).toMatchObject({ server: 'plain', tool: 'delete_issue', subject: 'frank', outcome: 'ok' });
    expect((await stack.keyhole.store.events.list({ type: 'alert.raised', limit: 10, offset: 0 })).map((e) => e.detail)).toEqual([{ kind: 'watched_tool_called', summary: 'watched tool delete_issue called on plain' }]);
    const families = parsePrometheusText(await (await fetch(`${stack.publicUrl}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text());
    expect(sampleValue(families, 'keyhole_mcp_requests_total', { server: 'plain', method: 'tools/call', tool: 'delete_issue', outcome: 'ok' })).toBe(2);
  });

  it('/healthz answers; /readyz turns 503 naming the database when its file is read-only', async () => {
    expect(await (await fetch(`${stack.publicUrl}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${stack.publicUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(Object.keys(((await ready.json()) as { checks: object }).checks)).toEqual(['database', 'keyring', 'upstream refresh writes', 'disk']);
    chmodSync(stack.dbPath, 0o444);
    try {
      const res = await fetch(`${stack.publicUrl}/readyz`);
      expect(res.status).toBe(503);
      const body = (await res.json()) as { status: string; failed: string[]; checks: Record<string, { ok: boolean; error?: string }> };
      expect(body.status).toBe('not_ready');
      expect(body.failed).toEqual(['database']);
      expect(body.checks.keyring!.ok).toBe(true);
    } finally {
      chmodSync(stack.dbPath, 0o644);
    }
    expect((await fetch(`${stack.publicUrl}/readyz`)).status).toBe(200);
  });
});
