/**
 * Offboarding in one step, three ways (issue 13 §3, §5), end to end with real peers: a second oidc-provider as the
 * organization's IdP (test/helpers/org-idp.ts), an oidc-provider upstream and an SDK MCP upstream per server, the MCP
 * SDK client, and keyhole's own sign-in (driven over HTTP with a cookie browser; the People page in Chromium):
 * - by the admin API (POST /admin/api/people/{id}/offboard), idempotent, then reinstate;
 * - by SCIM `active: false` in every shape Okta, Entra ID and others send, and by DELETE;
 * - by IdP revalidation at a refresh: the person's IdP grant revoked at oidc-provider, or the account disabled;
 * - the People page in Chromium: search, person page, offboard behind its confirmation.
 * After each: every keyhole token of the person gets 401 (and their refresh invalid_grant), their upstream refresh
 * tokens introspect `active: false` at the upstream oidc-provider, they cannot sign in again until reinstated, and the
 * other person (bob) is untouched. SCIM answers (codes, bodies, content type) exactly; the SCIM token never appears in
 * the logs, the events or the database bytes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { launchChromium, screenshotDir } from '../helpers/chromium.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { CapturingProvider, driveConsent, reconnect } from '../helpers/sdk-client.js';
import { CookieBrowser, completeUpstreamLogin } from '../helpers/cookie-browser.js';
import { initializeStatus } from '../helpers/raw-mcp.js';
import { VaultCipher, keyringFromMasterKey } from '../../src/store/crypto/vault-cipher.js';
import { sealContext } from '../../src/upstream/seal-context.js';

const ADMIN_TOKEN = 'admin-token-for-tests-0123456789';
const ADMIN = { authorization: `Bearer ${ADMIN_TOKEN}` };
const SCIM_TOKEN = 'scim-canary-7f3a9c1e5b2d4f6a8c0e2b4d6f8a1c3e';
/** A wrong SCIM token an attacker presents: it must appear in no event, log line or database byte either. */
const SCIM_GUESS = 'scim-guess-canary-4e8b1d7a2c9f0e3b6a5d8c1f';
const REDIRECT = 'http://127.0.0.1:9/offboarding/callback';
const REVALIDATE = 2;
const SCIM_TYPE = 'application/scim+json';
const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';
const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Connection {
  person: string;
  server: string;
  grantId: string;
  provider: CapturingProvider;
  accessToken: string;
  upstreamRefresh: string;
}

describe('offboarding: admin, SCIM, IdP revalidation (real peers)', () => {
  let stack: Stack;
  let browser: Browser;
  let bob: Connection;

  beforeAll(async () => {
    stack = await startStack({
      orgIdp: {
        accounts: Object.fromEntries(['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'gina'].map((sub) => [
          sub, { email: `${sub}@acme.example`, name: `${sub[0]!.toUpperCase()}${sub.slice(1)} Tester`, groups: ['engineering'] },
        ])),
        identity: { allowedGroups: ['engineering'], revalidateSeconds: REVALIDATE, scim: { token: SCIM_TOKEN } },
      },
      extraServers: { ops: { server: { displayName: 'Ops' } } },
      // the test client speaks for other addresses through X-Forwarded-For (the SCIM failure limit is per address)
      config: { trustProxy: ['127.0.0.1'] },
    });
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  // ---- helpers ------------------------------------------------------------------------------------------------

  /** The upstream refresh token of a grant, opened from the vault (test-only: to ask the upstream about it). */
  async function upstreamRefreshOf(grantId: string): Promise<string> {
    const credential = await stack.keyhole.store.upstreamCredentials.find(grantId);
    if (!credential?.refreshToken) throw new Error('no sealed upstream refresh token');
    return new VaultCipher(keyringFromMasterKey(stack.masterKey)).open(credential.refreshToken, sealContext.refresh(grantId));
  }

  function upstreamAs(server: string) {
    return server === 'demo' ? stack.as : stack.extra[server]!.as;
  }

  /**
   * The SDK client's authorization through keyhole with organization sign-in: 401 → DCR → /authorize → (no person
   * session: the org IdP's login) → keyhole's consent → upstream login → code → tokens; then one tool call.
   */
  async function connect(person: string, server = 'demo', cookies = new CookieBrowser()): Promise<Connection> {
    const provider = new CapturingProvider(REDIRECT, `${person} client`);
    const mcpUrl = `${stack.publicUrl}/mcp/${server}`;
    const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider });
    await expect(new Client({ name: 't', version: '1' }).connect(transport)).rejects.toBeInstanceOf(UnauthorizedError);
    const authUrl = provider.authorizationUrl!;
    const first = await cookies.get(authUrl);
    let consentUrl = authUrl;
    if (first.status !== 200) {
      await first.body?.cancel();
      const signIn = new URL(first.headers.get('location')!, authUrl);
      consentUrl = await completeUpstreamLogin(cookies, signIn, { login: person, stopAt: `${stack.publicUrl}/authorize?` });
    } else {
      await first.body?.cancel();
    }
    const { clientRedirect } = await driveConsent(consentUrl, { login: `${person}-${server}-up`, browser: cookies, redirectPrefix: REDIRECT });
    await transport.finishAuth(clientRedirect.searchParams.get('code')!);
    const { client } = await reconnect(mcpUrl, provider);
    const result = (await client.callTool({ name: 'whoami', arguments: {} })) as { content: Array<{ text: string }> };
    expect(JSON.parse(result.content[0]!.text).sub).toBe(`${person}-${server}-up`);
    await client.close();
    const [grant] = await stack.keyhole.store.grants.list({ clientId: provider.clientInformation()!.client_id, status: 'active' });
    expect(grant!.person?.email).toBe(`${person}@acme.example`);
    return { person, server, grantId: grant!.id, provider, accessToken: provider.tokens()!.access_token, upstreamRefresh: await upstreamRefreshOf(grant!.id) };
  }

  /** A fresh browser's organization sign-in: the status keyhole's /identity/callback answers (403 when refused). */
  async function signInStatus(person: string): Promise<{ status: number; body: string }> {
    const cookies = new CookieBrowser();
    const start = await cookies.get(`${stack.publicUrl}/identity/login?return=%2Fadmin`);
    await start.body?.cancel();
    const atCallback = await completeUpstreamLogin(cookies, new URL(start.headers.get('location')!, stack.publicUrl), { login: person, stopAt: `${stack.publicUrl}/identity/callback` });
    const res = await cookies.get(atCallback);
    return { status: res.status, body: await res.text() };
  }

  /** A raw initialize with a keyhole access token: its status. */
  const mcpStatus = (accessToken: string, server = 'demo'): Promise<number> => initializeStatus(`${stack.publicUrl}/mcp/${server}`, accessToken);

  async function refresh(c: Connection): Promise<Response> {
    return fetch(`${stack.publicUrl}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: c.provider.tokens()!.refresh_token!, client_id: c.provider.clientInformation()!.client_id }).toString(),
    });
  }

  async function personIdOf(sub: string): Promise<string> {
    return (await stack.keyhole.store.people.findByIssSub(stack.orgIdp!.issuer, sub))!.id;
  }

  /** Everything the issue asks after an offboarding, for `gone`; and bob untouched. */
  async function assertOffboarded(gone: Connection[], via: 'admin' | 'scim' | 'idp') {
    const personId = await personIdOf(gone[0]!.person);
    expect(await stack.keyhole.store.people.get(personId)).toMatchObject({ status: 'offboarded', offboardedVia: via });
    for (const c of gone) {
      expect(await mcpStatus(c.accessToken, c.server)).toBe(401);
      const r = await refresh(c);
      expect(r.status).toBe(400);
      expect(await r.json()).toMatchObject({ error: 'invalid_grant' });
      expect(await upstreamAs(c.server).introspect(c.upstreamRefresh, stack.upstreamClient)).toMatchObject({ active: false });
      expect(await stack.keyhole.store.grants.find(c.grantId)).toMatchObject({ status: 'revoked', statusReason: 'person_offboarded' });
    }
    const again = await signInStatus(gone[0]!.person);
    expect(again.status).toBe(403);
    expect(again.body).toContain('Your access has been ended');
    // bob is untouched: his token works, his upstream refresh token is alive, his grant is active.
    expect(await mcpStatus(bob.accessToken)).toBe(200);
    expect(await upstreamAs('demo').introspect(bob.upstreamRefresh, stack.upstreamClient)).toMatchObject({ active: true });
    expect(await stack.keyhole.store.grants.find(bob.grantId)).toMatchObject({ status: 'active' });
    const offboarded = await stack.keyhole.store.events.list({ type: 'person.offboarded', personId });
    expect(offboarded[0]).toMatchObject({ personId, detail: { via } });
  }

  async function scim(method: string, path: string, body?: unknown, token: string | null = SCIM_TOKEN): Promise<{ status: number; type: string | null; json: any }> {
    const res = await fetch(`${stack.publicUrl}/scim/v2${path}`, {
      method,
      headers: { ...(token !== null ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': SCIM_TYPE } : {}) },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, type: res.headers.get('content-type'), json: text ? JSON.parse(text) : null };
  }

  // ---- the tests ------------------------------------------------------------------------------------------------

  it('the other person: bob signs in and connects (he must stay untouched by every offboarding below)', async () => {
    bob = await connect('bob');
    expect(await mcpStatus(bob.accessToken)).toBe(200);
  });

  it('admin API: lists people with their grants across servers and clients; offboards (idempotently) and reinstates', async () => {
    const cookies = new CookieBrowser();
    const a1 = await connect('alice', 'demo', cookies);
    const a2 = await connect('alice', 'ops', cookies); // same browser: the person session spares a second sign-in
    const aliceId = await personIdOf('alice');

    const list = await fetch(`${stack.publicUrl}/admin/api/people?q=alice-ops-up`, { headers: ADMIN });
    expect(list.status).toBe(200);
    const listed = (await list.json()) as { people: any[]; total: number; limit: number; offset: number };
    expect(listed).toMatchObject({ total: 1, limit: 50, offset: 0 });
    expect(listed.people[0]).toMatchObject({ id: aliceId, email: 'alice@acme.example', status: 'active', active_grants: 2, servers: ['demo', 'ops'] });
    expect(listed.people[0].grants.map((g: any) => g.subject).sort()).toEqual(['alice-demo-up', 'alice-ops-up']);
    expect(listed.people[0].last_activity_at).toEqual(expect.any(Number));
    const page = (await (await fetch(`${stack.publicUrl}/admin/api/people?limit=1&offset=1`, { headers: ADMIN })).json()) as { people: any[]; total: number };
    expect(page.people).toHaveLength(1);
    expect(page.total).toBe(2);
    const grantsSearch = (await (await fetch(`${stack.publicUrl}/admin/api/grants?q=ALICE%40ACME`, { headers: ADMIN })).json()) as { grants: any[]; total: number };
    expect(grantsSearch.total).toBe(2);
    const bad = await fetch(`${stack.publicUrl}/admin/api/people?status=gone`, { headers: ADMIN });
    expect(bad.status).toBe(400);
    expect(await (await fetch(`${stack.publicUrl}/admin/api/people`)).status).toBe(401);

    const unknown = await fetch(`${stack.publicUrl}/admin/api/people/u_nobody/offboard`, { method: 'POST', headers: ADMIN });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ error: 'not_found', error_description: 'no such person' });
    expect((await fetch(`${stack.publicUrl}/admin/api/people/u_nobody`, { headers: ADMIN })).status).toBe(404);

    const off = await fetch(`${stack.publicUrl}/admin/api/people/${aliceId}/offboard`, { method: 'POST', headers: ADMIN });
    expect(off.status).toBe(200);
    const offBody = (await off.json()) as any;
    expect(offBody).toMatchObject({ offboarded: true, already_offboarded: false, revoked_grants: 2, person: { status: 'offboarded', offboarded_via: 'admin', offboarded_by: 'admin:token', active_grants: 0 } });
    expect(offBody.grant_ids.sort()).toEqual([a1.grantId, a2.grantId].sort());
    await assertOffboarded([a1, a2], 'admin');
    expect((await stack.keyhole.store.events.list({ type: 'person.offboarded', personId: aliceId }))[0]!.detail).toMatchObject({ actor: 'admin:token', via: 'admin' });

    const repeat = await fetch(`${stack.publicUrl}/admin/api/people/${aliceId}/offboard`, { method: 'POST', headers: ADMIN });
    expect(repeat.status).toBe(200);
    expect(await repeat.json()).toMatchObject({ offboarded: true, already_offboarded: true, revoked_grants: 0, grant_ids: [] });
    expect(await stack.keyhole.store.events.count({ type: 'person.offboarded', personId: aliceId })).toBe(1);

    const detail = (await (await fetch(`${stack.publicUrl}/admin/api/people/${aliceId}`, { headers: ADMIN })).json()) as any;
    expect(detail.person.grants).toHaveLength(2);
    expect(detail.events.map((e: any) => e.type)).toEqual(expect.arrayContaining(['person.signed_in', 'grant.created', 'grant.revoked', 'person.offboarded']));

    const back = await fetch(`${stack.publicUrl}/admin/api/people/${aliceId}/reinstate`, { method: 'POST', headers: ADMIN });
    expect(await back.json()).toMatchObject({ reinstated: true, already_active: false, person: { status: 'active', offboarded_via: null } });
    expect((await signInStatus('alice')).status).toBe(303); // signed in again, sent back to the return path
    expect(await stack.keyhole.store.grants.find(a1.grantId)).toMatchObject({ status: 'revoked' }); // grants stay revoked
  });

  it('SCIM: Okta lookup and create link the person by sub; active:false in every shape offboards; reactivation reinstates', async () => {
    const timings: number[] = [];
    // Okta: look up by userName first (nobody), then create.
    const lookup = await scim('GET', `/Users?filter=${encodeURIComponent('userName eq "carol@acme.example"')}&startIndex=1&count=100`);
    expect(lookup).toMatchObject({ status: 200, type: SCIM_TYPE });
    expect(lookup.json).toEqual({ schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'], totalResults: 0, startIndex: 1, itemsPerPage: 0, Resources: [] });
    const created = await scim('POST', '/Users', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'carol@acme.example', externalId: 'carol',
      name: { givenName: 'Carol', familyName: 'Tester' }, emails: [{ primary: true, value: 'carol@acme.example', type: 'work' }], active: true,
    });
    expect(created.status).toBe(201);
    expect(created.type).toBe(SCIM_TYPE);
    expect(created.json).toMatchObject({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'carol@acme.example', externalId: 'carol', active: true, emails: [{ value: 'carol@acme.example', primary: true }], meta: { resourceType: 'User' } });
    const scimId = created.json.id as string;
    expect(created.json.meta.location).toBe(`${stack.publicUrl}/scim/v2/Users/${scimId}`);
    const dup = await scim('POST', '/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'CAROL@acme.example' });
    expect(dup).toEqual({ status: 409, type: SCIM_TYPE, json: { schemas: [ERROR_SCHEMA], status: '409', scimType: 'uniqueness', detail: 'a User with this userName already exists' } });
    const found = await scim('GET', `/Users?filter=${encodeURIComponent('userName eq "carol@acme.example"')}`);
    expect(found.json).toMatchObject({ totalResults: 1, Resources: [{ id: scimId }] });

    const shapes: Array<[string, unknown]> = [
      ['Okta: replace without path', { schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', value: { active: false } }] }],
      ['Entra ID: Replace, path active, boolean', { schemas: [PATCH_SCHEMA], Operations: [{ op: 'Replace', path: 'active', value: false }] }],
      ['Entra ID: Replace, path active, "False"', { schemas: [PATCH_SCHEMA], Operations: [{ op: 'Replace', path: 'active', value: 'False' }] }],
      ['others: add without path', { schemas: [PATCH_SCHEMA], Operations: [{ op: 'add', value: { active: false } }] }],
    ];
    for (const [label, payload] of shapes) {
      const c = await connect('carol'); // signs in: linked to the SCIM row (externalId = sub)
      expect(await personIdOf('carol'), label).toBe(scimId);
      const started = performance.now();
      const patched = await scim('PATCH', `/Users/${scimId}`, payload);
      timings.push(performance.now() - started); // the response comes after the offboarding (reported, not asserted)
      expect(patched.status, label).toBe(200);
      expect(patched.json, label).toMatchObject({ id: scimId, active: false });
      await assertOffboarded([c], 'scim');
      // Reactivation by SCIM reinstates: the offboarding came from SCIM.
      const back = await scim('PATCH', `/Users/${scimId}`, { schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', path: 'active', value: true }] });
      expect(back.json, label).toMatchObject({ active: true });
      expect((await stack.keyhole.store.people.get(scimId))!.status, label).toBe('active');
    }
    expect(await stack.keyhole.store.events.count({ type: 'person.offboarded', personId: scimId })).toBe(4);
    console.log(`SCIM PATCH active:false → offboarded (1 grant, RFC 7009 upstream included): ${timings.map((t) => t.toFixed(0)).join(', ')} ms`);

    // DELETE (Entra's validator): offboards too; the User is gone from SCIM.
    const c = await connect('carol');
    const deleted = await fetch(`${stack.publicUrl}/scim/v2/Users/${scimId}`, { method: 'DELETE', headers: { authorization: `Bearer ${SCIM_TOKEN}` } });
    expect(deleted.status).toBe(204);
    expect(await deleted.text()).toBe('');
    await assertOffboarded([c], 'scim');
    const gone = await scim('GET', `/Users/${scimId}`);
    expect(gone).toEqual({ status: 404, type: SCIM_TYPE, json: { schemas: [ERROR_SCHEMA], status: '404', detail: `no User with id "${scimId}"` } });
  });

  it('SCIM: reactivation does not undo an offboarding by an admin', async () => {
    const created = await scim('POST', '/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'gina@acme.example', externalId: 'gina', active: true });
    const id = created.json.id as string;
    await connect('gina');
    expect((await fetch(`${stack.publicUrl}/admin/api/people/${id}/offboard`, { method: 'POST', headers: ADMIN })).status).toBe(200);
    const reactivated = await scim('PATCH', `/Users/${id}`, { schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', value: { active: true } }] });
    expect(reactivated).toMatchObject({ status: 200, json: { active: false } });
    expect(await stack.keyhole.store.people.get(id)).toMatchObject({ status: 'offboarded', offboardedVia: 'admin' });
    // An unexpected op word is refused, but a deactivation in it is applied first (a leaver never stays active).
    const odd = await scim('PATCH', `/Users/${id}`, { schemas: [PATCH_SCHEMA], Operations: [{ op: 'deactivate', value: { active: false } }] });
    expect(odd.status).toBe(400);
    expect(odd.json).toMatchObject({ schemas: [ERROR_SCHEMA], status: '400', scimType: 'invalidSyntax' });
    expect(await stack.keyhole.store.people.get(id)).toMatchObject({ scimActive: false, status: 'offboarded' });
  });

  it('SCIM: PUT replaces (and deactivates), the list pages with startIndex/count', async () => {
    const created = await scim('POST', '/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'zed@acme.example', name: { formatted: 'Zed' } });
    expect(created).toMatchObject({ status: 201, json: { userName: 'zed@acme.example', name: { formatted: 'Zed' }, active: true, emails: [{ value: 'zed@acme.example' }] } });
    const id = created.json.id as string;
    const put = await scim('PUT', `/Users/${id}`, { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'zed2@acme.example', externalId: 'zed', name: { givenName: 'Zed', familyName: 'Two' }, active: true });
    expect(put).toMatchObject({ status: 200, type: SCIM_TYPE, json: { id, userName: 'zed2@acme.example', externalId: 'zed', name: { formatted: 'Zed Two' }, active: true } });
    const taken = await scim('PUT', `/Users/${id}`, { userName: 'gina@acme.example' });
    expect(taken).toMatchObject({ status: 409, json: { status: '409', scimType: 'uniqueness' } });
    const off = await scim('PUT', `/Users/${id}`, { userName: 'zed2@acme.example', active: 'False' });
    expect(off).toMatchObject({ status: 200, json: { active: false } });
    expect(await stack.keyhole.store.people.get(id)).toMatchObject({ status: 'offboarded', offboardedVia: 'scim', offboardedBy: 'scim' });
    const all = await scim('GET', '/Users?startIndex=1&count=1');
    expect(all.json).toMatchObject({ startIndex: 1, itemsPerPage: 1 });
    const total = all.json.totalResults as number;
    expect(total).toBe(await stack.keyhole.store.people.count({ scim: true }));
    const last = await scim('GET', `/Users?startIndex=${total}&count=5`);
    expect(last.json).toMatchObject({ totalResults: total, startIndex: total, itemsPerPage: 1 });
    expect((await scim('GET', '/Users?count=0')).json).toMatchObject({ totalResults: total, itemsPerPage: 0, Resources: [] });
  });

  it('SCIM errors: 401 without or with a wrong token, 404, 400 invalidFilter / invalidSyntax / invalidValue, all in the SCIM error schema', async () => {
    const missing = await scim('GET', '/Users', undefined, null);
    expect(missing).toEqual({ status: 401, type: SCIM_TYPE, json: { schemas: [ERROR_SCHEMA], status: '401', detail: 'SCIM requests need Authorization: Bearer <the SCIM token>' } });
    const wrong = await scim('GET', '/Users', undefined, 'x'.repeat(40));
    expect(wrong).toEqual({ status: 401, type: SCIM_TYPE, json: { schemas: [ERROR_SCHEMA], status: '401', detail: 'the SCIM token is not valid' } });
    const wrongPatch = await scim('PATCH', `/Users/${await personIdOf('bob')}`, { Operations: [{ op: 'replace', value: { active: false } }] }, 'y'.repeat(40));
    expect(wrongPatch.status).toBe(401);
    expect(await stack.keyhole.store.people.get(await personIdOf('bob'))).toMatchObject({ status: 'active' });
    expect(await scim('GET', '/Users/u_nobody')).toEqual({ status: 404, type: SCIM_TYPE, json: { schemas: [ERROR_SCHEMA], status: '404', detail: 'no User with id "u_nobody"' } });
    const patchUnknown = await scim('PATCH', '/Users/u_nobody', { schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', value: { active: false } }] });
    expect(patchUnknown.status).toBe(404);
    expect((await fetch(`${stack.publicUrl}/scim/v2/Users/u_nobody`, { method: 'DELETE', headers: { authorization: `Bearer ${SCIM_TOKEN}` } })).status).toBe(404);
    const filter = await scim('GET', `/Users?filter=${encodeURIComponent('name co "x"')}`);
    expect(filter).toMatchObject({ status: 400, type: SCIM_TYPE, json: { schemas: [ERROR_SCHEMA], status: '400', scimType: 'invalidFilter' } });
    const notJson = await scim('POST', '/Users', '{"userName":');
    expect(notJson).toEqual({ status: 400, type: SCIM_TYPE, json: { schemas: [ERROR_SCHEMA], status: '400', scimType: 'invalidSyntax', detail: 'the body is not valid JSON' } });
    const noUserName = await scim('POST', '/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], emails: [{ value: 'x@acme.example' }] });
    expect(noUserName.json).toEqual({ schemas: [ERROR_SCHEMA], status: '400', scimType: 'invalidValue', detail: 'userName is required' });
    const badActive = await scim('POST', '/Users', { userName: 'z@acme.example', active: 'maybe' });
    expect(badActive.json).toMatchObject({ status: '400', scimType: 'invalidValue' });
    const noOps = await scim('PATCH', `/Users/${(await stack.keyhole.store.people.findByScimUserName('gina@acme.example'))!.id}`, { schemas: [PATCH_SCHEMA] });
    expect(noOps.json).toMatchObject({ status: '400', scimType: 'invalidSyntax' });
    const groups = await scim('GET', '/Groups');
    expect(groups).toMatchObject({ status: 404, type: SCIM_TYPE, json: { schemas: [ERROR_SCHEMA], status: '404' } });
  });

  it('IdP revalidation: a refresh re-checks the person; their IdP grant revoked at the IdP offboards them (via idp)', async () => {
    const d = await connect('dave');
    const daveId = await personIdOf('dave');
    await sleep((REVALIDATE + 1) * 1000);
    // The IdP still knows dave: the refresh succeeds and the sealed IdP refresh token is rotated.
    const sealedBefore = await stack.keyhole.store.sealedSecrets.find(`person-idp-refresh:${daveId}`);
    const ok = await refresh(d);
    expect(ok.status).toBe(200);
    const tokens = (await ok.json()) as { access_token: string; refresh_token: string };
    d.provider.saveTokens({ ...d.provider.tokens()!, ...tokens, token_type: 'Bearer' });
    d.accessToken = tokens.access_token;
    expect(await stack.keyhole.store.sealedSecrets.find(`person-idp-refresh:${daveId}`)).not.toBe(sealedBefore);
    // Within revalidateSeconds a refresh does not ask the IdP again: revoking there has no effect yet.
    expect(await stack.orgIdp!.revokeGrantsOf('dave')).toBeGreaterThan(0);
    const soon = await refresh(d);
    expect(soon.status).toBe(200);
    const soonTokens = (await soon.json()) as { access_token: string; refresh_token: string };
    d.provider.saveTokens({ ...d.provider.tokens()!, ...soonTokens, token_type: 'Bearer' });
    d.accessToken = soonTokens.access_token;
    await sleep((REVALIDATE + 1) * 1000);
    const refused = await refresh(d);
    expect(refused.status).toBe(400);
    expect(await refused.json()).toEqual({ error: 'invalid_grant', error_description: "the organization's identity provider no longer allows this person" });
    await assertOffboarded([d], 'idp');
    expect(await stack.keyhole.store.people.get(daveId)).toMatchObject({ offboardedBy: 'idp' });
    const refusals = await stack.keyhole.store.events.list({ type: 'person.refused', personId: daveId });
    expect(refusals.map((e) => e.detail.reason).sort()).toEqual(['idp_invalid_grant', 'offboarded']); // then the refused sign-in
    expect(refusals.find((e) => e.detail.reason === 'idp_invalid_grant')!.detail).toEqual({ reason: 'idp_invalid_grant', at: 'revalidation' });
  });

  it('IdP revalidation: an account disabled at the IdP is offboarded at the next refresh', async () => {
    const e = await connect('erin');
    stack.orgIdp!.disable('erin');
    await sleep((REVALIDATE + 1) * 1000);
    const refused = await refresh(e);
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: 'invalid_grant' });
    // Enabled again at the IdP, erin still cannot sign in at keyhole: offboarded until an admin reinstates her.
    stack.orgIdp!.enable('erin');
    await assertOffboarded([e], 'idp');
    // bob's refresh re-checks bob, whom the IdP still knows: he keeps working.
    const b = await refresh(bob);
    expect(b.status).toBe(200);
    const bt = (await b.json()) as { access_token: string; refresh_token: string };
    bob.provider.saveTokens({ ...bob.provider.tokens()!, ...bt, token_type: 'Bearer' });
    bob.accessToken = bt.access_token;
    expect(await mcpStatus(bob.accessToken)).toBe(200);
  });

  it('the People page in Chromium: search, person page, offboard behind the confirmation', async () => {
    const f = await connect('frank');
    const frankId = await personIdOf('frank');
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${stack.publicUrl}/admin/login`);
    await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${stack.publicUrl}/admin/grants`);
    // The grants list's free-text search: the person's email finds their grant, with a link to the person.
    await page.getByRole('searchbox', { name: 'Search' }).fill('FRANK@acme');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/\/admin\/grants\?q=FRANK%40acme/);
    const grantRows = page.locator('[data-testid="grants-table"] tbody tr[data-grant-id]');
    expect(await grantRows.count()).toBe(1);
    expect(await grantRows.first().getAttribute('data-grant-id')).toBe(f.grantId);
    expect(await grantRows.first().getByTestId('grant-person').getAttribute('href')).toBe(`/admin/people/${frankId}`);
    await page.getByRole('link', { name: 'People' }).click();
    await page.waitForURL(`${stack.publicUrl}/admin/people`);
    // Search by the upstream account (a grant's subject), not the person's own fields.
    await page.getByRole('searchbox', { name: 'Search' }).fill('frank-demo');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/\/admin\/people\?q=frank-demo/);
    const rows = page.locator('[data-testid="people-table"] tbody tr[data-person-id]');
    expect(await rows.count()).toBe(1);
    expect(await rows.first().getAttribute('data-person-id')).toBe(frankId);
    expect(await rows.first().getByTestId('active-grants').textContent()).toBe('1');
    await page.screenshot({ path: join(screenshotDir(), 'admin-people.png'), fullPage: true });
    await rows.first().getByRole('link', { name: 'Frank Tester' }).click();
    await page.waitForURL(`${stack.publicUrl}/admin/people/${frankId}`);
    expect(await page.getByTestId('person-name').textContent()).toBe('Frank Tester');
    expect(await page.locator(`[data-testid="person-grants"] tr[data-grant-id="${f.grantId}"]`).textContent()).toContain('frank-demo-up');
    expect(await page.getByTestId('timeline').textContent()).toContain('person.signed_in');
    await page.getByTestId('offboard-link').click();
    await page.waitForURL(`${stack.publicUrl}/admin/people/${frankId}/offboard`);
    expect(await page.getByTestId('confirm-count').textContent()).toContain('This will end 1 active grant.');
    // Nothing happened yet: the confirmation step only shows.
    expect(await stack.keyhole.store.people.get(frankId)).toMatchObject({ status: 'active' });
    await page.screenshot({ path: join(screenshotDir(), 'admin-person-offboard-confirm.png'), fullPage: true });
    await page.getByRole('button', { name: 'Offboard' }).click();
    await page.waitForURL(`${stack.publicUrl}/admin/people/${frankId}?offboarded=1`);
    expect(await page.getByRole('status').textContent()).toContain('Offboarded: 1 grant revoked, sign-in blocked.');
    expect(await page.getByTestId('person-status').textContent()).toContain('offboarded (admin)');
    await page.screenshot({ path: join(screenshotDir(), 'admin-person-offboarded.png'), fullPage: true });
    await assertOffboarded([f], 'admin');
    expect(await stack.keyhole.store.people.get(frankId)).toMatchObject({ offboardedBy: 'admin:token' });
    // A forged POST without the CSRF token is refused.
    const session = (await context.cookies()).find((c) => c.name === 'keyhole-admin')!;
    const forged = await fetch(`${stack.publicUrl}/admin/people/${frankId}/reinstate`, {
      method: 'POST', redirect: 'manual',
      headers: { cookie: `keyhole-admin=${session.value}`, origin: stack.publicUrl, 'content-type': 'application/x-www-form-urlencoded' }, body: 'csrf=nope',
    });
    expect(forged.status).toBe(403);
    expect(await stack.keyhole.store.people.get(frankId)).toMatchObject({ status: 'offboarded' });
    await page.getByRole('button', { name: `Reinstate ${frankId}` }).click();
    await page.waitForURL(`${stack.publicUrl}/admin/people/${frankId}?reinstated=1`);
    expect(await stack.keyhole.store.people.get(frankId)).toMatchObject({ status: 'active' });
    await context.close();
  });

  it('SCIM failure limit: 5 wrong tokens from one address get 401s, then 429 with Retry-After and the SCIM body; the right token from another address works; events without the token', async () => {
    const from = (address: string, token: string) =>
      fetch(`${stack.publicUrl}/scim/v2/Users?count=1`, { headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': address } });
    for (let i = 0; i < 5; i++) {
      const r = await from('203.0.113.7', SCIM_GUESS);
      expect(r.status).toBe(401);
      expect(r.headers.get('www-authenticate')).toBe('Bearer realm="keyhole-scim", error="invalid_token"');
    }
    const limited = await from('203.0.113.7', SCIM_GUESS);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('content-type')).toBe(SCIM_TYPE);
    const retryAfter = limited.headers.get('retry-after');
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(retryAfter)).toBeLessThanOrEqual(60);
    expect(await limited.json()).toEqual({ schemas: [ERROR_SCHEMA], status: '429', detail: `too many failed attempts from this address; retry in ${retryAfter} s` });
    // the right token from the refused address is refused too (no oracle); from another address it works
    expect((await from('203.0.113.7', SCIM_TOKEN)).status).toBe(429);
    expect((await from('198.51.100.9', SCIM_TOKEN)).status).toBe(200);
    expect((await scim('GET', '/Users?count=1')).status).toBe(200);
    // one event per address and minute: the first wrong token; the rest are counted for the next one
    const events = (await stack.keyhole.store.events.list({ limit: 500 })).filter((e) => e.type === 'scim.auth_failed');
    const fromAttacker = events.filter((e) => (e.detail as { address?: string }).address === '203.0.113.7');
    expect(fromAttacker).toHaveLength(1);
    expect(fromAttacker[0]).toMatchObject({ outcome: 'failure', detail: { reason: 'wrong', address: '203.0.113.7' } });
    expect(events.some((e) => (e.detail as { reason?: string }).reason === 'missing')).toBe(true);
  });

  it('canary: the SCIM token and a wrong guess appear in no log line, no event and no database byte', async () => {
    expect(stack.logs.join('\n')).not.toContain(SCIM_TOKEN);
    const events = await stack.keyhole.store.events.list({ limit: 500 });
    expect(events.length).toBeGreaterThan(20);
    expect(JSON.stringify(events)).not.toContain(SCIM_TOKEN);
    expect(events.some((e) => e.type === 'scim.auth_failed')).toBe(true);
    expect(stack.logs.join('\n')).not.toContain(SCIM_GUESS);
    expect(JSON.stringify(events)).not.toContain(SCIM_GUESS);
    expect(JSON.stringify(events)).not.toContain(SCIM_GUESS.slice(0, 16));
    for (const file of [stack.dbPath, `${stack.dbPath}-wal`]) {
      if (!existsSync(file)) continue;
      const bytes = readFileSync(file);
      expect(bytes.includes(Buffer.from(SCIM_TOKEN))).toBe(false);
      expect(bytes.includes(Buffer.from(SCIM_TOKEN.slice(0, 24)))).toBe(false);
      expect(bytes.includes(Buffer.from(SCIM_GUESS))).toBe(false);
    }
  });
});
