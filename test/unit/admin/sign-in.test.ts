import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, cookieFrom, csrfFrom, makeGrant, startHarness, type Harness } from './harness.js';

describe('admin sign-in', () => {
  let h: Harness;
  afterEach(async () => h?.close());

  it('answers 404 on /admin, its pages and the API when no admin token is configured', async () => {
    h = await startHarness({ admin: false });
    for (const path of ['/admin', '/admin/login', '/admin/grants', '/admin/api/grants']) {
      expect((await h.request(path)).status, path).toBe(404);
    }
    expect((await h.post('/admin/login', { token: ADMIN_TOKEN })).status).toBe(404);
    expect((await h.api('/admin/api/grants')).status).toBe(404);
  });

  it('sends pages without a session to the sign-in form', async () => {
    h = await startHarness();
    for (const path of ['/admin', '/admin/grants', '/admin/clients', '/admin/events', '/admin/events/export', '/admin/grants/g_x']) {
      const res = await h.request(path);
      expect(res.status, path).toBe(303);
      expect(res.headers.get('location')).toBe('/admin/login');
    }
  });

  it('shows a labelled token field with a strict CSP that forbids scripts and framing', async () => {
    h = await startHarness();
    const res = await h.request('/admin/login');
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('<label for="admin-token">Admin token</label>');
    expect(html).toContain('id="admin-token" name="token" type="password"');
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('script-src');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(html).not.toContain('<script');
  });

  it('refuses a wrong token with 401 and sets no cookie', async () => {
    h = await startHarness();
    const res = await h.post('/admin/login', { token: `${ADMIN_TOKEN}x` });
    expect(res.status).toBe(401);
    expect(await res.text()).toContain('That admin token is not right.');
    expect(res.headers.getSetCookie()).toEqual([]);
    expect((await h.post('/admin/login', {})).status).toBe(401);
    expect(h.logs.some((l) => l.includes('"admin.sign_in_failed"'))).toBe(true);
    expect(h.logs.join('\n')).not.toContain(ADMIN_TOKEN);
  });

  it('signs in with the right token: HttpOnly SameSite=Strict cookie, then the grants page', async () => {
    h = await startHarness();
    const res = await h.post('/admin/login', { token: ADMIN_TOKEN });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/admin/grants');
    const set = res.headers.getSetCookie()[0]!;
    expect(set).toMatch(/^keyhole-admin=[A-Za-z0-9_-]{43}; /);
    expect(set).toContain('HttpOnly');
    expect(set).toContain('SameSite=Strict');
    expect(set).toContain('Path=/admin');
    expect(set).not.toContain(ADMIN_TOKEN);
    const page = await h.request('/admin/grants', { cookie: cookieFrom(res) });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<h1>Grants</h1>');
    // Signed in: the sign-in page sends back to the grants.
    expect((await h.request('/admin/login', { cookie: cookieFrom(res) })).headers.get('location')).toBe('/admin/grants');
  });

  it('sets a Secure __Host- cookie when publicUrl is https', async () => {
    h = await startHarness({ publicUrl: 'https://keyhole.example.com' });
    const res = await h.post('/admin/login', { token: ADMIN_TOKEN });
    const set = res.headers.getSetCookie()[0]!;
    expect(set).toMatch(/^__Host-keyhole-admin=/);
    expect(set).toContain('Secure');
    expect(set).toContain('Path=/;');
  });

  it('rate-limits failed attempts per address: the 6th gets 429, even with the right token', async () => {
    h = await startHarness();
    for (let i = 0; i < 5; i++) expect((await h.post('/admin/login', { token: `wrong-${i}` })).status).toBe(401);
    const blocked = await h.post('/admin/login', { token: ADMIN_TOKEN });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await blocked.text()).toContain('Too many failed sign-in attempts');
    expect(blocked.headers.getSetCookie()).toEqual([]);
  });

  it('refuses a sign-in form posted from another origin', async () => {
    h = await startHarness();
    const res = await h.post('/admin/login', { token: ADMIN_TOKEN }, undefined, { origin: 'https://evil.example' });
    expect(res.status).toBe(403);
    expect(res.headers.getSetCookie()).toEqual([]);
  });

  it('signs out with the CSRF token: the session ends and the cookie is cleared', async () => {
    h = await startHarness();
    const { cookie, csrf } = await h.signIn();
    expect((await h.post('/admin/logout', {}, cookie)).status).toBe(403);
    const out = await h.post('/admin/logout', { csrf }, cookie);
    expect(out.status).toBe(303);
    expect(out.headers.get('location')).toBe('/admin/login');
    expect(out.headers.getSetCookie()[0]).toMatch(/^keyhole-admin=; Max-Age=0/);
    expect((await h.request('/admin/grants', { cookie })).status).toBe(303);
  });

  describe('CSRF on state-changing POSTs', () => {
    it('refuses a revoke without a CSRF token, with a wrong one and with another session\'s (403), and keeps the grant', async () => {
      h = await startHarness();
      const g = makeGrant();
      await h.store.grants.create(g);
      const a = await h.signIn();
      const b = await h.signIn();
      for (const form of [{}, { csrf: 'wrong' }, { csrf: b.csrf }] as Array<Record<string, string>>) {
        const res = await h.post(`/admin/grants/${g.id}/revoke`, form, a.cookie);
        expect(res.status, JSON.stringify(form)).toBe(403);
        expect(await res.text()).toContain('missing or invalid CSRF token');
      }
      expect((await h.post('/admin/grants/revoke', { client_id: g.clientId }, a.cookie)).status).toBe(403);
      expect((await h.store.grants.find(g.id))?.status).toBe('active');
      const ok = await h.post(`/admin/grants/${g.id}/revoke`, { csrf: a.csrf }, a.cookie);
      expect(ok.status, h.logs.filter((l) => l.includes('unhandled')).join()).toBe(303);
      expect((await h.store.grants.find(g.id))?.status).toBe('revoked');
    });

    it('refuses a form with the right token from another origin (403)', async () => {
      h = await startHarness();
      const g = makeGrant();
      await h.store.grants.create(g);
      const { cookie, csrf } = await h.signIn();
      const res = await h.post(`/admin/grants/${g.id}/revoke`, { csrf }, cookie, { origin: 'https://evil.example' });
      expect(res.status).toBe(403);
      const site = await h.post(`/admin/grants/${g.id}/revoke`, { csrf }, cookie, { 'sec-fetch-site': 'cross-site' });
      expect(site.status).toBe(403);
      expect((await h.store.grants.find(g.id))?.status).toBe('active');
    });

    it('refuses a POST without a session by sending to sign-in, changing nothing', async () => {
      h = await startHarness();
      const g = makeGrant();
      await h.store.grants.create(g);
      const { csrf } = await h.signIn();
      const res = await h.post(`/admin/grants/${g.id}/revoke`, { csrf });
      expect(res.status).toBe(303);
      expect((await h.store.grants.find(g.id))?.status).toBe('active');
    });

    it('puts the CSRF token in every POST form of every page', async () => {
      h = await startHarness();
      const g = makeGrant();
      await h.store.grants.create(g);
      const { cookie, csrf } = await h.signIn();
      for (const path of ['/admin/grants', `/admin/grants/${g.id}`, '/admin/clients', '/admin/events', `/admin/grants/revoke?subject=alice`]) {
        const html = await (await h.request(path, { cookie })).text();
        const forms = html.match(/<form method="post"[\s\S]*?<\/form>/g) ?? [];
        expect(forms.length, path).toBeGreaterThan(0);
        for (const f of forms) expect(csrfFrom(f), path).toBe(csrf);
      }
    });
  });
});
