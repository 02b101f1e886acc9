import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../../src/store/crypto/hash.js';
import { s256 } from '../../../src/oauth/pkce.js';
import { sealContext } from '../../../src/upstream/seal-context.js';
import type { ClientRecord, PendingAuthorization } from '../../../src/store/types.js';
import { CHALLENGE, CLIENT_REDIRECT, createHarness, PUBLIC_URL, RESOURCE_A, UPSTREAM_A_AUTHORIZE, UPSTREAM_A_RESOURCE, type Harness } from './harness.js';
import { sqliteRows } from '../../helpers/sqlite-engine.js';

interface Started {
  pending: string;
  csrf: string;
  cookie: string;
}

describe('consent', () => {
  let h: Harness;
  let client: ClientRecord;
  beforeEach(async () => {
    h = await createHarness();
    client = await h.seedClient({ metadata: { client_name: 'Good Client', redirect_uris: [CLIENT_REDIRECT] } });
  });
  afterEach(async () => {
    await h.close();
  });

  async function start(harness = h, c = client, over: Record<string, string> = {}): Promise<Started> {
    const q = new URLSearchParams({
      response_type: 'code', client_id: c.clientId, redirect_uri: CLIENT_REDIRECT, code_challenge: CHALLENGE, code_challenge_method: 'S256',
      state: 'client-state', resource: `${harness.publicUrl}/mcp/a`, ...over,
    });
    const res = await harness.request(`/authorize?${q.toString()}`);
    expect(res.status).toBe(200);
    const html = await res.text();
    return {
      pending: /name="pending" value="([^"]+)"/.exec(html)![1]!,
      csrf: /name="csrf" value="([^"]+)"/.exec(html)![1]!,
      cookie: res.headers.get('set-cookie')!.split(';')[0]!,
    };
  }

  const post = (s: Partial<Started>, fields: Record<string, string>, harness = h) =>
    harness.postForm('/consent', { ...(s.pending !== undefined ? { pending: s.pending } : {}), ...(s.csrf !== undefined ? { csrf: s.csrf } : {}), ...fields }, s.cookie ? { cookie: s.cookie } : {});

  async function expectPage(res: Response, status: number, error: string) {
    expect(res.status).toBe(status);
    expect(res.headers.get('location')).toBeNull();
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(await res.text()).toContain(`<code data-testid="error-code">${error}</code>`);
  }

  async function snapshot(id: string): Promise<PendingAuthorization | undefined> {
    return await h.store.pending.find(id);
  }

  describe('CSRF', () => {
    it('rejects a missing CSRF token with 403 and leaves the pending authorization untouched', async () => {
      const s = await start();
      const before = await snapshot(s.pending);
      await expectPage(await post({ pending: s.pending, cookie: s.cookie }, { decision: 'approve' }), 403, 'invalid_request');
      expect(await snapshot(s.pending)).toEqual(before);
      expect(await h.events('consent.approved')).toHaveLength(0);
    });

    it('rejects an invalid CSRF token with 403 and leaves the pending authorization untouched', async () => {
      const s = await start();
      const before = await snapshot(s.pending);
      await expectPage(await post({ ...s, csrf: `${s.csrf.slice(0, -2)}AA` }, { decision: 'approve' }), 403, 'invalid_request');
      await expectPage(await post({ ...s, csrf: '' }, { decision: 'deny' }), 403, 'invalid_request');
      expect(await snapshot(s.pending)).toEqual(before);
      expect(await h.events('consent.denied')).toHaveLength(0);
    });

    it('rejects a request without the consent cookie (cross-site POST) with 403', async () => {
      const s = await start();
      const before = await snapshot(s.pending);
      await expectPage(await post({ pending: s.pending, csrf: s.csrf }, { decision: 'approve' }), 403, 'invalid_request');
      expect(await snapshot(s.pending)).toEqual(before);
    });

    it('rejects another browser\'s cookie with 403', async () => {
      const s = await start();
      const other = await start();
      await expectPage(await post({ ...s, cookie: other.cookie.replace(/=.*/, `=${'A'.repeat(43)}`) }, { decision: 'approve' }), 403, 'invalid_request');
      expect((await snapshot(s.pending))?.upstreamStateHash).toBeNull();
    });

    it('rejects the CSRF token of another pending authorization with 403', async () => {
      const s1 = await start();
      const s2 = await start(h, client, { state: 'second' });
      // Same browser (same cookie), but the token was made for s2.
      await expectPage(await post({ pending: s1.pending, csrf: s2.csrf, cookie: s1.cookie }, { decision: 'approve' }), 403, 'invalid_request');
      expect((await snapshot(s1.pending))?.upstreamStateHash).toBeNull();
      expect((await snapshot(s2.pending))?.upstreamStateHash).toBeNull();
    });

    it('round-trips the __Host- cookie when publicUrl is https', async () => {
      const https = await createHarness({ publicUrl: 'https://kh.example.com' });
      try {
        const c = await https.seedClient({ metadata: { client_name: 'x', redirect_uris: [CLIENT_REDIRECT] } });
        const s = await start(https, c);
        expect(s.cookie).toMatch(/^__Host-keyhole-consent-p_[A-Za-z0-9_-]{22}=/);
        const res = await post(s, { decision: 'deny' }, https);
        expect(res.status).toBe(302);
        expect(new URL(res.headers.get('location')!).searchParams.get('error')).toBe('access_denied');
      } finally {
        await https.close();
      }
    });
  });

  describe('deny', () => {
    it('redirects with 302 and error=access_denied, state and iss, and forgets the pending authorization', async () => {
      const s = await start();
      const res = await post(s, { decision: 'deny' });
      expect(res.status).toBe(302);
      const location = new URL(res.headers.get('location')!);
      expect(`${location.origin}${location.pathname}`).toBe(CLIENT_REDIRECT);
      expect(location.searchParams.get('error')).toBe('access_denied');
      expect(location.searchParams.get('state')).toBe('client-state');
      expect(location.searchParams.get('iss')).toBe(PUBLIC_URL);
      expect(location.searchParams.get('code')).toBeNull();
      expect(await snapshot(s.pending)).toBeUndefined();
      expect(await h.events('consent.denied')).toHaveLength(1);
    });
  });

  describe('approve', () => {
    it('redirects 303 to the upstream authorization endpoint with PKCE S256, state and resource', async () => {
      const s = await start();
      const res = await post(s, { decision: 'approve' });
      expect(res.status).toBe(303);
      const location = new URL(res.headers.get('location')!);
      expect(`${location.origin}${location.pathname}`).toBe(UPSTREAM_A_AUTHORIZE);
      const q = location.searchParams;
      expect(q.get('response_type')).toBe('code');
      expect(q.get('client_id')).toBe('keyhole-a');
      expect(q.get('redirect_uri')).toBe(`${PUBLIC_URL}/oauth/callback`);
      expect(q.get('code_challenge_method')).toBe('S256');
      expect(q.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(q.get('code_challenge')).not.toBe(CHALLENGE); // keyhole's own PKCE, not the client's
      expect(q.get('state')).toMatch(/^[A-Za-z0-9_-]{20,}$/);
      expect(q.get('state')).not.toBe('client-state');
      expect(q.get('resource')).toBe(UPSTREAM_A_RESOURCE);
      expect(q.get('scope')).toBe('openid offline_access');

      // The DB holds only the state's hash and a sealed verifier whose S256 is the challenge sent.
      const p = (await snapshot(s.pending))!;
      expect(p.upstreamStateHash).toBe(sha256Hex(q.get('state')!));
      expect(p.upstreamVerifier).not.toBeNull();
      expect(p.upstreamVerifier!.split('.')).toHaveLength(5); // compact JWE
      const verifier = await h.cipher.open(p.upstreamVerifier!, sealContext.pendingVerifier(p.id));
      expect(s256(verifier)).toBe(q.get('code_challenge'));
      const row = JSON.stringify(sqliteRows(h.store, 'pending_authorizations'));
      expect(row).not.toContain(q.get('state')!);
      expect(row).not.toContain(verifier);
      expect(p.upstreamScopes).toEqual(['openid', 'offline_access']);
      expect(await h.events('consent.approved')).toHaveLength(1);
    });

    it('asks upstream for the upstream scopes of the granted keyhole scopes', async () => {
      const s = await start(h, client, { resource: `${PUBLIC_URL}/mcp/b`, scope: 'b:write' });
      const res = await post(s, { decision: 'approve' });
      expect(res.status).toBe(303);
      const q = new URL(res.headers.get('location')!).searchParams;
      expect(q.get('scope')).toBe('openid write');
      expect(q.get('resource')).toBeNull();
    });

    it('rejects a second POST after approval with 400 and keeps the first upstream state', async () => {
      const s = await start();
      expect((await post(s, { decision: 'approve' })).status).toBe(303);
      const after = await snapshot(s.pending);
      await expectPage(await post(s, { decision: 'approve' }), 400, 'invalid_request');
      await expectPage(await post(s, { decision: 'deny' }), 400, 'invalid_request');
      expect(await snapshot(s.pending)).toEqual(after);
      expect(await h.events('consent.approved')).toHaveLength(1);
    });
  });

  describe('refusals', () => {
    it('refuses to go upstream for a client blocked after /authorize', async () => {
      const s = await start();
      await h.store.clients.block(client.clientId, h.clock.now);
      await expectPage(await post(s, { decision: 'approve' }), 400, 'invalid_client');
      expect(await snapshot(s.pending)).toBeUndefined();
    });

    it('rejects an expired pending authorization with 400', async () => {
      const s = await start();
      const before = await snapshot(s.pending);
      h.clock.now += 601;
      await expectPage(await post(s, { decision: 'approve' }), 400, 'invalid_request');
      expect((await snapshot(s.pending))?.upstreamStateHash).toBeNull();
      expect(before).toBeDefined();
    });

    it('rejects an unknown or missing pending id with 400', async () => {
      const s = await start();
      await expectPage(await post({ ...s, pending: 'p_unknown' }, { decision: 'approve' }), 400, 'invalid_request');
      await expectPage(await post({ csrf: s.csrf, cookie: s.cookie }, { decision: 'approve' }), 400, 'invalid_request');
    });

    it('rejects a missing or unknown decision with 400 and keeps the pending authorization', async () => {
      const s = await start();
      const before = await snapshot(s.pending);
      await expectPage(await post(s, {}), 400, 'invalid_request');
      await expectPage(await post(s, { decision: 'maybe' }), 400, 'invalid_request');
      expect(await snapshot(s.pending)).toEqual(before);
    });

    it('rejects a non-form body with 400', async () => {
      const s = await start();
      const res = await h.request('/consent', { method: 'POST', headers: { 'content-type': 'application/json', cookie: s.cookie }, body: JSON.stringify({ pending: s.pending, csrf: s.csrf, decision: 'approve' }) });
      await expectPage(res, 400, 'invalid_request');
      expect((await snapshot(s.pending))?.upstreamStateHash).toBeNull();
    });

    it('rejects repeated parameters with 400', async () => {
      const s = await start();
      const body = `pending=${s.pending}&csrf=${encodeURIComponent(s.csrf)}&decision=deny&decision=approve`;
      await expectPage(await h.postForm('/consent', body, { cookie: s.cookie }), 400, 'invalid_request');
      expect(await snapshot(s.pending)).toBeDefined();
    });

    it('rejects GET /consent with a 4xx OAuth error, not a 5xx', async () => {
      const res = await h.request('/consent');
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toBe('invalid_request');
    });

    it('keeps another client\'s pending authorization out of reach of this client\'s token', async () => {
      const other = await h.seedClient({ metadata: { client_name: 'Other', redirect_uris: [CLIENT_REDIRECT] } });
      const mine = await start();
      const theirs = await start(h, other);
      await expectPage(await post({ pending: theirs.pending, csrf: mine.csrf, cookie: mine.cookie }, { decision: 'approve' }), 403, 'invalid_request');
      expect(RESOURCE_A).toBe((await snapshot(theirs.pending))?.request.resource);
    });
  });
});
