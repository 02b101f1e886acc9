/**
 * MCP 2026-07-28 through keyhole with real peers (issue 11 §2): the SDK 2.x client (`@modelcontextprotocol/client`,
 * its own discovery, DCR, PKCE, RFC 9207 `iss` check) → keyhole's consent → oidc-provider's login → the SDK 2.x
 * stateless upstream (`@modelcontextprotocol/server`) that verifies the upstream JWT's audience. No `initialize`,
 * no session: `server/discover`, per-request `MCP-Protocol-Version`/`Mcp-Method`/`Mcp-Name` headers, cacheable
 * list results (`ttlMs`/`cacheScope`) and a `subscriptions/listen` stream that keyhole must close on revocation.
 * @see https://modelcontextprotocol.io/specification/2026-07-28/basic/transports
 */
import type { InMemoryServerEventBus } from '@modelcontextprotocol/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProtocolStack, PROTOCOL_ADMIN_TOKEN, type ProtocolStack } from '../helpers/sdk2-upstream.js';
import { authorizeSdk2, Sdk2CapturingProvider, type Sdk2Connection } from '../helpers/sdk2-client.js';

const MODERN = '2026-07-28';

function textOf(result: unknown): string {
  return (result as { content: Array<{ text: string }> }).content.map((c) => c.text).join('');
}

describe('protocol 2026-07-28 through keyhole', () => {
  let stack: ProtocolStack;
  let conn: Sdk2Connection & { consent: { clientRedirect: URL } };

  beforeAll(async () => {
    stack = await startProtocolStack();
    conn = await authorizeSdk2(stack.modernUrl, { login: 'mia', provider: new Sdk2CapturingProvider('http://127.0.0.1:9/modern/callback', 'Modern client') });
  });
  afterAll(async () => {
    await conn?.client.close().catch(() => undefined);
    await stack?.close();
  });

  it('authorizes the SDK 2.x client (iss on the redirect) and negotiates 2026-07-28 with server/discover, without initialize', () => {
    expect(conn.consent.clientRedirect.searchParams.get('iss')).toBe(stack.publicUrl);
    expect(conn.client.getProtocolEra()).toBe('modern');
    expect(conn.client.getNegotiatedProtocolVersion()).toBe(MODERN);
    const seen = stack.v2.requests.filter((r) => r.headers['authorization']);
    expect(seen.map((r) => r.rpcMethod)).toContain('server/discover');
    expect(seen.map((r) => r.rpcMethod)).not.toContain('initialize');
    const discover = seen.find((r) => r.rpcMethod === 'server/discover')!;
    expect(discover.headers['mcp-protocol-version']).toBe(MODERN);
    expect(discover.headers['mcp-method']).toBe('server/discover');
    expect(discover.headers['mcp-session-id']).toBeUndefined();
  });

  it('answers server/discover and tools/list with the cache fields, passing Mcp-Method and Mcp-Name upstream', async () => {
    const discover = await conn.client.discover();
    expect(discover.supportedVersions).toContain(MODERN);
    const list = await conn.client.listTools(undefined, { cacheMode: 'bypass' });
    expect(list.tools.map((t) => t.name).sort()).toEqual(['debug_dump', 'echo', 'purge_notes', 'slow_count', 'whoami', 'write_note']);
    expect(list).toMatchObject({ ttlMs: 60_000, cacheScope: 'public' });
    const echoed = await conn.client.callTool({ name: 'echo', arguments: { text: 'hello 2026' } });
    expect(textOf(echoed)).toBe('hello 2026');
    const call = stack.v2.requests.filter((r) => r.rpcMethod === 'tools/call').at(-1)!;
    expect(call.headers).toMatchObject({ 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/call', 'mcp-name': 'echo' });
    expect(call.headers['authorization']).toMatch(/^Bearer eyJ/);
  });

  it('streams progress notifications of a tools/call', async () => {
    const seen: number[] = [];
    const result = await conn.client.callTool({ name: 'slow_count', arguments: { n: 3, delayMs: 20 } }, { onprogress: (p) => seen.push(p.progress) });
    expect(textOf(result)).toBe('counted 3');
    expect(seen).toEqual([1, 2, 3]);
    expect(stack.v2.calls.at(-1)).toEqual({ tool: 'slow_count', sub: 'mia' });
  });

  it('keeps a subscriptions/listen stream open, delivers change notifications, and closes it within 1 s of an admin revoke', async () => {
    let changed = 0;
    conn.client.setNotificationHandler('notifications/tools/list_changed', () => {
      changed += 1;
    });
    const sub = await conn.client.listen({ toolsListChanged: true });
    expect(sub.honoredFilter).toMatchObject({ toolsListChanged: true });
    const grantId = (await stack.keyhole.store.grants.list({ clientId: conn.provider.clientId, status: 'active' }))[0]!.id;
    const upstreamListeners = () => (stack.v2.handler.bus as InMemoryServerEventBus).listenerCount;
    expect(upstreamListeners()).toBe(1);
    stack.v2.handler.notify.toolsChanged();
    await expect.poll(() => changed, { timeout: 2000 }).toBe(1);

    const started = Date.now();
    const res = await fetch(`${stack.publicUrl}/admin/api/grants/${grantId}`, { method: 'DELETE', headers: { authorization: `Bearer ${PROTOCOL_ADMIN_TOKEN}` } });
    expect(res.status).toBe(200);
    const how = await Promise.race([sub.closed, new Promise((r) => setTimeout(() => r('still open'), 1000))]);
    expect(how).toBe('remote'); // keyhole ended the stream; the server never sent a graceful listen result
    expect(Date.now() - started).toBeLessThan(1000);
    // keyhole also tore down its upstream request: the upstream's listen router dropped the stream.
    await expect.poll(upstreamListeners, { timeout: 1000 }).toBe(0);
    // Listening again meets the revoked grant: keyhole's 401, the refresh token's invalid_grant, no upstream request.
    const upstreamBefore = stack.v2.requests.length;
    await expect(conn.client.listen({ toolsListChanged: true })).rejects.toThrow();
    expect(stack.v2.requests.length).toBe(upstreamBefore);
    expect((await stack.keyhole.store.events.list({ type: 'grant.revoked', limit: 10 }))[0]).toMatchObject({ grantId, detail: { actor: 'admin:token' } });
  });
});
