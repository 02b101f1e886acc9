import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { T0, makeClient, makeGrant, startHarness, type Harness } from './harness.js';

const XSS = '<img src=x onerror=alert(1)>';
const ESCAPED = '&lt;img src=x onerror=alert(1)&gt;';

describe('admin grants pages', () => {
  let h: Harness;
  let cookie: string;
  let csrf: string;
  const now = T0 + 1_000;

  beforeEach(async () => {
    h = await startHarness({ clock: () => now });
    ({ cookie, csrf } = await h.signIn());
  });
  afterEach(async () => h.close());

  const page = async (path: string) => {
    const res = await h.request(path, { cookie });
    return { res, html: await res.text() };
  };

  it('lists a grant with user, client (name, kind, redirect host), server, scopes, times and upstream status', async () => {
    const client = makeClient({ metadata: { client_name: 'Claude Desktop', redirect_uris: ['http://127.0.0.1:6274/oauth/callback', 'https://app.example.com/cb'] } });
    await h.store.clients.create(client);
    const g = makeGrant({ clientId: client.clientId, scopes: ['mcp:tools', 'read'], lastUsedAt: T0 + 60 });
    await h.store.grants.create(g);
    await h.store.upstreamCredentials.put({ grantId: g.id, accessToken: 'sealed-a', accessExpiresAt: T0 + 3_600, refreshToken: 'sealed-r', scopes: ['mcp:tools'], updatedAt: T0, refreshFailingSince: null });
    const { res, html } = await page('/admin/grants');
    expect(res.status).toBe(200);
    const row = html.slice(html.indexOf(`data-grant-id="${g.id}"`));
    expect(row).toContain('Alice Example');
    expect(row).toContain('<code>alice</code>');
    expect(row).toContain('Claude Desktop');
    expect(row).toContain('dynamic (dcr)');
    expect(row).toContain('redirects to 127.0.0.1:6274, app.example.com');
    expect(row).toContain('>demo</a>');
    expect(row).toContain('mcp:tools read');
    expect(row).toContain('2027-01-15 08:00:00 UTC'); // created (T0)
    expect(row).toContain('2027-01-15 08:01:00 UTC'); // last used
    expect(row).toContain('valid until <time datetime="2027-01-15T09:00:00.000Z">');
    expect(row).toContain(`aria-label="Revoke grant ${g.id}"`);
    expect(html).not.toContain('sealed-a');
    expect(html).not.toContain('sealed-r');
  });

  it('shows the upstream token as refresh failing, expired, missing or revoked', async () => {
    const failing = makeGrant({ subject: 'failing' });
    const expired = makeGrant({ subject: 'expired' });
    const missing = makeGrant({ subject: 'missing' });
    const revoked = makeGrant({ subject: 'revoked' });
    for (const g of [failing, expired, missing, revoked]) await h.store.grants.create(g);
    await h.store.upstreamCredentials.put({ grantId: failing.id, accessToken: 'a', accessExpiresAt: T0, refreshToken: 'r', scopes: [], updatedAt: T0, refreshFailingSince: T0 + 10 });
    await h.store.upstreamCredentials.put({ grantId: expired.id, accessToken: 'a', accessExpiresAt: T0, refreshToken: 'r', scopes: [], updatedAt: T0, refreshFailingSince: null });
    await h.store.grants.revoke(revoked.id, 'client_revoked', T0 + 5);
    const { html } = await page('/admin/grants');
    const cell = (id: string) => html.slice(html.indexOf(`data-grant-id="${id}"`)).split('</tr>')[0]!;
    expect(cell(failing.id)).toContain('refresh failing since');
    expect(cell(expired.id)).toContain('(refreshes on next use)');
    expect(cell(missing.id)).toContain('no upstream token');
    expect(cell(revoked.id)).toContain('revoked (client_revoked)');
    expect(cell(revoked.id)).not.toContain('aria-label="Revoke grant');
  });

  it('filters by user, client, server and status, and pages', async () => {
    const a = makeGrant({ subject: 'alice', clientId: 'c_a', server: 'demo' });
    const b = makeGrant({ subject: 'bob', clientId: 'c_b', server: 'other' });
    const c = makeGrant({ subject: 'carol', clientId: 'c_a', server: 'other' });
    for (const g of [a, b, c]) await h.store.grants.create(g);
    await h.store.grants.revoke(c.id, 'admin_revoked', T0);
    const ids = (html: string) => [...html.matchAll(/data-grant-id="([^"]+)"/g)].map((m) => m[1]);
    expect(ids((await page('/admin/grants?subject=bob')).html)).toEqual([b.id]);
    expect(ids((await page('/admin/grants?client_id=c_a')).html).sort()).toEqual([a.id, c.id].sort());
    expect(ids((await page('/admin/grants?server=other&status=active')).html)).toEqual([b.id]);
    expect(ids((await page('/admin/grants?status=revoked')).html)).toEqual([c.id]);
    expect(ids((await page('/admin/grants?subject=&client_id=&server=&status=')).html)).toHaveLength(3);

    for (let i = 0; i < 60; i++) await h.store.grants.create(makeGrant({ subject: 'many', createdAt: T0 - i }));
    const first = await page('/admin/grants?subject=many');
    expect(ids(first.html)).toHaveLength(50);
    expect(first.html).toContain('Page 1 of 2 · 60 grants');
    expect(first.html).toContain('href="/admin/grants?subject=many&amp;page=2"');
    const second = await page('/admin/grants?subject=many&page=2');
    expect(ids(second.html)).toHaveLength(10);
    expect(new Set([...ids(first.html), ...ids(second.html)]).size).toBe(60);
  });

  it('answers 400 for a malformed filter', async () => {
    const { res, html } = await page('/admin/grants?status=bogus');
    expect(res.status).toBe(400);
    expect(html).toContain('status must be active or revoked');
  });

  it('shows a grant with its lifecycle events, oldest first, and 404 for an unknown id', async () => {
    const g = makeGrant();
    await h.store.grants.create(g);
    await h.store.events.append({ at: T0 + 2, type: 'token.issued', grantId: g.id, clientId: g.clientId, server: 'demo', subject: 'alice', outcome: 'success', detail: { token_fp: 'fp_0123456789ab' } });
    await h.store.events.append({ at: T0 + 1, type: 'grant.created', grantId: g.id, clientId: g.clientId, server: 'demo', subject: 'alice', outcome: 'success', detail: {} });
    await h.store.events.append({ at: T0 + 3, type: 'token.issued', grantId: 'g_other', clientId: null, server: null, subject: null, outcome: 'success', detail: {} });
    const { res, html } = await page(`/admin/grants/${g.id}`);
    expect(res.status).toBe(200);
    const types = [...html.matchAll(/data-event-type="([^"]+)"/g)].map((m) => m[1]);
    expect(types).toEqual(['grant.created', 'token.issued']);
    expect(html).toContain('fp_0123456789ab');
    expect(html).toContain('Revoke grant');
    expect((await page('/admin/grants/g_unknown')).res.status).toBe(404);
  });

  it('revokes one grant from its page through the revoker (event with actor), then shows it revoked', async () => {
    const g = makeGrant();
    const other = makeGrant();
    await h.store.grants.create(g);
    await h.store.grants.create(other);
    const res = await h.post(`/admin/grants/${g.id}/revoke`, { csrf }, cookie);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`/admin/grants/${g.id}?revoked=1`);
    expect(await h.store.grants.find(g.id)).toMatchObject({ status: 'revoked', statusReason: 'admin_revoked' });
    expect((await h.store.grants.find(other.id))?.status).toBe('active');
    const [event] = await h.store.events.list({ grantId: g.id, type: 'grant.revoked' });
    expect(event?.detail).toEqual({ reason: 'admin_revoked', actor: 'admin:token' });
    const { html } = await page(`/admin/grants/${g.id}?revoked=1`);
    expect(html).toContain('The grant was revoked.');
    expect(html).toContain('revoked (admin_revoked)');
    // A second revoke is harmless.
    expect((await h.post(`/admin/grants/${g.id}/revoke`, { csrf }, cookie)).headers.get('location')).toBe(`/admin/grants/${g.id}?revoked=0`);
    expect((await h.post('/admin/grants/g_unknown/revoke', { csrf }, cookie)).status).toBe(404);
  });

  describe('bulk revoke', () => {
    it('confirms with the count of active grants, then ends exactly those', async () => {
      const a1 = makeGrant({ clientId: 'c_a', subject: 'alice' });
      const a2 = makeGrant({ clientId: 'c_a', subject: 'bob', server: 'other' });
      const a3 = makeGrant({ clientId: 'c_a', subject: 'carol' });
      const b1 = makeGrant({ clientId: 'c_b', subject: 'alice' });
      for (const g of [a1, a2, a3, b1]) await h.store.grants.create(g);
      await h.store.grants.revoke(a3.id, 'client_revoked', T0);

      const list = await page('/admin/grants?client_id=c_a');
      expect(list.html).toContain('href="/admin/grants/revoke?client_id=c_a"');
      expect(list.html).toContain('Revoke all 2 active grants of this client c_a');

      const confirm = await page('/admin/grants/revoke?client_id=c_a');
      expect(confirm.res.status).toBe(200);
      expect(confirm.html).toMatch(/This will end <strong>2<\/strong> active grants\./);
      expect(confirm.html).toContain('<input type="hidden" name="client_id" value="c_a"/>');
      expect((await h.store.grants.find(a1.id))?.status).toBe('active'); // the confirmation page changes nothing

      const done = await h.post('/admin/grants/revoke', { csrf, client_id: 'c_a' }, cookie);
      expect(done.status).toBe(303);
      expect(done.headers.get('location')).toBe('/admin/grants?client_id=c_a&revoked=2');
      expect((await h.store.grants.find(a1.id))?.status).toBe('revoked');
      expect((await h.store.grants.find(a2.id))?.status).toBe('revoked');
      expect((await h.store.grants.find(a3.id))?.statusReason).toBe('client_revoked'); // untouched
      expect((await h.store.grants.find(b1.id))?.status).toBe('active');
      expect((await page('/admin/grants?client_id=c_a&revoked=2')).html).toContain('Revoked 2 grants.');
    });

    it('by user and by server', async () => {
      const a = makeGrant({ subject: 'alice', server: 'demo' });
      const b = makeGrant({ subject: 'bob', server: 'demo' });
      const c = makeGrant({ subject: 'bob', server: 'other' });
      for (const g of [a, b, c]) await h.store.grants.create(g);
      expect((await page('/admin/grants/revoke?subject=bob')).html).toMatch(/<strong>2<\/strong>/);
      await h.post('/admin/grants/revoke', { csrf, server: 'other' }, cookie);
      expect(await Promise.all([a, b, c].map(async (g) => (await h.store.grants.find(g.id))?.status))).toEqual(['active', 'active', 'revoked']);
      await h.post('/admin/grants/revoke', { csrf, subject: 'bob' }, cookie);
      expect(await Promise.all([a, b, c].map(async (g) => (await h.store.grants.find(g.id))?.status))).toEqual(['active', 'revoked', 'revoked']);
    });

    it('refuses an empty filter (400): never "revoke everything" by accident', async () => {
      await h.store.grants.create(makeGrant());
      expect((await page('/admin/grants/revoke')).res.status).toBe(400);
      const res = await h.post('/admin/grants/revoke', { csrf }, cookie);
      expect(res.status).toBe(400);
      expect(await h.store.grants.count({ status: 'active' })).toBe(1);
    });
  });

  describe('escaping', () => {
    it('shows a hostile client name and subject as text on the grants, detail, clients, events and confirm pages', async () => {
      const client = makeClient({ metadata: { client_name: XSS, redirect_uris: ['https://x.example/"><script>alert(2)</script>'] } });
      await h.store.clients.create(client);
      const g = makeGrant({ clientId: client.clientId, subject: '"><svg onload=alert(3)>', subjectName: XSS });
      await h.store.grants.create(g);
      await h.store.events.append({ at: T0, type: 'client.registered', grantId: null, clientId: client.clientId, server: null, subject: null, outcome: 'success', detail: { client_name: XSS } });
      for (const path of ['/admin/grants', `/admin/grants/${g.id}`, '/admin/clients', '/admin/events', `/admin/clients/block?client_id=${client.clientId}`, `/admin/grants/revoke?subject=${encodeURIComponent(g.subject)}`]) {
        const { res, html } = await page(path);
        expect(res.status, path).toBe(200);
        expect(html, path).not.toContain('<img src=x');
        expect(html, path).not.toContain('<svg');
        expect(html, path).not.toContain('<script');
        if (path !== '/admin/events' && !path.startsWith('/admin/grants/revoke')) expect(html, path).toContain(ESCAPED);
        expect(res.headers.get('content-security-policy'), path).toContain("frame-ancestors 'none'");
      }
      expect((await page('/admin/events')).html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    });
  });
});

describe('admin page header', () => {
  it('says who is signed in on every signed-in page ("the admin token" here), and nothing on the sign-in page', async () => {
    const h = await startHarness({ clock: () => T0 });
    try {
      const { cookie } = await h.signIn();
      for (const path of ['/admin/grants', '/admin/people', '/admin/clients', '/admin/events', '/admin/activity', '/admin/grants/g_doesnotexist']) {
        const html = await (await h.request(path, { cookie })).text();
        expect(html, path).toContain('<span class="muted" data-testid="signed-in-as">Signed in as <strong>the admin token</strong></span>');
      }
      const login = await (await h.request('/admin/login')).text();
      expect(login).not.toContain('signed-in-as');
      expect(login).not.toContain('Sign out');
    } finally {
      await h.close();
    }
  });
});
