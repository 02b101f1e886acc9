/**
 * Both protocol eras side by side through ONE keyhole (issue 11 §2.4): the SDK 1.x client against the SDK 1.x
 * upstream (2025-11-25, sessions, GET stream), the SDK 2.x client against the SDK 2.x upstream (2026-07-28,
 * stateless), and the SDK 2.x client against the SDK 1.x upstream, which falls back to 2025-11-25 after its
 * `server/discover` probe is refused. Also, with a real client (issue 11 §3): the RFC 9207 `iss` the SDK 2.x client
 * checks, and a refresh that omits `resource`.
 * @see https://modelcontextprotocol.io/specification/2026-07-28/basic/lifecycle#version-negotiation
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IssuerMismatchError, StreamableHTTPClientTransport, UnauthorizedError, type FetchLike } from '@modelcontextprotocol/client';
import { startProtocolStack, type ProtocolStack } from '../helpers/sdk2-upstream.js';
import { approve, authorizeSdk2, connectSdk2, newSdk2Client, Sdk2CapturingProvider, type Sdk2Connection } from '../helpers/sdk2-client.js';
import { CapturingProvider, connectThroughKeyhole, type ConnectedClient } from '../helpers/sdk-client.js';
import { sha256Hex } from '../../src/store/crypto/hash.js';

const V1_TOOLS = ['count', 'create_issue', 'delete_issue', 'echo', 'list_issues', 'whoami'];
const V2_TOOLS = ['debug_dump', 'echo', 'purge_notes', 'slow_count', 'whoami', 'write_note'];

function textOf(result: unknown): string {
  return (result as { content: Array<{ text: string }> }).content.map((c) => c.text).join('');
}

describe('protocol eras side by side', () => {
  let stack: ProtocolStack;
  let v1: ConnectedClient;
  let modern: Sdk2Connection;
  let fallback: Sdk2Connection;

  beforeAll(async () => {
    stack = await startProtocolStack();
    [v1, modern, fallback] = await Promise.all([
      connectThroughKeyhole(stack.legacyUrl, { login: 'ann', provider: new CapturingProvider('http://127.0.0.1:9/v1/callback', 'SDK 1.x client') }),
      authorizeSdk2(stack.modernUrl, { login: 'ben', provider: new Sdk2CapturingProvider('http://127.0.0.1:9/v2/callback', 'SDK 2.x modern') }),
      authorizeSdk2(stack.legacyUrl, { login: 'cat', provider: new Sdk2CapturingProvider('http://127.0.0.1:9/v2-legacy/callback', 'SDK 2.x on 1.x') }),
    ]);
  });
  afterAll(async () => {
    for (const c of [v1, modern, fallback]) await c?.client.close().catch(() => undefined);
    await stack?.close();
  });

  it('negotiates 2025-11-25 for both clients on the 1.x upstream and 2026-07-28 on the 2.x upstream', () => {
    expect(v1.transport.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(modern.client.getNegotiatedProtocolVersion()).toBe('2026-07-28');
    expect(modern.client.getProtocolEra()).toBe('modern');
    expect(fallback.client.getNegotiatedProtocolVersion()).toBe('2025-11-25');
    expect(fallback.client.getProtocolEra()).toBe('legacy');
    expect(fallback.transport.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    // Session ids pass through keyhole both ways; the 2.x upstream never saw one, nor an initialize (so far).
    expect(stack.v1.seenRequestHeaders.some((h) => h['mcp-session-id'] === fallback.transport.sessionId)).toBe(true);
    expect(stack.v2.requests.some((r) => r.headers['mcp-session-id'] !== undefined || r.rpcMethod === 'initialize')).toBe(false);
  });

  it('also serves the SDK 1.x client from the 2.x upstream (its stateless 2025 fallback: initialize, no session)', async () => {
    const old = await connectThroughKeyhole(stack.modernUrl, { login: 'eve', provider: new CapturingProvider('http://127.0.0.1:9/v1-on-v2/callback', 'SDK 1.x on 2.x') });
    try {
      expect(old.transport.sessionId).toBeUndefined();
      expect((await old.client.listTools()).tools.map((t) => t.name).sort()).toEqual(V2_TOOLS);
      expect(JSON.parse(textOf(await old.client.callTool({ name: 'whoami', arguments: {} }))).sub).toBe('eve');
      const init = stack.v2.requests.find((r) => r.rpcMethod === 'initialize')!;
      expect(init.headers['mcp-method']).toBeUndefined();
      expect(init.headers['authorization']).toMatch(/^Bearer eyJ/);
    } finally {
      await old.client.close();
    }
  });

  it('serves all three at once: lists, calls and progress on each, as each user', async () => {
    const progress: Record<string, number[]> = { v1: [], modern: [], fallback: [] };
    const [l1, l2, l3, c1, c2, c3, who1, who2, who3] = await Promise.all([
      v1.client.listTools(),
      modern.client.listTools(undefined, { cacheMode: 'bypass' }),
      fallback.client.listTools(),
      v1.client.callTool({ name: 'count', arguments: { n: 3, delayMs: 10 } }, undefined, { onprogress: (p) => progress.v1!.push(p.progress) }),
      modern.client.callTool({ name: 'slow_count', arguments: { n: 3, delayMs: 10 } }, { onprogress: (p) => progress.modern!.push(p.progress) }),
      fallback.client.callTool({ name: 'count', arguments: { n: 3, delayMs: 10 } }, { onprogress: (p) => progress.fallback!.push(p.progress) }),
      v1.client.callTool({ name: 'whoami', arguments: {} }),
      modern.client.callTool({ name: 'whoami', arguments: {} }),
      fallback.client.callTool({ name: 'whoami', arguments: {} }),
    ]);
    expect(l1.tools.map((t) => t.name).sort()).toEqual(V1_TOOLS);
    expect(l2.tools.map((t) => t.name).sort()).toEqual(V2_TOOLS);
    expect(l3.tools.map((t) => t.name).sort()).toEqual(V1_TOOLS);
    expect([textOf(c1), textOf(c2), textOf(c3)]).toEqual(['counted 3', 'counted 3', 'counted 3']);
    expect(progress).toEqual({ v1: [1, 2, 3], modern: [1, 2, 3], fallback: [1, 2, 3] });
    expect([who1, who2, who3].map((r) => JSON.parse(textOf(r)).sub)).toEqual(['ann', 'ben', 'cat']);
  });

  it('forwards the 2.x client\'s server/discover probe to the 1.x upstream, whose refusal makes the client fall back', () => {
    const probe = stack.v1.seenRequestHeaders.find((h) => h['mcp-method'] === 'server/discover');
    expect(probe).toBeDefined();
    expect(probe!['mcp-protocol-version']).toBe('2026-07-28');
    expect(probe!['authorization']).toMatch(/^Bearer eyJ/);
  });

  it('has upstreams that check the audience: the 2.x upstream refuses a valid upstream JWT minted for the 1.x upstream', async () => {
    const forV1 = stack.v1.seenAuthorizationHeaders.at(-1)!;
    const forV2 = stack.v2.requests.map((r) => r.headers['authorization']).filter(Boolean).at(-1)!;
    const direct = (authorization: string) => fetch(stack.v2.url, { method: 'POST', headers: { authorization, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } } }) });
    const refused = await direct(forV1);
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { error_description: string }).error_description).toContain('aud');
    expect((await direct(forV2)).status).toBe(200);
  });

  it('refuses subscriptions/listen on the 2025-era connection (the GET stream is that era\'s channel)', async () => {
    await expect(fallback.client.listen({ toolsListChanged: true })).rejects.toThrow();
  });

  it('gives the SDK 2.x client an iss it checks: a wrong or missing iss is refused before the code is redeemed', async () => {
    const provider = new Sdk2CapturingProvider('http://127.0.0.1:9/iss/callback', 'iss checker');
    const transport = new StreamableHTTPClientTransport(new URL(stack.modernUrl), { authProvider: provider });
    await expect(newSdk2Client().connect(transport)).rejects.toBeInstanceOf(UnauthorizedError);
    const { clientRedirect } = await approve(provider, { login: 'dee' });
    expect(clientRedirect.searchParams.get('iss')).toBe(stack.publicUrl);
    const forged = new URLSearchParams(clientRedirect.searchParams);
    forged.set('iss', 'http://127.0.0.1:1');
    await expect(transport.finishAuth(forged)).rejects.toBeInstanceOf(IssuerMismatchError);
    const missing = new URLSearchParams(clientRedirect.searchParams);
    missing.delete('iss');
    await expect(transport.finishAuth(missing)).rejects.toBeInstanceOf(IssuerMismatchError);
    // The code was never redeemed: with the right iss it still works.
    await transport.finishAuth(clientRedirect.searchParams);
    expect(provider.tokens()!.access_token).toMatch(/^kh_at_/);
  });

  it('refreshes the SDK 2.x client by itself when the request omits resource (falls back to the grant\'s resource)', async () => {
    const provider = modern.provider;
    const bodies: URLSearchParams[] = [];
    // A client that omits `resource` on refresh: the real SDK request with that one parameter removed.
    const omitResource: FetchLike = async (input, init) => {
      if (String(input) === `${stack.publicUrl}/token` && init?.body) {
        const body = new URLSearchParams(String(init.body));
        body.delete('resource');
        bodies.push(body);
        return fetch(input, { ...init, body });
      }
      return fetch(input, init);
    };
    const before = (await stack.keyhole.store.events.list({ type: 'token.refreshed', limit: 500 })).length;
    provider.saveTokens({ ...provider.tokens()!, access_token: 'kh_at_not-a-valid-token' });
    const again = await connectSdk2(stack.modernUrl, provider, { fetch: omitResource });
    expect(JSON.parse(textOf(await again.client.callTool({ name: 'whoami', arguments: {} }))).sub).toBe('ben');
    await again.client.close();
    expect(bodies.map((b) => b.get('grant_type'))).toEqual(['refresh_token']);
    expect(bodies[0]!.has('resource')).toBe(false);
    expect(await stack.keyhole.store.events.list({ type: 'token.refreshed', limit: 500 })).toHaveLength(before + 1);
    expect(await stack.keyhole.store.tokens.findAccess(sha256Hex(provider.tokens()!.access_token))).toMatchObject({ resource: stack.modernUrl });
  });
});
