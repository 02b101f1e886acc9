/**
 * Delegated scopes with the SDK 2.x client on the 2026-07-28 revision (issue 11 §2): a `read` grant sees a
 * filtered `tools/list`; a write tool gets 403 `insufficient_scope` whose challenge names every scope the call
 * needs plus the held ones (never `offline_access`); the SDK 2.x client steps up by re-authorizing (SEP-2350),
 * not by refreshing (a refresh cannot widen, RFC 6749 §6), on the same grant, and keeps a working refresh token.
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3.1
 * @see https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization#scope-challenge-handling
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProtocolStack, type ProtocolStack } from '../helpers/sdk2-upstream.js';
import { approve, authorizeSdk2, countingFetch, Sdk2CapturingProvider, type Sdk2Connection } from '../helpers/sdk2-client.js';
import { CookieBrowser } from '../helpers/cookie-browser.js';
import { sha256Hex } from '../../src/store/crypto/hash.js';

const READ_TOOLS = ['echo', 'slow_count', 'whoami'];

function textOf(result: unknown): string {
  return (result as { content: Array<{ text: string }> }).content.map((c) => c.text).join('');
}

describe('protocol 2026-07-28 delegated scopes', () => {
  let stack: ProtocolStack;
  let conn: Sdk2Connection;
  const browser = new CookieBrowser();
  const provider = new Sdk2CapturingProvider('http://127.0.0.1:9/scoped/callback', 'Scoped sdk2 client');
  const events = async (type: string) => (await stack.keyhole.store.events.list({ type, limit: 500 })).filter((e) => e.clientId === provider.clientId);
  const prm = () => `${stack.publicUrl}/.well-known/oauth-protected-resource/mcp/scoped`;
  let tokenRequests: string[];

  beforeAll(async () => {
    stack = await startProtocolStack();
    const counting = countingFetch(`${stack.publicUrl}/token`);
    tokenRequests = counting.grantTypes;
    conn = await authorizeSdk2(stack.scopedUrl, { login: 'sam', provider, browser, scope: 'openid offline_access read', fetch: counting.fetch });
  });
  afterAll(async () => {
    await conn?.client.close().catch(() => undefined);
    await stack?.close();
  });

  it('keeps offline_access out of the PRM and the 401 challenge', async () => {
    const doc = (await (await fetch(prm())).json()) as { scopes_supported: string[] };
    expect(doc.scopes_supported).toEqual(['read', 'write', 'admin']);
    const res = await fetch(stack.scopedUrl, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }) });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(`Bearer resource_metadata="${prm()}", scope="read write admin"`);
    // The client asked for `openid offline_access read` (what some clients add): keyhole granted `read` only.
    expect(provider.authorizationUrls[0]!.searchParams.get('scope')).toBe('openid offline_access read');
    expect(provider.tokenHistory[0]!.scope).toBe('read');
  });

  it('filters tools/list for a read grant on 2026-07-28', async () => {
    expect(conn.client.getNegotiatedProtocolVersion()).toBe('2026-07-28');
    const grants = await stack.keyhole.store.grants.list({ clientId: provider.clientId });
    expect(grants.map((g) => g.scopes)).toEqual([['read']]);
    const list = await conn.client.listTools();
    expect(list.tools.map((t) => t.name).sort()).toEqual(READ_TOOLS);
  });

  it('answers a write tool with 403 insufficient_scope naming the needed and the held scopes', async () => {
    const res = await fetch(stack.scopedUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${provider.tokens()!.access_token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'write_note' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'write_note', arguments: { note: 'x' }, _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' } } }),
    });
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toBe(`Bearer error="insufficient_scope", error_description="the tool write_note needs the scope write", resource_metadata="${prm()}", scope="read write"`);
    expect(stack.v2.calls.some((c) => c.tool === 'write_note')).toBe(false);
  });

  it('steps up the SDK 2.x client through consent on the same grant, without a refresh and keeping its refresh token', async () => {
    const grantId = (await stack.keyhole.store.grants.list({ clientId: provider.clientId }))[0]!.id;
    const held = provider.tokens()!;
    expect(held.refresh_token).toMatch(/^kh_rt_/);
    const refreshedBefore = (await events('token.refreshed')).length;
    const issuedBefore = (await events('token.issued')).length;
    expect(tokenRequests).toEqual(['authorization_code']);
    provider.authorizationUrl = undefined;

    // The 403 makes the SDK re-authorize with the union of the held and the challenged scope (no refresh).
    await expect(conn.client.callTool({ name: 'write_note', arguments: { note: 'needs write' } })).rejects.toThrow();
    expect(provider.authorizationUrl).toBeDefined();
    expect(provider.authorizationUrl!.searchParams.get('scope')).toBe('read write');
    expect(tokenRequests).toEqual(['authorization_code']); // not even a refresh attempt keyhole could refuse
    expect(await events('token.refreshed')).toHaveLength(refreshedBefore);
    expect((await stack.keyhole.store.tokens.findRefresh(sha256Hex(held.refresh_token!)))!.usedAt).toBeNull();

    const consent = await approve(provider, { login: 'sam', browser });
    expect(consent.consentHtml).toContain('already granted');
    await conn.transport.finishAuth(consent.clientRedirect.searchParams);
    // The same client and transport carry on (2026-07-28 is stateless: nothing to re-initialize).
    expect(textOf(await conn.client.callTool({ name: 'write_note', arguments: { note: 'with write' } }))).toBe('noted: with write');
    expect((await conn.client.listTools(undefined, { cacheMode: 'bypass' })).tools.map((t) => t.name).sort()).toEqual([...READ_TOOLS, 'write_note']);

    // One code exchange, no refresh; the same grant, widened; a new refresh token bound to it.
    expect(tokenRequests).toEqual(['authorization_code', 'authorization_code']);
    expect(await events('token.refreshed')).toHaveLength(refreshedBefore);
    expect(await events('token.issued')).toHaveLength(issuedBefore + 1);
    const grants = await stack.keyhole.store.grants.list({ clientId: provider.clientId });
    expect(grants.map((g) => g.id)).toEqual([grantId]);
    expect([...grants[0]!.scopes].sort()).toEqual(['read', 'write']);
    const after = provider.tokens()!;
    expect(after.scope?.split(' ').sort()).toEqual(['read', 'write']);
    expect(after.refresh_token).toMatch(/^kh_rt_/);
    expect(after.refresh_token).not.toBe(held.refresh_token);
    expect(await stack.keyhole.store.tokens.findRefresh(sha256Hex(after.refresh_token!))).toMatchObject({ grantId, scopes: ['read', 'write'] });
  });
});

/**
 * Findings in the data plane that these tests found (each failed before its fix): a filtered list's caching hints,
 * one challenge for a whole batch, no step-up for a tool no scope names, no stale list after a step-up.
 */
describe('protocol 2026-07-28 delegated scopes: filtered lists and challenges', () => {
  let stack: ProtocolStack;
  let conn: Sdk2Connection;
  const provider = new Sdk2CapturingProvider('http://127.0.0.1:9/scoped-2/callback', 'Scoped sdk2 client 2');
  const browser = new CookieBrowser();

  beforeAll(async () => {
    stack = await startProtocolStack();
    conn = await authorizeSdk2(stack.scopedUrl, { login: 'sid', provider, browser, scope: 'read' });
  });
  afterAll(async () => {
    await conn?.client.close().catch(() => undefined);
    await stack?.close();
  });

  // filtered tools/list results get `cacheScope: "private"` (tools-list-filter.ts rewrites the field).
  it('does not mark a list filtered by the grant\'s scopes as shareable (cacheScope)', async () => {
    const list = await conn.client.listTools(undefined, { cacheMode: 'bypass' });
    expect(list.tools.map((t) => t.name).sort()).toEqual(READ_TOOLS);
    expect(list.cacheScope).not.toBe('public');
  });

  // tool-call-decision.ts builds ONE challenge from every refused call of the message: union(held, first scope of each).
  it('names every scope a 2025-03-26 batch needs in one 403 challenge', async () => {
    const res = await fetch(stack.scopedUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${provider.tokens()!.access_token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-03-26' },
      body: JSON.stringify([
        { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'write_note', arguments: { note: 'x' } } },
        { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'purge_notes', arguments: {} } },
      ]),
    });
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toContain('scope="read write admin"');
  });

  // a tool no scope names cannot be stepped up to: refuse it without `error="insufficient_scope"` (a
  // JSON-RPC error -32013 in an HTTP 200), so SEP-2350 clients do not refresh and retry in vain.
  it('refuses a tool no scope names without a step-up challenge, so the SDK 2.x client does not refresh', async () => {
    const refreshed = async () => (await stack.keyhole.store.events.list({ type: 'token.refreshed', limit: 500 })).length;
    const before = await refreshed();
    await expect(conn.client.callTool({ name: 'debug_dump', arguments: {} })).rejects.toMatchObject({ code: -32013 });
    expect(stack.v2.calls.some((c) => c.tool === 'debug_dump')).toBe(false);
    expect(await refreshed()).toBe(before);
  });

  // a filtered list depends on the token's scopes, which a step-up changes without the client evicting its
  // cache: tools-list-filter.ts sets `ttlMs` to 0 on filtered lists.
  it('shows the stepped-up tools on the same client at once (a filtered list is not cached for the upstream TTL)', async () => {
    expect((await conn.client.listTools()).tools.map((t) => t.name).sort()).toEqual(READ_TOOLS); // cached now
    provider.authorizationUrl = undefined;
    await expect(conn.client.callTool({ name: 'write_note', arguments: { note: 'n' } })).rejects.toThrow();
    const consent = await approve(provider, { login: 'sid', browser });
    await conn.transport.finishAuth(consent.clientRedirect.searchParams);
    expect(textOf(await conn.client.callTool({ name: 'write_note', arguments: { note: 'n' } }))).toBe('noted: n');
    expect((await conn.client.listTools()).tools.map((t) => t.name).sort()).toEqual([...READ_TOOLS, 'write_note']);
  });
});
