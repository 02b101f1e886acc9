/**
 * Issue 11 §3, at the HTTP surface of the authorization server and the protected resource (app.request):
 * - a refresh without `resource` (some clients omit it) stays bound to the grant's own resource (RFC 8707 §2.2);
 * - scopes a client adds on its own (`openid`, `offline_access`) are ignored on refresh as at /authorize (RFC 6749 §3.3);
 * - `offline_access` never appears in a challenge (401 or 403) nor in the PRM, even where the upstream asks for it;
 * - a 403 `insufficient_scope` challenge names the scope the call needs plus the held ones (RFC 6750 §3.1);
 * - the authorization response carries `iss`, and the metadata says so (RFC 9207 §2–3).
 * MCP POSTs with a body go through @hono/node-server on an ephemeral port (the route reads the raw Node request);
 * the refusals tested here answer before anything is forwarded.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { sha256Hex } from '../../../src/store/crypto/hash.js';
import type { ClientRecord } from '../../../src/store/types.js';
import { CHALLENGE, CLIENT_REDIRECT, createHarness, oauthError, PUBLIC_URL, RESOURCE_A, RESOURCE_B, type Harness } from './harness.js';

const PRM_B = `${PUBLIC_URL}/.well-known/oauth-protected-resource/mcp/b`;

describe('protocol oauth (issue 11 §3)', () => {
  let h: Harness;
  let client: ClientRecord;
  beforeEach(async () => {
    h = await createHarness();
    client = await h.seedClient({ metadata: { client_name: 'Public', redirect_uris: [CLIENT_REDIRECT], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'] } });
  });
  afterEach(async () => {
    const s = server;
    server = undefined;
    if (s) await new Promise((r) => s.close(r));
    await h.close();
  });

  let server: ReturnType<typeof createAdaptorServer> | undefined;
  /** A JSON-RPC POST to /mcp/{name} through a real Node server in front of the harness app. */
  async function postMcp(name: string, token: string, body: unknown): Promise<Response> {
    if (!server) {
      server = createAdaptorServer({ fetch: h.app.fetch });
      await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    }
    const port = (server.address() as AddressInfo).port;
    return fetch(`http://127.0.0.1:${port}/mcp/${name}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: JSON.stringify(body) });
  }

  const refresh = (refresh_token: string, over: Record<string, string> = {}) => h.postForm('/token', { grant_type: 'refresh_token', refresh_token, client_id: client.clientId, ...over });
  async function tokens(res: Response): Promise<{ access_token: string; refresh_token: string; scope: string }> {
    expect(res.status).toBe(200);
    return (await res.json()) as { access_token: string; refresh_token: string; scope: string };
  }

  describe('refresh_token without resource', () => {
    it('binds the new pair to the grant\'s resource although keyhole serves several servers', async () => {
      const grant = await h.seedGrant(client, { server: 'b', scopes: ['b:read'] });
      const { refresh: rt } = await h.seedTokens(grant);
      const next = await tokens(await refresh(rt));
      expect(await h.store.tokens.findAccess(sha256Hex(next.access_token))).toMatchObject({ resource: RESOURCE_B, grantId: grant.id, scopes: ['b:read'] });
      expect(await h.store.tokens.findRefresh(sha256Hex(next.refresh_token))).toMatchObject({ resource: RESOURCE_B, grantId: grant.id });
      // An empty resource and the origin alone mean the same thing; another server's resource does not.
      const again = await tokens(await refresh(next.refresh_token, { resource: '' }));
      const origin = await tokens(await refresh(again.refresh_token, { resource: PUBLIC_URL }));
      expect((await h.store.tokens.findAccess(sha256Hex(origin.access_token)))?.resource).toBe(RESOURCE_B);
      const wrong = await refresh(origin.refresh_token, { resource: RESOURCE_A });
      expect(wrong.status).toBe(400);
      expect((await oauthError(wrong)).error).toBe('invalid_target');
    });

    it('makes a token the MCP endpoint of the grant accepts and another server\'s endpoint refuses', async () => {
      const grant = await h.seedGrant(client, { server: 'b', scopes: ['b:read'] });
      const next = await tokens(await refresh((await h.seedTokens(grant)).refresh));
      const post = (name: string) => postMcp(name, next.access_token, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'set_x' } });
      expect((await post('b')).status).toBe(403); // authenticated for b: refused only for the missing scope
      const a = await post('a');
      expect(a.status).toBe(401);
      expect(a.headers.get('www-authenticate')).toContain('error_description="the access token was issued for another resource"');
    });
  });

  describe('refresh_token scope', () => {
    it('ignores offline_access and openid that the client resends, and still refuses a known scope it was not granted', async () => {
      const grant = await h.seedGrant(client, { server: 'b', scopes: ['b:read'] });
      const first = await tokens(await refresh((await h.seedTokens(grant)).refresh, { scope: 'openid offline_access b:read' }));
      expect(first.scope).toBe('b:read');
      const second = await tokens(await refresh(first.refresh_token, { scope: 'offline_access' }));
      expect(second.scope).toBe('b:read');
      for (const scope of ['offline_access b:read b:write', 'mcp']) {
        const res = await refresh(second.refresh_token, { scope });
        expect(res.status).toBe(400);
        expect((await oauthError(res)).error).toBe('invalid_scope');
      }
      expect((await h.store.tokens.findRefresh(sha256Hex(second.refresh_token)))?.usedAt).toBeNull();
    });
  });

  describe('challenges and metadata', () => {
    it('never puts offline_access in a 401, a 403 or a PRM, though server a asks its upstream for it', async () => {
      for (const server of ['a', 'b']) {
        const prm = (await (await h.request(`/.well-known/oauth-protected-resource/mcp/${server}`)).json()) as { scopes_supported: string[] };
        expect(prm.scopes_supported).toEqual(server === 'a' ? ['mcp'] : ['b:read', 'b:write']);
        const res = await h.request(`/mcp/${server}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
        expect(res.status).toBe(401);
        expect(res.headers.get('www-authenticate')).not.toContain('offline_access');
      }
      const grant = await h.seedGrant(client, { server: 'b', scopes: ['b:read'] });
      const { access } = await h.seedTokens(grant);
      const res = await postMcp('b', access, { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'set_x' } });
      expect(res.status).toBe(403);
      expect(res.headers.get('www-authenticate')).toBe(`Bearer error="insufficient_scope", error_description="the tool set_x needs the scope b:write", resource_metadata="${PRM_B}", scope="b:read b:write"`);
    });

    it('names the needed scope plus every held one in a 403, and keeps the held ones when the token was narrowed', async () => {
      const grant = await h.seedGrant(client, { server: 'b', scopes: ['b:read', 'b:write'] });
      // A token narrowed to b:write by a refresh (RFC 6749 §6) calling a read tool.
      const { access } = await h.seedTokens(grant, { scopes: ['b:write'] });
      const res = await postMcp('b', access, { jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'get_x' } });
      expect(res.status).toBe(403);
      expect(res.headers.get('www-authenticate')).toContain('scope="b:write b:read"');
      expect(await res.json()).toEqual({ jsonrpc: '2.0', error: { code: -32003, message: 'insufficient scope for tool get_x' }, id: 4 });
    });

    it('advertises authorization_response_iss_parameter_supported and sends that issuer as iss on every redirect to the client', async () => {
      const meta = (await (await h.request('/.well-known/oauth-authorization-server')).json()) as { issuer: string; authorization_response_iss_parameter_supported: boolean };
      expect(meta.authorization_response_iss_parameter_supported).toBe(true);
      expect(meta.issuer).toBe(PUBLIC_URL);
      // A phase-2 error redirect (RFC 9207 §2: error responses carry iss too).
      const q = new URLSearchParams({ response_type: 'code', client_id: client.clientId, redirect_uri: CLIENT_REDIRECT, code_challenge: CHALLENGE, code_challenge_method: 'plain', state: 's1', resource: RESOURCE_A });
      const res = await h.request(`/authorize?${q.toString()}`);
      expect(res.status).toBe(302);
      const location = new URL(res.headers.get('location')!);
      expect(Object.fromEntries(location.searchParams)).toMatchObject({ error: 'invalid_request', state: 's1', iss: meta.issuer });
    });
  });
});
