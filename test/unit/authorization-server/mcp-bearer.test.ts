/**
 * The bearer check in front of /mcp/{server} (the authenticate step, src/proxy/pipeline/authenticate.ts, via mcp-route.ts). Only refusals here:
 * they never reach the forwarder, so app.request is enough. Forwarding is covered by the proxy and e2e suites.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sha256Hex as sha } from '../../../src/store/crypto/hash.js';
import type { ClientRecord, GrantRecord } from '../../../src/store/types.js';
import { CLIENT_REDIRECT, createHarness, PRM_A, PUBLIC_URL, type Harness } from './harness.js';
import { revokeGrantRowOnly } from '../../fixtures/store-builders.js';

describe('mcp bearer check', () => {
  let h: Harness;
  let client: ClientRecord;
  let grant: GrantRecord;
  beforeEach(async () => {
    h = await createHarness();
    client = await h.seedClient({ metadata: { redirect_uris: [CLIENT_REDIRECT] } });
    grant = await h.seedGrant(client);
  });
  afterEach(async () => {
    await h.close();
  });

  const initialize = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } });
  const call = (server: string, headers: Record<string, string> = {}, method = 'POST') =>
    h.request(`/mcp/${server}`, { method, headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers }, ...(method === 'POST' ? { body: initialize } : {}) });

  function challenge(res: Response): string {
    expect(res.status).toBe(401);
    const header = res.headers.get('www-authenticate');
    expect(header).not.toBeNull();
    return header!;
  }

  async function expectInvalidToken(res: Response) {
    const c = challenge(res);
    expect(c).toMatch(/^Bearer /);
    expect(c).toContain('error="invalid_token"');
    expect(c).toContain(`resource_metadata="${PRM_A}"`);
    expect(c).toContain('scope="mcp"');
    const body = (await res.json()) as { error: string };
    expect(body.error).toBe('invalid_token');
  }

  it('rejects a request without a token with 401 and a challenge without error', async () => {
    const res = await call('a');
    const c = challenge(res);
    expect(c).toBe(`Bearer resource_metadata="${PRM_A}", scope="mcp"`);
    expect(c).not.toContain('error=');
  });

  it('rejects GET and DELETE without a token with 401 too', async () => {
    for (const method of ['GET', 'DELETE']) {
      const res = await call('a', {}, method);
      expect(res.status, method).toBe(401);
    }
  });

  it('names the server\'s own PRM and scopes in the challenge', async () => {
    const res = await call('b');
    expect(challenge(res)).toBe(`Bearer resource_metadata="${PUBLIC_URL}/.well-known/oauth-protected-resource/mcp/b", scope="b:read b:write"`);
  });

  it('rejects a garbage token with invalid_token', async () => {
    for (const authorization of ['Bearer garbage', 'Bearer kh_at_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'Bearer', 'Bearer ', 'Bearer a b', 'Basic dXNlcjpwdw==', 'Bearer "quoted"', `Bearer ${'x'.repeat(10_000)}`]) {
      await expectInvalidToken(await call('a', { authorization }));
    }
  });

  it('rejects an expired token with invalid_token', async () => {
    const { access } = await h.seedTokens(grant, { accessExpiresAt: h.clock.now + 10 });
    h.clock.now += 10;
    await expectInvalidToken(await call('a', { authorization: `Bearer ${access}` }));
  });

  it('rejects a revoked token with invalid_token', async () => {
    const { access } = await h.seedTokens(grant);
    await h.store.tokens.revokeAccess(sha(access), h.clock.now);
    await expectInvalidToken(await call('a', { authorization: `Bearer ${access}` }));
  });

  // The store caches a found token (src/store/sqlite/cached-token-lookup.ts): a token that passed the bearer check
  // once must still be refused on the very next request once it has expired or been revoked.
  it('refuses a token that passed once (cached) on the very next request after it expired', async () => {
    const { access } = await h.seedTokens(grant, { accessExpiresAt: h.clock.now + 10 });
    const first = await call('a', { authorization: `Bearer ${access}` });
    expect(first.status).not.toBe(401); // past the bearer check (the harness has no upstream to forward to)
    h.clock.now += 10;
    await expectInvalidToken(await call('a', { authorization: `Bearer ${access}` }));
  });

  it('refuses a token that passed once (cached) on the very next request after it was revoked', async () => {
    const { access } = await h.seedTokens(grant);
    expect((await call('a', { authorization: `Bearer ${access}` })).status).not.toBe(401);
    await h.store.tokens.revokeAccess(sha(access), h.clock.now);
    await expectInvalidToken(await call('a', { authorization: `Bearer ${access}` }));
  });

  it('refuses a token that passed once (cached) on the very next request after its grant was revoked', async () => {
    const { access } = await h.seedTokens(grant);
    expect((await call('a', { authorization: `Bearer ${access}` })).status).not.toBe(401);
    await h.store.grants.revoke(grant.id, 'admin_revoked', h.clock.now);
    await expectInvalidToken(await call('a', { authorization: `Bearer ${access}` }));
  });

  it('rejects a token whose grant was revoked with invalid_token', async () => {
    const { access } = await h.seedTokens(grant);
    // Only the grant's status changes (the token row itself is left alone), so the grant check is what refuses it.
    await revokeGrantRowOnly(h.store, grant.id, h.clock.now);
    expect((await h.store.tokens.findAccess(sha(access)))?.revokedAt).toBeNull();
    await expectInvalidToken(await call('a', { authorization: `Bearer ${access}` }));
  });

  it('rejects a token minted for server b on /mcp/a (audience)', async () => {
    const grantB = await h.seedGrant(client, { server: 'b', scopes: ['b:read'] });
    const { access } = await h.seedTokens(grantB);
    await expectInvalidToken(await call('a', { authorization: `Bearer ${access}` }));
  });

  it('rejects a token whose resource names another server than its grant (audience)', async () => {
    const { access } = await h.seedTokens(grant, { resource: `${PUBLIC_URL}/mcp/b` });
    await expectInvalidToken(await call('a', { authorization: `Bearer ${access}` }));
    const res = await call('b', { authorization: `Bearer ${access}` });
    expect(res.status).toBe(401);
  });

  it('keeps the token value out of responses and logs', async () => {
    const { access } = await h.seedTokens(grant, { accessExpiresAt: h.clock.now + 1 });
    h.clock.now += 5;
    const res = await call('a', { authorization: `Bearer ${access}` });
    expect(res.status).toBe(401);
    expect(`${[...res.headers].join('\n')}${await res.text()}`).not.toContain(access);
    expect(h.logs.join('\n')).not.toContain(access);
  });

  it('rejects PUT with 405 and an Allow header', async () => {
    const res = await call('a', {}, 'PUT');
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, POST, DELETE, OPTIONS');
  });

  it('rejects an unknown server with 404 JSON', async () => {
    for (const server of ['nope', '__proto__', 'constructor']) {
      const res = await call(server);
      expect(res.status, server).toBe(404);
      expect(res.headers.get('content-type')).toContain('application/json');
      expect(((await res.json()) as { error: { code: number } }).error.code).toBe(-32601);
    }
  });

  it('rejects a present but foreign Origin with 403 before authentication', async () => {
    const { access } = await h.seedTokens(grant);
    for (const origin of ['https://evil.example', 'null', 'http://127.0.0.1:8788']) {
      const res = await call('a', { origin, authorization: `Bearer ${access}` });
      expect(res.status, origin).toBe(403);
      expect(res.headers.get('www-authenticate')).toBeNull();
    }
  });

  it('accepts its own Origin (then asks for a token)', async () => {
    const res = await call('a', { origin: PUBLIC_URL });
    expect(res.status).toBe(401);
    expect(res.headers.get('access-control-allow-origin')).toBe(PUBLIC_URL);
    expect(res.headers.get('access-control-expose-headers')).toContain('WWW-Authenticate');
  });

  it('answers OPTIONS with 204 and no authentication', async () => {
    const res = await h.request('/mcp/a', {
      method: 'OPTIONS',
      headers: { origin: PUBLIC_URL, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type, mcp-protocol-version' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('www-authenticate')).toBeNull();
    expect(res.headers.get('access-control-allow-headers')).toContain('MCP-Protocol-Version');
    expect(res.headers.get('access-control-allow-methods')).toContain('POST');
  });
});
