/**
 * The admin People API and the grants search without `identity` (test/e2e/offboarding.test.ts covers them with an
 * org IdP): no person exists, so the list is empty, offboard/reinstate answer 404 JSON, SCIM is not mounted, the
 * People page renders, and `q` on the grants list searches the upstream subject, server and client name.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeClient, makeGrant, startHarness, type Harness } from './harness.js';

describe('admin People API without identity', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => h.close());

  it('lists nobody; offboard, reinstate and get of an unknown person are 404 JSON; SCIM is not mounted', async () => {
    const list = await h.api('/admin/api/people');
    expect(list.status).toBe(200);
    expect(await list.json()).toEqual({ people: [], total: 0, limit: 50, offset: 0 });
    for (const [method, path] of [['POST', '/admin/api/people/u_x/offboard'], ['POST', '/admin/api/people/u_x/reinstate'], ['GET', '/admin/api/people/u_x']] as const) {
      const res = await h.api(path, { method });
      expect(res.status, path).toBe(404);
      expect(await res.json()).toEqual({ error: 'not_found', error_description: 'no such person' });
    }
    for (const path of ['/admin/api/people', '/admin/api/people/u_x/offboard']) {
      expect((await h.api(path, { method: path.endsWith('offboard') ? 'POST' : 'GET', token: null })).status).toBe(401);
    }
    const scim = await h.request('/scim/v2/Users', { headers: { authorization: 'Bearer whatever-whatever-whatever' } });
    expect(scim.status).toBe(404);
    expect(await scim.json()).toEqual({ error: 'not_found', error_description: 'no such endpoint' });
    expect((await h.api('/admin/api/people?status=nope')).status).toBe(400);
  });

  it('the People page renders (empty), and its offboard form refuses a missing CSRF token', async () => {
    const { cookie } = await h.signIn();
    const page = await h.request('/admin/people?q=alice', { cookie });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('Nobody matches.');
    expect(html).toContain('value="alice"');
    const forged = await h.post('/admin/people/u_x/offboard', {}, cookie, { origin: h.publicUrl });
    expect(forged.status).toBe(403);
    expect((await h.request('/admin/people/u_x', { cookie })).status).toBe(404);
  });

  it('grants: q searches subject, server and client name (the search box on the grants page)', async () => {
    await h.store.clients.create(makeClient({ clientId: 'c_cursor', metadata: { client_name: 'Cursor IDE' } }));
    await h.store.grants.create(makeGrant({ id: 'g_one', clientId: 'c_cursor', server: 'demo', subject: 'alice-gh' }));
    await h.store.grants.create(makeGrant({ id: 'g_two', clientId: 'c_other', server: 'other', subject: 'bob', subjectName: 'Bob' }));
    const ids = async (q: string) => ((await (await h.api(`/admin/api/grants?q=${encodeURIComponent(q)}`)).json()) as { grants: Array<{ id: string }> }).grants.map((g) => g.id);
    expect(await ids('cursor')).toEqual(['g_one']);
    expect(await ids('ALICE')).toEqual(['g_one']);
    expect(await ids('other')).toEqual(['g_two']);
    expect(await ids('c_other')).toEqual(['g_two']);
    expect(await ids('_')).toEqual([]); // a literal underscore: no subject, server or client name has one (ids match exactly)
  });
});
