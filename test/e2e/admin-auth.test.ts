/**
 * Admin authentication over real sockets (keyhole listening on 127.0.0.1, a real grant from the SDK client):
 * the API without a token (401 + Bearer realm challenge), a wrong token (401 invalid_token), a form POST without
 * a CSRF token (403, nothing revoked), and failed attempts rate-limited per address across the page and the API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../helpers/stack.js';
import { connectThroughKeyhole, type ConnectedClient } from '../helpers/sdk-client.js';
import { CookieBrowser } from '../helpers/cookie-browser.js';

const ADMIN_TOKEN = 'admin-token-for-tests-0123456789';

describe('admin authentication (real sockets)', () => {
  let stack: Stack;
  let conn: ConnectedClient;
  let grantId: string;

  beforeAll(async () => {
    stack = await startStack();
    conn = await connectThroughKeyhole(stack.mcpUrl, { login: 'alice' });
    grantId = (await stack.keyhole.store.grants.list({ subject: 'alice' }))[0]!.id;
  });
  afterAll(async () => {
    await conn?.client.close().catch(() => undefined);
    await stack?.close();
  });

  const api = (path: string, init: RequestInit = {}) => fetch(`${stack.publicUrl}${path}`, init);

  it('the API without a token: 401 with WWW-Authenticate: Bearer realm="keyhole-admin"', async () => {
    for (const [method, path] of [['GET', '/admin/api/grants'], ['DELETE', `/admin/api/grants/${grantId}`], ['POST', '/admin/api/grants/revoke'], ['GET', '/admin/api/events']] as const) {
      const res = await api(path, { method });
      expect(res.status, path).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="keyhole-admin"');
      await res.body?.cancel();
    }
    expect((await stack.keyhole.store.grants.find(grantId))?.status).toBe('active');
  });

  it('the API with the right token lists the grant', async () => {
    const res = await api('/admin/api/grants', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { grants: Array<{ id: string; subject: string; upstream_token: { status: string } }> };
    expect(body.grants.find((g) => g.id === grantId)).toMatchObject({ subject: 'alice', upstream_token: { status: 'valid' } });
  });

  it('a form POST without the CSRF token gets 403 and revokes nothing', async () => {
    const admin = new CookieBrowser();
    expect((await admin.post(`${stack.publicUrl}/admin/login`, { token: ADMIN_TOKEN })).status).toBe(303);
    const res = await admin.post(`${stack.publicUrl}/admin/grants/${grantId}/revoke`, {});
    expect(res.status).toBe(403);
    const bulk = await admin.post(`${stack.publicUrl}/admin/grants/revoke`, { subject: 'alice', csrf: 'not-the-token' });
    expect(bulk.status).toBe(403);
    expect((await stack.keyhole.store.grants.find(grantId))?.status).toBe('active');
    const who = (await conn.client.callTool({ name: 'whoami', arguments: {} })) as { content: Array<{ text: string }> };
    expect(JSON.parse(who.content[0]!.text).sub).toBe('alice');
  });

  it('refuses wrong tokens and rate-limits the address across page and API (429, even for the right token)', async () => {
    for (let i = 0; i < 3; i++) {
      const page = await new CookieBrowser().post(`${stack.publicUrl}/admin/login`, { token: `wrong-${i}-${ADMIN_TOKEN}` });
      expect(page.status).toBe(401);
      expect(page.headers.getSetCookie()).toEqual([]);
    }
    for (let i = 0; i < 2; i++) {
      const res = await api('/admin/api/grants', { headers: { authorization: `Bearer wrong-${i}` } });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="keyhole-admin", error="invalid_token"/);
      await res.body?.cancel();
    }
    const page = await new CookieBrowser().post(`${stack.publicUrl}/admin/login`, { token: ADMIN_TOKEN });
    expect(page.status).toBe(429);
    expect(Number(page.headers.get('retry-after'))).toBeGreaterThan(0);
    const res = await api('/admin/api/grants', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(res.status).toBe(429);
    const failures = await stack.keyhole.store.events.list({ type: 'admin.sign_in_failed' });
    expect(failures).toHaveLength(5);
    expect(failures.every((e) => e.detail.address === '127.0.0.1')).toBe(true);
    expect(stack.logs.join('\n')).not.toContain(ADMIN_TOKEN);
  });
});
