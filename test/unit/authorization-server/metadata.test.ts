import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHarness, PUBLIC_URL, RESOURCE_A, RESOURCE_B, type Harness } from './harness.js';

describe('metadata', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  describe('authorization server metadata (RFC 8414)', () => {
    it('serves every field MCP clients need', async () => {
      const res = await h.request('/.well-known/oauth-authorization-server');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('application/json');
      const m = (await res.json()) as Record<string, unknown>;
      expect(m.issuer).toBe(PUBLIC_URL);
      expect(m.authorization_endpoint).toBe(`${PUBLIC_URL}/authorize`);
      expect(m.token_endpoint).toBe(`${PUBLIC_URL}/token`);
      expect(m.registration_endpoint).toBe(`${PUBLIC_URL}/register`);
      expect(m.revocation_endpoint).toBe(`${PUBLIC_URL}/revoke`);
      expect(m.response_types_supported).toEqual(['code']);
      expect(m.grant_types_supported).toEqual(expect.arrayContaining(['authorization_code', 'refresh_token']));
      expect(m.code_challenge_methods_supported).toEqual(['S256']);
      expect(m.token_endpoint_auth_methods_supported).toContain('none');
      expect(m.authorization_response_iss_parameter_supported).toBe(true);
      expect(m.scopes_supported).toEqual(expect.arrayContaining(['mcp', 'b:read', 'b:write']));
      expect(m.scopes_supported).not.toContain('offline_access');
    });

    it('has an issuer byte-identical to authorization_servers[0] of every PRM', async () => {
      const as = (await (await h.request('/.well-known/oauth-authorization-server')).json()) as { issuer: string };
      for (const s of ['a', 'b']) {
        const prm = (await (await h.request(`/.well-known/oauth-protected-resource/mcp/${s}`)).json()) as { authorization_servers: string[] };
        expect(prm.authorization_servers[0]).toBe(as.issuer);
        expect(prm.authorization_servers).toHaveLength(1);
      }
    });

    it('answers /.well-known/openid-configuration with a 4xx JSON (clients move on), never 5xx', async () => {
      const res = await h.request('/.well-known/openid-configuration');
      expect(res.status).toBe(404);
      expect(((await res.json()) as { error: string }).error).toBe('not_found');
    });
  });

  describe('protected resource metadata (RFC 9728)', () => {
    it('serves the path-inserted document for each server', async () => {
      for (const [s, resource, scopes] of [
        ['a', RESOURCE_A, ['mcp']],
        ['b', RESOURCE_B, ['b:read', 'b:write']],
      ] as const) {
        const res = await h.request(`/.well-known/oauth-protected-resource/mcp/${s}`);
        expect(res.status).toBe(200);
        const prm = (await res.json()) as Record<string, unknown>;
        expect(prm.resource).toBe(resource);
        expect(prm.authorization_servers).toEqual([PUBLIC_URL]);
        expect(prm.scopes_supported).toEqual(scopes);
        expect(prm.bearer_methods_supported).toEqual(['header']);
      }
    });

    it('rejects the root PRM with 404 JSON when there are two servers', async () => {
      const res = await h.request('/.well-known/oauth-protected-resource');
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toContain('application/json');
      expect(((await res.json()) as { error: string }).error).toBe('not_found');
    });

    it('serves the root PRM when there is exactly one server', async () => {
      const one = await createHarness({ servers: ['a'] });
      try {
        const res = await one.request('/.well-known/oauth-protected-resource');
        expect(res.status).toBe(200);
        expect(((await res.json()) as { resource: string }).resource).toBe(RESOURCE_A);
      } finally {
        await one.close();
      }
    });

    it('rejects an unknown server with 404 JSON', async () => {
      for (const s of ['nope', '__proto__', 'constructor', 'A']) {
        const res = await h.request(`/.well-known/oauth-protected-resource/mcp/${s}`);
        expect(res.status, s).toBe(404);
        expect(res.headers.get('content-type')).toContain('application/json');
        expect(((await res.json()) as { error: string }).error).toBe('not_found');
      }
    });
  });

  describe('CORS on well-known', () => {
    it('sends Access-Control-Allow-Origin: * on every well-known document, 404 included', async () => {
      for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/oauth-protected-resource/mcp/a', '/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/mcp/nope']) {
        const res = await h.request(path, { headers: { origin: 'https://inspector.example' } });
        expect(res.headers.get('access-control-allow-origin'), path).toBe('*');
      }
    });

    it('answers a preflight with 204 and no authentication', async () => {
      const res = await h.request('/.well-known/oauth-protected-resource/mcp/a', {
        method: 'OPTIONS',
        headers: { origin: 'https://inspector.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'mcp-protocol-version' },
      });
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('mcp-protocol-version');
    });
  });
});
