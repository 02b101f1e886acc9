/**
 * Issue 9 F2 (the /authorize part): bounded field sizes with the two-phase error rules, no pending authorization
 * for HEAD or for a request that does not render the consent page, and a rate limit per client address plus a
 * global one (429 page with Retry-After).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ClientRecord } from '../../../src/store/types.js';
import { AUTHORIZE_RATE_LIMITS } from '../../../src/authorization-server/authorize.js';
import { CHALLENGE, CLIENT_REDIRECT, createHarness, PUBLIC_URL, RESOURCE_A, type Harness } from './harness.js';

describe('authorize limits', () => {
  let h: Harness;
  let client: ClientRecord;
  beforeEach(async () => {
    h = await createHarness();
    client = await h.seedClient({ metadata: { client_name: 'Good Client', redirect_uris: [CLIENT_REDIRECT] } });
  });
  afterEach(async () => {
    await h.close();
  });

  const params = (over: Record<string, string> = {}) =>
    new URLSearchParams({ response_type: 'code', client_id: client.clientId, redirect_uri: CLIENT_REDIRECT, code_challenge: CHALLENGE, code_challenge_method: 'S256', state: 'client-state', resource: RESOURCE_A, scope: 'mcp', ...over }).toString();
  /** Through app.request with a Node-like socket, so that the per-address limiter sees `address`. */
  const from = (address: string, query: string, method = 'GET') =>
    Promise.resolve(h.app.request(`${PUBLIC_URL}/authorize?${query}`, { method }, { incoming: { socket: { remoteAddress: address, remotePort: 50000, remoteFamily: 'IPv4' } } }));

  function expectRedirectError(res: Response, error: string, state: string | null) {
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get('location')!);
    expect(`${location.origin}${location.pathname}`).toBe(CLIENT_REDIRECT);
    expect(location.searchParams.get('error')).toBe(error);
    expect(location.searchParams.get('state')).toBe(state);
    expect(location.searchParams.get('iss')).toBe(PUBLIC_URL);
    expect(h.count('pending_authorizations')).toBe(0);
    return location;
  }

  async function expectPage(res: Response, error: string, says: string) {
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    const html = await res.text();
    expect(html).toContain(`<code data-testid="error-code">${error}</code>`);
    expect(html).toContain(says);
    expect(h.count('pending_authorizations')).toBe(0);
  }

  describe('field sizes', () => {
    it('rejects a state over 1024 bytes with a redirect that does not echo it', async () => {
      expectRedirectError(await h.request(`/authorize?${params({ state: 's'.repeat(1025) })}`), 'invalid_request', null);
      // Bytes, not characters: 342 × "€" is 1026 bytes.
      expectRedirectError(await h.request(`/authorize?${params({ state: '€'.repeat(342) })}`), 'invalid_request', null);
    });

    it('accepts a state of exactly 1024 bytes', async () => {
      const res = await h.request(`/authorize?${params({ state: 's'.repeat(1024) })}`);
      expect(res.status).toBe(200);
      expect(h.count('pending_authorizations')).toBe(1);
    });

    it('rejects a scope over 1024 bytes with invalid_request, echoing state', async () => {
      expectRedirectError(await h.request(`/authorize?${params({ scope: `mcp ${'x'.repeat(1024)}` })}`), 'invalid_request', 'client-state');
    });

    it('rejects a resource over 2048 bytes with invalid_target, echoing state', async () => {
      const location = expectRedirectError(await h.request(`/authorize?${params({ resource: `${RESOURCE_A}?${'x'.repeat(2048)}` })}`), 'invalid_target', 'client-state');
      expect(location.searchParams.get('error_description')).toBe('resource is longer than 2048 bytes');
    });

    it('rejects a code_challenge outside the S256 shape (RFC 7636 §4.2) with invalid_request', async () => {
      for (const code_challenge of ['a'.repeat(42), 'a'.repeat(44), 'a'.repeat(128), `${'a'.repeat(42)}!`]) {
        expectRedirectError(await h.request(`/authorize?${params({ code_challenge })}`), 'invalid_request', 'client-state');
      }
    });

    it('rejects a redirect_uri over 2048 bytes with a page, never a redirect', async () => {
      await expectPage(await h.request(`/authorize?${params({ redirect_uri: `${CLIENT_REDIRECT}?${'x'.repeat(2048)}` })}`), 'invalid_request', 'redirect_uri is longer than 2048 bytes');
    });

    it('rejects a client_id over 2048 bytes with a page, never a redirect', async () => {
      await expectPage(await h.request(`/authorize?${params({ client_id: `c_${'x'.repeat(2047)}` })}`), 'invalid_request', 'client_id is longer than 2048 bytes');
    });
  });

  describe('pending authorizations', () => {
    it('rejects HEAD without side effects: no pending authorization, no cookie', async () => {
      const res = await h.request(`/authorize?${params()}`, { method: 'HEAD' });
      expect(res.status).toBe(200);
      expect(res.headers.getSetCookie()).toHaveLength(0);
      expect(await res.text()).toBe('');
      expect(h.count('pending_authorizations')).toBe(0);
    });

    it('creates exactly one pending authorization per rendered consent page, none for refused requests', async () => {
      await h.request(`/authorize?${params({ response_type: 'token' })}`);
      await h.request(`/authorize?${params({ resource: 'https://unknown.example/mcp' })}`);
      expect(h.count('pending_authorizations')).toBe(0);
      expect((await h.request(`/authorize?${params()}`)).status).toBe(200);
      expect(h.count('pending_authorizations')).toBe(1);
    });
  });

  describe('rate limits', () => {
    async function expectLimited(res: Response, head = false) {
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe(String(AUTHORIZE_RATE_LIMITS.windowMs / 1000));
      expect(res.headers.get('content-type')).toContain('text/html');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      if (!head) expect(await res.text()).toContain('<code data-testid="error-code">temporarily_unavailable</code>');
    }

    it('rejects an address over its limit with 429 and Retry-After; other addresses go on', async () => {
      for (let i = 0; i < AUTHORIZE_RATE_LIMITS.perAddress; i++) expect((await from('10.0.0.1', params(), 'HEAD')).status).toBe(200);
      const pendingBefore = h.count('pending_authorizations');
      await expectLimited(await from('10.0.0.1', params()));
      await expectLimited(await from('10.0.0.1', params(), 'HEAD'), true);
      expect(h.count('pending_authorizations')).toBe(pendingBefore);
      expect((await from('10.0.0.2', params())).status).toBe(200);
    });

    it('rejects every address once the global limit is used up', async () => {
      for (let i = 0; i < AUTHORIZE_RATE_LIMITS.global; i++) {
        const res = await from(`10.1.${i >> 8}.${i & 255}`, params(), 'HEAD');
        if (res.status !== 200) throw new Error(`request ${i} got ${res.status}`);
      }
      await expectLimited(await from('10.9.9.9', params()));
      expect(h.count('pending_authorizations')).toBe(0);
    });
  });
});
