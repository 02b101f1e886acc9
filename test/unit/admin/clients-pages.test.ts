import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { T0, makeClient, makeGrant, startHarness, type Harness } from './harness.js';

describe('admin clients pages', () => {
  let h: Harness;
  let cookie: string;
  let csrf: string;

  beforeEach(async () => {
    h = await startHarness();
    ({ cookie, csrf } = await h.signIn());
  });
  afterEach(async () => h.close());

  const page = async (path: string) => {
    const res = await h.request(path, { cookie });
    return { res, html: await res.text() };
  };
  const authorizeUrl = (clientId: string) =>
    `/authorize?${new URLSearchParams({
      client_id: clientId,
      redirect_uri: 'http://127.0.0.1:33418/callback',
      response_type: 'code',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
      resource: `${h.publicUrl}/mcp/demo`,
      state: 'st',
    })}`;

  it('lists every client with kind, grant counts (active / total) and last use', async () => {
    const used = makeClient({ metadata: { client_name: 'Used client', redirect_uris: ['https://used.example/cb'] } });
    const unused = makeClient({ kind: 'cimd', clientId: 'https://app.example.com/oauth/client.json', metadata: { client_name: 'CIMD app', redirect_uris: ['https://app.example.com/cb'] } });
    await h.store.clients.create(used);
    await h.store.clients.create(unused);
    await h.store.grants.create(makeGrant({ clientId: used.clientId, lastUsedAt: T0 + 120 }));
    const revoked = makeGrant({ clientId: used.clientId, subject: 'bob', lastUsedAt: T0 + 60 });
    await h.store.grants.create(revoked);
    await h.store.grants.revoke(revoked.id, 'admin_revoked', T0);
    const { res, html } = await page('/admin/clients');
    expect(res.status).toBe(200);
    const row = (id: string) => html.slice(html.indexOf(`data-client-id="${id}"`)).split('</tr>')[0]!;
    expect(row(used.clientId)).toContain('Used client');
    expect(row(used.clientId)).toContain('1 active / 2 total');
    expect(row(used.clientId)).toContain('2027-01-15 08:02:00 UTC');
    expect(row(used.clientId)).toContain('redirects to used.example');
    expect(row(unused.clientId)).toContain('metadata document (cimd)');
    expect(row(unused.clientId)).toContain('0 active / 0 total');
    expect(row(unused.clientId)).toContain(`href="/admin/clients/block?client_id=${encodeURIComponent(unused.clientId)}"`);
    expect(html).toContain('2 registered clients');
  });

  it('blocks a client after a confirmation: its grants end, /authorize and /token refuse it', async () => {
    const client = makeClient();
    const bystander = makeClient();
    await h.store.clients.create(client);
    await h.store.clients.create(bystander);
    const g1 = makeGrant({ clientId: client.clientId });
    const g2 = makeGrant({ clientId: client.clientId, subject: 'bob' });
    const g3 = makeGrant({ clientId: bystander.clientId });
    for (const g of [g1, g2, g3]) await h.store.grants.create(g);

    expect((await h.request(authorizeUrl(client.clientId))).status).toBe(200); // consent page before blocking

    const confirm = await page(`/admin/clients/block?client_id=${client.clientId}`);
    expect(confirm.res.status).toBe(200);
    expect(confirm.html).toMatch(/This will end <strong>2<\/strong> active grants\./);
    expect((await h.store.clients.find(client.clientId))?.blockedAt).toBeNull();

    const res = await h.post('/admin/clients/block', { csrf, client_id: client.clientId }, cookie);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/admin/clients?done=blocked&revoked=2');
    expect((await h.store.clients.find(client.clientId))?.blockedAt).not.toBeNull();
    expect(await Promise.all([g1, g2, g3].map(async (g) => (await h.store.grants.find(g.id))?.status))).toEqual(['revoked', 'revoked', 'active']);
    expect((await h.store.grants.find(g1.id))?.statusReason).toBe('client_blocked');
    expect((await h.store.events.list({ type: 'client.blocked' }))[0]).toMatchObject({ clientId: client.clientId, detail: { actor: 'admin:token', revoked_grants: 2 } });

    const authorize = await h.request(authorizeUrl(client.clientId));
    expect(authorize.status).toBe(400);
    expect(authorize.headers.get('location')).toBeNull();
    expect(await authorize.text()).toContain('blocked by an administrator');
    const token = await h.request('/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'kh_rt_whatever', client_id: client.clientId }).toString(),
    });
    expect(token.status).toBe(401);
    expect(await token.json()).toMatchObject({ error: 'invalid_client' });

    const list = await page('/admin/clients?done=blocked&revoked=2');
    expect(list.html).toContain('Client blocked; 2 grants revoked.');
    expect(list.html.slice(list.html.indexOf(`data-client-id="${client.clientId}"`)).split('</tr>')[0]).toContain('blocked');
  });

  it('deletes a client after a confirmation: grants revoked and kept as history, registration gone', async () => {
    const client = makeClient();
    await h.store.clients.create(client);
    const g = makeGrant({ clientId: client.clientId });
    await h.store.grants.create(g);
    expect((await page(`/admin/clients/delete?client_id=${client.clientId}`)).html).toContain('Delete client and revoke its grants');
    const res = await h.post('/admin/clients/delete', { csrf, client_id: client.clientId }, cookie);
    expect(res.headers.get('location')).toBe('/admin/clients?done=deleted&revoked=1');
    expect(await h.store.clients.find(client.clientId)).toBeUndefined();
    expect(await h.store.grants.find(g.id)).toMatchObject({ status: 'revoked', statusReason: 'client_deleted' });
    expect(await h.store.events.list({ type: 'client.deleted' })).toHaveLength(1);
    // The grant's page still works and says the client is gone.
    expect((await page(`/admin/grants/${g.id}`)).html).toContain('deleted');
    // The deleted client is unknown at /authorize.
    expect((await h.request(authorizeUrl(client.clientId))).status).toBe(400);
  });

  it('answers 404 for an unknown client and 403 without the CSRF token', async () => {
    expect((await page('/admin/clients/block?client_id=c_nope')).res.status).toBe(404);
    expect((await page('/admin/clients/delete')).res.status).toBe(404);
    expect((await h.post('/admin/clients/block', { csrf, client_id: 'c_nope' }, cookie)).status).toBe(404);
    const client = makeClient();
    await h.store.clients.create(client);
    expect((await h.post('/admin/clients/delete', { client_id: client.clientId }, cookie)).status).toBe(403);
    expect(await h.store.clients.find(client.clientId)).toBeDefined();
  });
});
