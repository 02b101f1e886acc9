import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CHALLENGE, CLIENT_REDIRECT, createHarness, PUBLIC_URL, RESOURCE_A, RESOURCE_B, type Harness } from './harness.js';
import type { ClientRecord } from '../../../src/store/types.js';

describe('authorize', () => {
  let h: Harness;
  let client: ClientRecord;
  beforeEach(async () => {
    h = await createHarness();
    client = await h.seedClient({ metadata: { client_name: 'Good Client', redirect_uris: [CLIENT_REDIRECT, 'https://app.example/cb'] } });
  });
  afterEach(async () => {
    await h.close();
  });

  function params(over: Record<string, string | undefined> = {}): Record<string, string> {
    const p: Record<string, string | undefined> = {
      response_type: 'code',
      client_id: client.clientId,
      redirect_uri: CLIENT_REDIRECT,
      code_challenge: CHALLENGE,
      code_challenge_method: 'S256',
      state: 'client-state-123',
      resource: RESOURCE_A,
      scope: 'mcp',
      ...over,
    };
    return Object.fromEntries(Object.entries(p).filter((e): e is [string, string] => e[1] !== undefined));
  }
  const authorize = (p: Record<string, string> | string, headers: Record<string, string> = {}) =>
    h.request(`/authorize?${typeof p === 'string' ? p : new URLSearchParams(p).toString()}`, { headers });

  /** Phase 1: an HTML error page with 400, never a redirect, nothing stored. */
  async function expectPage(res: Response, error: string) {
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    const html = await res.text();
    expect(html).toContain(`<code data-testid="error-code">${error}</code>`);
    expect(h.count('pending_authorizations')).toBe(0);
    return html;
  }

  /** Phase 2: 302 to the redirect URI with error, state, iss; nothing stored. */
  function expectRedirectError(res: Response, error: string, redirect = CLIENT_REDIRECT, state: string | null = 'client-state-123') {
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get('location')!);
    expect(`${location.origin}${location.pathname}`).toBe(redirect);
    expect(location.searchParams.get('error')).toBe(error);
    expect(location.searchParams.get('state')).toBe(state);
    expect(location.searchParams.get('iss')).toBe(PUBLIC_URL);
    expect(location.searchParams.get('code')).toBeNull();
    expect(h.count('pending_authorizations')).toBe(0);
    return location;
  }

  describe('phase 1: client and redirect_uri (page, never a redirect)', () => {
    it('rejects a missing client_id with a page', async () => {
      await expectPage(await authorize(params({ client_id: undefined })), 'invalid_request');
    });

    it('rejects an empty client_id with a page', async () => {
      await expectPage(await authorize(params({ client_id: '' })), 'invalid_request');
    });

    it('rejects an unknown client_id with a page', async () => {
      await expectPage(await authorize(params({ client_id: 'c_unknown' })), 'invalid_client');
    });

    it('rejects a redirect_uri mismatch with a page', async () => {
      for (const redirect_uri of ['https://evil.example/cb', 'https://app.example/cb/', 'https://app.example/cb?x=1', 'https://APP.example/other', '']) {
        await expectPage(await authorize(params({ redirect_uri })), 'invalid_request');
      }
    });

    it('rejects a blocked client with a page', async () => {
      await h.store.clients.block(client.clientId, h.clock.now);
      await expectPage(await authorize(params()), 'invalid_client');
    });

    it('rejects a missing redirect_uri when several are registered with a page', async () => {
      await expectPage(await authorize(params({ redirect_uri: undefined })), 'invalid_request');
    });

    it('rejects repeated parameters with a page (RFC 6749 §3.1)', async () => {
      const qs = `${new URLSearchParams(params()).toString()}&redirect_uri=${encodeURIComponent('https://evil.example/cb')}`;
      await expectPage(await authorize(qs), 'invalid_request');
    });

    it('renders phase-1 errors even when phase-2 parameters are also wrong', async () => {
      await expectPage(await authorize(params({ client_id: 'c_unknown', response_type: 'token', code_challenge: undefined })), 'invalid_client');
    });

    it('uses the only registered redirect_uri when it is omitted', async () => {
      const single = await h.seedClient({ metadata: { client_name: 'One', redirect_uris: ['https://single.example/cb'] } });
      const res = await authorize(params({ client_id: single.clientId, redirect_uri: undefined }));
      expect(res.status).toBe(200);
      expect(h.count('pending_authorizations')).toBe(1);
    });
  });

  describe('phase 2: redirect with error, state and iss', () => {
    it('rejects a missing response_type with unsupported_response_type', async () => {
      expectRedirectError(await authorize(params({ response_type: undefined })), 'unsupported_response_type');
    });

    it('rejects response_type=token with unsupported_response_type', async () => {
      expectRedirectError(await authorize(params({ response_type: 'token' })), 'unsupported_response_type');
    });

    it('rejects a missing code_challenge with invalid_request', async () => {
      expectRedirectError(await authorize(params({ code_challenge: undefined })), 'invalid_request');
    });

    it('rejects a missing code_challenge_method with invalid_request', async () => {
      expectRedirectError(await authorize(params({ code_challenge_method: undefined })), 'invalid_request');
    });

    it('rejects code_challenge_method=plain with invalid_request', async () => {
      expectRedirectError(await authorize(params({ code_challenge_method: 'plain', code_challenge: 'a'.repeat(43) })), 'invalid_request');
    });

    it('rejects a malformed code_challenge with invalid_request', async () => {
      for (const code_challenge of ['short', 'a'.repeat(44), `${'a'.repeat(42)}=`, `${'a'.repeat(42)}+`, `${'a'.repeat(42)}/`]) {
        expectRedirectError(await authorize(params({ code_challenge })), 'invalid_request');
      }
    });

    it('rejects an unknown resource with invalid_target', async () => {
      for (const resource of [`${PUBLIC_URL}/mcp/c`, 'https://other.example/mcp/a', `${PUBLIC_URL}/mcp/a?x=1`, `${RESOURCE_A}#frag`, 'not a url', `${PUBLIC_URL}/mcp`]) {
        expectRedirectError(await authorize(params({ resource })), 'invalid_target');
      }
    });

    it('rejects the origin alone or no resource when two servers are served, with invalid_target', async () => {
      expectRedirectError(await authorize(params({ resource: PUBLIC_URL })), 'invalid_target');
      expectRedirectError(await authorize(params({ resource: `${PUBLIC_URL}/` })), 'invalid_target');
      expectRedirectError(await authorize(params({ resource: undefined })), 'invalid_target');
    });

    it('rejects an invalid scope character with invalid_scope', async () => {
      expectRedirectError(await authorize(params({ scope: 'mcp "quoted"' })), 'invalid_scope');
    });

    it('rejects a request object with invalid_request', async () => {
      expectRedirectError(await authorize(params({ request: 'eyJhbGciOiJub25lIn0.e30.' })), 'invalid_request');
    });

    it('omits state when the client sent none, but still adds iss', async () => {
      expectRedirectError(await authorize(params({ state: undefined, response_type: 'token' })), 'unsupported_response_type', CLIENT_REDIRECT, null);
    });

    it('redirects to the requested loopback port, not the registered one', async () => {
      const loop = await h.seedClient({ metadata: { client_name: 'Loop', redirect_uris: ['http://127.0.0.1/cb'] } });
      const res = await authorize(params({ client_id: loop.clientId, redirect_uri: 'http://127.0.0.1:51234/cb', response_type: 'token' }));
      expectRedirectError(res, 'unsupported_response_type', 'http://127.0.0.1:51234/cb');
    });

    it('redirects with 302 (never 307) to a private-use scheme', async () => {
      const cursor = await h.seedClient({ metadata: { client_name: 'Cursor', redirect_uris: ['cursor://anysphere.cursor-retrieval/oauth/callback'] } });
      const res = await authorize(params({ client_id: cursor.clientId, redirect_uri: 'cursor://anysphere.cursor-retrieval/oauth/callback', code_challenge: undefined }));
      expect(res.status).toBe(302);
      const location = new URL(res.headers.get('location')!);
      expect(location.protocol).toBe('cursor:');
      expect(location.searchParams.get('error')).toBe('invalid_request');
      expect(location.searchParams.get('iss')).toBe(PUBLIC_URL);
    });
  });

  describe('resource variants (RFC 8707)', () => {
    async function pendingResource(res: Response): Promise<{ resource: string; server: string }> {
      expect(res.status).toBe(200);
      const html = await res.text();
      const id = /name="pending" value="([^"]+)"/.exec(html)![1]!;
      const p = (await h.store.pending.find(id))!;
      return { resource: p.request.resource, server: p.request.server };
    }

    it('accepts the exact resource of each server', async () => {
      expect(await pendingResource(await authorize(params({ resource: RESOURCE_A })))).toEqual({ resource: RESOURCE_A, server: 'a' });
      expect(await pendingResource(await authorize(params({ resource: RESOURCE_B, scope: 'b:read' })))).toEqual({ resource: RESOURCE_B, server: 'b' });
    });

    it('accepts a trailing slash and binds the canonical resource', async () => {
      expect(await pendingResource(await authorize(params({ resource: `${RESOURCE_A}/` })))).toEqual({ resource: RESOURCE_A, server: 'a' });
    });

    it('accepts the origin alone and a missing resource when keyhole serves one server', async () => {
      const one = await createHarness({ servers: ['a'] });
      try {
        const c = await one.seedClient({ metadata: { client_name: 'x', redirect_uris: [CLIENT_REDIRECT] } });
        for (const resource of [PUBLIC_URL, `${PUBLIC_URL}/`, undefined]) {
          const res = await one.request(`/authorize?${new URLSearchParams(params({ client_id: c.clientId, resource })).toString()}`);
          expect(res.status, String(resource)).toBe(200);
          const id = /name="pending" value="([^"]+)"/.exec(await res.text())![1]!;
          expect((await one.store.pending.find(id))?.request.resource).toBe(RESOURCE_A);
        }
      } finally {
        await one.close();
      }
    });
  });

  describe('loopback redirect port (RFC 8252 §7.3)', () => {
    let loop: ClientRecord;
    beforeEach(async () => {
      loop = await h.seedClient({ metadata: { client_name: 'Loop', redirect_uris: ['http://127.0.0.1/cb', 'http://[::1]:8080/cb', 'http://localhost/cb'] } });
    });

    it('accepts another port on a registered loopback redirect', async () => {
      for (const redirect_uri of ['http://127.0.0.1:51234/cb', 'http://127.0.0.1/cb', 'http://[::1]:9999/cb', 'http://localhost:1234/cb']) {
        const res = await authorize(params({ client_id: loop.clientId, redirect_uri }));
        expect(res.status, redirect_uri).toBe(200);
        expect(await res.text()).toContain('Allow <strong data-testid="client-name">Loop</strong>');
      }
    });

    it('rejects a different path or host on loopback with a page', async () => {
      for (const redirect_uri of ['http://127.0.0.1:51234/other', 'http://127.0.0.2:51234/cb', 'http://127.0.0.1:51234/cb/', 'https://127.0.0.1:51234/cb', 'http://[::1]:1/other', 'http://localhost.evil.example:1/cb']) {
        await expectPage(await authorize(params({ client_id: loop.clientId, redirect_uri })), 'invalid_request');
      }
    });

    it('rejects a loopback host that was not registered (127.0.0.1 registered, localhost requested)', async () => {
      const only = await h.seedClient({ metadata: { client_name: 'Only v4', redirect_uris: ['http://127.0.0.1/cb'] } });
      await expectPage(await authorize(params({ client_id: only.clientId, redirect_uri: 'http://localhost:51234/cb' })), 'invalid_request');
    });

    it('does not relax the port for non-loopback redirects', async () => {
      await expectPage(await authorize(params({ redirect_uri: 'https://app.example:8443/cb' })), 'invalid_request');
    });
  });

  describe('consent page', () => {
    it('renders the consent page and records one pending authorization', async () => {
      const res = await authorize(params());
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/html');
      const html = await res.text();
      expect(html).toContain('<form method="post" action="/consent">');
      expect(html).toContain('<button class="primary" type="submit" name="decision" value="approve">');
      expect(html).toContain('<button type="submit" name="decision" value="deny">');
      expect(html).toContain('127.0.0.1:33418'); // redirect host
      expect(html).toContain('Server A');
      expect(html).toContain(RESOURCE_A);
      expect(html).toContain('<code>mcp</code>');
      expect(html).toContain('127.0.0.1:9'); // upstream host
      expect(h.count('pending_authorizations')).toBe(1);
      const id = /name="pending" value="([^"]+)"/.exec(html)![1]!;
      const p = (await h.store.pending.find(id))!;
      expect(p.request).toEqual({ clientId: client.clientId, redirectUri: CLIENT_REDIRECT, codeChallenge: CHALLENGE, state: 'client-state-123', scopes: ['mcp'], resource: RESOURCE_A, server: 'a' });
      expect(p.upstreamStateHash).toBeNull();
      expect(p.upstreamVerifier).toBeNull();
      expect(p.expiresAt - p.createdAt).toBeLessThanOrEqual(600);
    });

    it('escapes the client name (no markup injection)', async () => {
      const evil = await h.seedClient({ metadata: { client_name: '<img src=x onerror=alert(1)>', redirect_uris: [CLIENT_REDIRECT] } });
      const res = await authorize(params({ client_id: evil.clientId }));
      expect(res.status).toBe(200);
      const html = await res.text();
      expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
      expect(html).not.toContain('<img');
    });

    it('escapes a hostile redirect host and scope-less names', async () => {
      const evil = await h.seedClient({ metadata: { client_name: '"><script>alert(1)</script>', redirect_uris: ['https://"x".example/cb'] } });
      const res = await authorize(params({ client_id: evil.clientId, redirect_uri: 'https://"x".example/cb' }));
      const html = await res.text();
      expect(html).not.toContain('<script>');
    });

    it('shows the scopes of a server with a scope map, and drops unknown extra scopes', async () => {
      const res = await authorize(params({ resource: RESOURCE_B, scope: 'b:read openid offline_access email' }));
      expect(res.status).toBe(200);
      const html = await res.text();
      expect(html).toContain('<code>b:read</code>');
      expect(html).toContain('Read things');
      expect(html).not.toContain('<code>b:write</code>');
      expect(html).not.toContain('<code>offline_access</code>');
      const id = /name="pending" value="([^"]+)"/.exec(html)![1]!;
      expect((await h.store.pending.find(id))?.request.scopes).toEqual(['b:read']);
    });

    it('grants every scope of the server when the client asks for none it knows', async () => {
      const res = await authorize(params({ resource: RESOURCE_B, scope: undefined }));
      const id = /name="pending" value="([^"]+)"/.exec(await res.text())![1]!;
      expect((await h.store.pending.find(id))?.request.scopes).toEqual(['b:read', 'b:write']);
    });

    it('cannot be framed and runs no script', async () => {
      const res = await authorize(params());
      const csp = res.headers.get('content-security-policy')!;
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("default-src 'none'");
      expect(csp).not.toMatch(/script-src/);
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('cache-control')).toBe('no-store');
    });

    it('sets an HttpOnly, SameSite=Lax consent cookie', async () => {
      const res = await authorize(params());
      const cookie = res.headers.get('set-cookie')!;
      expect(cookie).toMatch(/^keyhole-consent-p_[A-Za-z0-9_-]{22}=[A-Za-z0-9_-]{43};/);
      expect(cookie).toContain('HttpOnly');
      expect(cookie).toContain('SameSite=Lax');
      expect(cookie).toContain('Path=/');
    });

    it('sets a __Host- prefixed, Secure consent cookie when publicUrl is https', async () => {
      const https = await createHarness({ publicUrl: 'https://kh.example.com' });
      try {
        const c = await https.seedClient({ metadata: { client_name: 'x', redirect_uris: [CLIENT_REDIRECT] } });
        const res = await https.request(`/authorize?${new URLSearchParams(params({ client_id: c.clientId, resource: 'https://kh.example.com/mcp/a' })).toString()}`);
        expect(res.status).toBe(200);
        const cookie = res.headers.get('set-cookie')!;
        expect(cookie).toMatch(/^__Host-keyhole-consent-p_[A-Za-z0-9_-]{22}=[A-Za-z0-9_-]{43};/);
        expect(cookie).toContain('Secure');
        expect(cookie).toContain('HttpOnly');
        expect(cookie).toContain('SameSite=Lax');
        expect(cookie).not.toContain('Domain=');
      } finally {
        await https.close();
      }
    });

    it('rejects a client-supplied consent nonce: every page gets a fresh cookie of its own', async () => {
      const first = await authorize(params());
      const cookie = first.headers.get('set-cookie')!.split(';')[0]!;
      const planted = `keyhole-consent=${'A'.repeat(43)}; ${cookie}`;
      const second = await authorize(params(), { cookie: planted });
      expect(second.status).toBe(200);
      const set = second.headers.getSetCookie();
      expect(set).toHaveLength(1);
      const [name, value] = set[0]!.split(';')[0]!.split('=');
      expect(name).not.toBe(cookie.split('=')[0]);
      expect(value).not.toBe('A'.repeat(43));
      expect(value).not.toBe(cookie.split('=')[1]);
    });

    it('marks a loopback redirect as a local application', async () => {
      const html = await (await authorize(params())).text();
      expect(html).toContain('This is an application on your own computer');
      const https = await (await authorize(params({ redirect_uri: 'https://app.example/cb' }))).text();
      expect(https).not.toContain('This is an application on your own computer');
    });

    it('sends nothing upstream before consent', async () => {
      const res = await authorize(params());
      expect(res.headers.get('location')).toBeNull();
      expect(await h.events('consent.approved')).toHaveLength(0);
    });
  });
});
