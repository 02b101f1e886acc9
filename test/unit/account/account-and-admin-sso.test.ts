/**
 * /account (issue 13 §6) and admin SSO (§4) through app.request(), with people and person sessions seeded in an
 * in-memory store (the org IdP is never contacted: the sign-in itself is covered by test/e2e/org-sign-in.test.ts and
 * test/e2e/account-admin-sso.test.ts). Without `identity`: /account says the admin manages access, and the consent
 * page's revoke hint links there.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { parseConfig } from '../../../src/config/load-config.js';
import { createKeyhole, type Keyhole } from '../../../src/keyhole.js';
import { keyringFromMasterKey } from '../../../src/store/crypto/vault-cipher.js';
import { openSqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import { randomId, randomToken, sha256Hex } from '../../../src/store/crypto/hash.js';
import type { GrantRecord, PersonRecord, Store } from '../../../src/store/types.js';
import { makeClient, makeGrant } from '../store/store-contract.js';
import { ConsentPage } from '../../../views/consent.js';

const PUBLIC = 'http://127.0.0.1:8787';
const ISS = 'http://127.0.0.1:9/org';
const ADMIN_TOKEN = 'admin-token-for-unit-tests-0123456789';
const T0 = 1_800_000_000;
const oauth = { issuer: 'http://127.0.0.1:9', clientId: 'keyhole', clientSecret: 's3cret-upstream', scopes: ['mcp:tools'] };

let keyhole: Keyhole | undefined;
afterEach(async () => {
  await keyhole?.close();
  keyhole = undefined;
});

async function start(extra: Record<string, unknown>): Promise<{ store: Store; request: (path: string, init?: RequestInit & { cookie?: string }) => Promise<Response> }> {
  const config = parseConfig({
    publicUrl: PUBLIC,
    listen: { host: '127.0.0.1', port: 0 },
    storage: { sqlite: ':memory:', vault: 'sqlite' },
    servers: { demo: { displayName: 'Demo Server', upstream: 'http://127.0.0.1:9/mcp', oauth } },
    ...extra,
  });
  const store = openSqliteStore(':memory:');
  keyhole = await createKeyhole({ config, store, keyring: keyringFromMasterKey(randomBytes(32).toString('base64url')), log: () => undefined, clock: () => T0 + 100 });
  const k = keyhole;
  return {
    store,
    request: async (path, init = {}) => {
      const { cookie, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (cookie) headers.set('cookie', cookie);
      return await Promise.resolve(k.app.request(`${PUBLIC}${path}`, { ...rest, headers }));
    },
  };
}

async function person(store: Store, over: Partial<PersonRecord> = {}): Promise<{ person: PersonRecord; cookie: string }> {
  const p: PersonRecord = {
    id: randomId('u'), iss: ISS, sub: randomId('s'), email: 'eng@acme.example', name: 'Eng One', groups: ['engineering'],
    status: 'active', offboardedAt: null, offboardedBy: null, offboardedVia: null, externalId: null, userName: null, scimActive: null,
    createdAt: T0, lastSeenAt: T0, ...over,
  };
  await store.people.create(p);
  const value = randomToken('kh_ps_');
  await store.personSessions.create({ hash: sha256Hex(value), personId: p.id, createdAt: T0, expiresAt: T0 + 3600, revokedAt: null });
  return { person: p, cookie: `keyhole-person=${value}` };
}

async function grantOf(store: Store, p: PersonRecord, over: Partial<GrantRecord> = {}): Promise<GrantRecord> {
  const client = makeClient({ metadata: { client_name: `Client of ${p.name}`, redirect_uris: ['http://127.0.0.1:33418/callback'] } });
  await store.clients.create(client);
  const g = makeGrant({ clientId: client.clientId, subject: `${p.name}-up`, subjectName: null, scopes: ['mcp:tools'], person: { id: p.id, email: p.email, name: p.name, groups: p.groups }, ...over });
  await store.grants.create(g);
  return g;
}

const csrfOf = (html: string) => /name="csrf" value="([^"]+)"/.exec(html)![1]!;
const form = (fields: Record<string, string>, cookie: string, headers: Record<string, string> = { origin: PUBLIC }) => ({
  method: 'POST', cookie, body: new URLSearchParams(fields).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
});

describe('/account without identity', () => {
  it('says access is managed by the admin; nothing else is mounted', async () => {
    const { request } = await start({ admin: { token: ADMIN_TOKEN } });
    const res = await request('/account');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(await res.text()).toContain('Your access is managed by your keyhole administrator');
    expect((await request('/account/revoke', form({ grant: 'g_x', csrf: 'x' }, ''))).status).toBe(404);
  });

  it('the consent page without identity points to /account; with it, the revoke link goes there too', () => {
    const base = { nonce: 'n', clientName: 'App', clientId: 'c_1', clientKind: 'dcr', redirectHost: 'h', serverName: 'Demo', upstreamHost: 'up.example', pendingId: 'p', csrf: 'x', scopes: [], alreadyGranted: [] } as unknown as Parameters<typeof ConsentPage>[0];
    const without = ConsentPage(base).toString();
    expect(without).toMatch(/<a href="\/account">To revoke this access later, ask your keyhole administrator<\/a>/);
    const withIdentity = ConsentPage({ ...base, accountUrl: '/account' }).toString();
    expect(withIdentity).toMatch(/<a href="\/account">You can revoke this access at any time<\/a>/);
  });
});

describe('/account with identity', () => {
  const identity = { identity: { issuer: ISS, clientId: 'keyhole', clientSecret: 'org-secret' } };

  it('signed out: to the organization sign-in and back to /account', async () => {
    const { request } = await start(identity);
    const res = await request('/account');
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/identity/login?return=%2Faccount');
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('lists only the person\'s active grants; another person\'s grant answers exactly like an unknown one', async () => {
    const { store, request } = await start(identity);
    const alice = await person(store, { name: 'Alice', email: 'alice@acme.example' });
    const bob = await person(store, { name: 'Bob', email: 'bob@acme.example' });
    const mine = await grantOf(store, alice.person, { lastUsedAt: T0 + 50 });
    const ended = await grantOf(store, alice.person);
    await store.grants.revoke(ended.id, 'client_revoked', T0 + 1);
    const bobs = await grantOf(store, bob.person);
    const page = await (await request('/account', { cookie: alice.cookie })).text();
    expect(page).toContain(`data-grant-id="${mine.id}"`);
    expect(page).not.toContain(ended.id);
    expect(page).not.toContain(bobs.id);
    expect(page).not.toContain('Client of Bob');
    expect(page).toContain('Demo Server');
    expect(page).toContain('Alice-up');

    const foreign = await request(`/account/grants/${bobs.id}`, { cookie: alice.cookie });
    const unknown = await request(`/account/grants/g_${'A'.repeat(22)}`, { cookie: alice.cookie });
    const malformed = await request(`/account/grants/${encodeURIComponent('<script>')}`, { cookie: alice.cookie });
    expect([foreign.status, unknown.status, malformed.status]).toEqual([404, 404, 404]);
    const strip = (s: string) => s.replace(/nonce(-|=")[^"' ]+/g, '');
    expect(strip(await foreign.text())).toBe(strip(await unknown.text()));
  });

  it('shows a hostile client name as text, on the list and the confirmation page', async () => {
    const { store, request } = await start(identity);
    const alice = await person(store);
    const client = makeClient({ metadata: { client_name: '<img src=x onerror=alert(1)>"\'&', redirect_uris: ['http://127.0.0.1:33418/callback'] } });
    await store.clients.create(client);
    const g = makeGrant({ clientId: client.clientId, person: { id: alice.person.id, email: null, name: null, groups: [] } });
    await store.grants.create(g);
    for (const path of ['/account', `/account/grants/${g.id}`]) {
      const html = await (await request(path, { cookie: alice.cookie })).text();
      expect(html).not.toContain('<img');
      expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    }
  });

  it('revokes the person\'s own grant with actor person:<id>; a double submit says it had ended; another\'s id changes nothing', async () => {
    const { store, request } = await start(identity);
    const alice = await person(store, { name: 'Alice' });
    const bob = await person(store, { name: 'Bob' });
    const mine = await grantOf(store, alice.person);
    const bobs = await grantOf(store, bob.person);
    const csrf = csrfOf(await (await request(`/account/grants/${mine.id}`, { cookie: alice.cookie })).text());

    const refused = await request('/account/revoke', form({ grant: bobs.id, csrf }, alice.cookie));
    expect(refused.status).toBe(404);
    expect((await store.grants.find(bobs.id))!.status).toBe('active');
    expect(await store.events.list({ type: 'account.revoke_refused' })).toMatchObject([{ personId: alice.person.id, outcome: 'failure', detail: { grant_id: bobs.id } }]);
    expect((await request('/account/revoke', form({ grant: mine.id, csrf }, alice.cookie))).status).toBe(303);
    expect((await store.grants.find(mine.id))).toMatchObject({ status: 'revoked', statusReason: 'person_revoked' });
    expect(await store.events.list({ type: 'grant.revoked', grantId: mine.id })).toMatchObject([{ personId: alice.person.id, detail: { reason: 'person_revoked', actor: `person:${alice.person.id}` } }]);
    const again = await request('/account/revoke', form({ grant: mine.id, csrf }, alice.cookie));
    expect(again.status).toBe(303);
    expect(again.headers.get('location')).toBe('/account?revoked=0');
  });

  it('refuses a POST from another origin, without Origin proof, with a wrong CSRF token, or two grant fields', async () => {
    const { store, request } = await start(identity);
    const alice = await person(store);
    const a = await grantOf(store, alice.person);
    const b = await grantOf(store, alice.person);
    const csrf = csrfOf(await (await request('/account', { cookie: alice.cookie })).text());
    const body = new URLSearchParams([['grant', a.id], ['grant', b.id], ['csrf', csrf]]).toString();
    const twoFields = await request('/account/revoke', { method: 'POST', cookie: alice.cookie, body, headers: { 'content-type': 'application/x-www-form-urlencoded', origin: PUBLIC } });
    expect(twoFields.status).toBe(404);
    expect((await request('/account/revoke', form({ grant: a.id, csrf }, alice.cookie, { origin: 'http://evil.example' }))).status).toBe(403);
    expect((await request('/account/revoke', form({ grant: a.id, csrf }, alice.cookie, { origin: 'null' }))).status).toBe(403);
    expect((await request('/account/revoke', form({ grant: a.id, csrf }, alice.cookie, { 'sec-fetch-site': 'same-site' }))).status).toBe(403);
    expect((await request('/account/revoke', form({ grant: a.id, csrf: csrf.slice(1) }, alice.cookie))).status).toBe(403);
    expect((await request('/account/revoke', form({ grant: a.id, csrf }, 'keyhole-person=kh_ps_' + 'A'.repeat(43)))).status).toBe(403);
    for (const g of [a, b]) expect((await store.grants.find(g.id))!.status).toBe('active');
  });

  it('an offboarded person\'s session no longer counts; sign-out ends the session', async () => {
    const { store, request } = await start(identity);
    const gone = await person(store);
    await store.people.setStatus(gone.person.id, { status: 'offboarded', at: T0 + 1, by: 'admin:token', via: 'admin' });
    expect((await request('/account', { cookie: gone.cookie })).status).toBe(302);

    const alice = await person(store);
    const csrf = csrfOf(await (await request('/account', { cookie: alice.cookie })).text());
    const out = await request('/account/logout', form({ csrf }, alice.cookie));
    expect(out.status).toBe(200);
    expect(out.headers.getSetCookie().join(';')).toMatch(/keyhole-person=;/);
    expect((await request('/account', { cookie: alice.cookie })).status).toBe(302);
  });
});

describe('admin SSO (identity.admins)', () => {
  const withAdmins = (token: boolean) => ({
    identity: { issuer: ISS, clientId: 'keyhole', clientSecret: 'org-secret', admins: { groups: ['keyhole-admins'], emails: ['Boss@Acme.example'] } },
    ...(token ? { admin: { token: ADMIN_TOKEN } } : {}),
  });

  it('without admin.token: the pages are mounted, the JSON API answers 404', async () => {
    const { request } = await start(withAdmins(false));
    const api = await request('/admin/api/grants', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(api.status).toBe(404);
    expect(await api.json()).toMatchObject({ error: 'not_found' });
    const login = await request('/admin/login');
    expect(login.status).toBe(303);
    expect(login.headers.get('location')).toBe('/identity/login?return=%2Fadmin%2Flogin');
    const deep = await request('/admin/clients?kind=dcr');
    expect(deep.headers.get('location')).toBe('/identity/login?return=%2Fadmin%2Fclients%3Fkind%3Ddcr');
  });

  it('a non-admin gets 403 and an event; an admin by group or by email gets in, acts as person:<id>, with the CSRF token', async () => {
    const { store, request } = await start(withAdmins(true));
    const eng = await person(store, { email: 'eng@acme.example', groups: ['engineering'] });
    const res = await request('/admin/grants', { cookie: eng.cookie });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('Not an admin');
    expect(await store.events.list({ type: 'admin.sign_in_refused' })).toMatchObject([{ personId: eng.person.id, detail: { via: 'sso', reason: 'not_admin' } }]);

    const boss = await person(store, { email: 'boss@acme.example', groups: [] }); // by email, case-insensitive
    expect((await request('/admin/login', { cookie: boss.cookie })).headers.get('location')).toBe('/admin/grants');
    const admin = await person(store, { email: 'root@acme.example', groups: ['keyhole-admins'] });
    const page = await request('/admin/grants', { cookie: admin.cookie });
    expect(page.status).toBe(200);
    const csrf = csrfOf(await page.text());
    await request('/admin/clients', { cookie: admin.cookie });
    expect(await store.events.list({ type: 'admin.signed_in', personId: admin.person.id })).toMatchObject([{ detail: { via: 'sso', actor: `person:${admin.person.id}` } }]);

    const g = await grantOf(store, eng.person);
    expect((await request(`/admin/grants/${g.id}/revoke`, form({ csrf: 'wrong' }, admin.cookie))).status).toBe(403);
    expect((await request(`/admin/grants/${g.id}/revoke`, form({ csrf }, admin.cookie, { origin: 'http://evil.example' }))).status).toBe(403);
    // The admin CSRF token is not the /account one, nor another admin's.
    const accountCsrf = csrfOf(await (await request('/account', { cookie: admin.cookie })).text());
    expect(accountCsrf).not.toBe(csrf);
    expect((await request(`/admin/grants/${g.id}/revoke`, form({ csrf: accountCsrf }, admin.cookie))).status).toBe(403);
    expect((await request(`/admin/grants/${g.id}/revoke`, form({ csrf }, boss.cookie))).status).toBe(403);
    expect((await store.grants.find(g.id))!.status).toBe('active');
    expect((await request(`/admin/grants/${g.id}/revoke`, form({ csrf }, admin.cookie))).status).toBe(303);
    expect(await store.events.list({ type: 'grant.revoked', grantId: g.id })).toMatchObject([{ detail: { reason: 'admin_revoked', actor: `person:${admin.person.id}` } }]);

    // The token form is off; the token still works on the JSON API, as admin:token.
    expect((await request('/admin/login', form({ token: ADMIN_TOKEN }, ''))).status).toBe(403);
    const g2 = await grantOf(store, eng.person);
    expect((await request(`/admin/api/grants/${g2.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).status).toBe(200);
    expect(await store.events.list({ type: 'grant.revoked', grantId: g2.id })).toMatchObject([{ detail: { actor: 'admin:token' } }]);

    // Sign-out ends the person session: the pages send the browser to sign in again.
    expect((await request('/admin/logout', form({ csrf }, admin.cookie))).status).toBe(303);
    expect((await request('/admin/grants', { cookie: admin.cookie })).headers.get('location')).toBe('/identity/login?return=%2Fadmin%2Fgrants');
  });

  it('an offboarded admin is out at once', async () => {
    const { store, request } = await start(withAdmins(true));
    const admin = await person(store, { groups: ['keyhole-admins'] });
    expect((await request('/admin/grants', { cookie: admin.cookie })).status).toBe(200);
    await keyhole!.people!.offboard(admin.person.id, { actor: 'admin:token', via: 'admin' });
    const res = await request('/admin/grants', { cookie: admin.cookie });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toMatch(/^\/identity\/login\?return=/);
  });
});
