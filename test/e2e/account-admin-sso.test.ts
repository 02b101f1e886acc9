/**
 * Issue 13 §4 (admins are people) and §6 (each person sees and ends their own access), end to end in real headless
 * Chromium, with the MCP SDK client, a second oidc-provider as the organization's IdP (`groups` claim), oidc-provider
 * upstreams and SDK MCP upstreams:
 * - /account: Alice sees only her own grants (not Bob's), revokes one with the confirmation step: its keyhole token
 *   gets 401, its keyhole refresh token invalid_grant, its upstream refresh token introspects active:false, the
 *   event says `person:<alice>`; her other grant stays;
 * - Bob's grant id in Alice's URL (404, nothing about it shown) or in her form (404, refused and recorded): Bob's grant
 *   stays active and his token keeps working;
 * - the revoke POST refuses a cross-site Origin / Sec-Fetch-Site, and a missing or wrong CSRF token;
 * - /admin: Bob (not an admin) gets a 403 page and an `admin.sign_in_refused` event; Root (in `keyhole-admins`) signs in
 *   through the IdP (no token form), revokes a grant on the admin page, and the event records `person:<root>`; the
 *   admin token on the JSON API is recorded as `admin:token`; once Root is offboarded, /admin refuses them.
 * Screenshots: test-output/screenshots/account.png, account-confirm.png, account-not-found.png, admin-sso-refused.png,
 * admin-sso-grants.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { launchChromium, screenshotDir } from '../helpers/chromium.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { CapturingProvider, reconnect } from '../helpers/sdk-client.js';
import { approveAndSignInUpstream, idpLogin } from '../helpers/org-sign-in.js';
import { initializeStatus } from '../helpers/raw-mcp.js';
import { VaultCipher, keyringFromMasterKey } from '../../src/store/crypto/vault-cipher.js';
import { sealContext } from '../../src/upstream/seal-context.js';
import type { GrantRecord } from '../../src/store/types.js';

const ADMIN_TOKEN = 'admin-token-for-tests-0123456789';
const REDIRECT = 'http://127.0.0.1:9/account-e2e/callback';

interface Connected {
  provider: CapturingProvider;
  client: Client;
  grant: GrantRecord;
  accessToken: string;
}

describe('/account and admin SSO in headless Chromium (org IdP, real upstreams, SDK client)', () => {
  let stack: Stack;
  let browser: Browser;
  const contexts: Record<string, BrowserContext> = {};
  const clients: Client[] = [];
  let aliceDemo: Connected;
  let aliceOps: Connected;
  let bobDemo: Connected;

  beforeAll(async () => {
    browser = await launchChromium();
    stack = await startStack({
      orgIdp: {
        accounts: {
          alice: { email: 'alice@acme.example', name: 'Alice Doe', groups: ['engineering'] },
          bob: { email: 'bob@acme.example', name: 'Bob Roe', groups: ['engineering'] },
          root: { email: 'root@acme.example', name: 'Root Admin', groups: ['engineering', 'keyhole-admins'] },
        },
        identity: { admins: { groups: ['keyhole-admins'] } },
      },
      extraServers: { ops: { server: { displayName: 'Ops' } } },
    });
    for (const who of ['alice', 'bob', 'root']) contexts[who] = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  });
  afterAll(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    for (const c of Object.values(contexts)) await c.close().catch(() => undefined);
    await browser?.close();
    await stack?.close();
  });

  const personId = async (sub: string) => (await stack.keyhole.store.people.findByIssSub(stack.orgIdp!.issuer, sub))!.id;

  /** The SDK client connects to `server` through keyhole, the person (signing in at the org IdP if needed) approves. */
  async function connect(who: string, server: string, clientName: string, upstreamLogin: string): Promise<Connected> {
    const provider = new CapturingProvider(REDIRECT, clientName);
    const mcpUrl = `${stack.publicUrl}/mcp/${server}`;
    const first = new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider });
    await expect(new Client({ name: 't', version: '1' }).connect(first)).rejects.toBeInstanceOf(UnauthorizedError);
    const page = await contexts[who]!.newPage();
    await page.goto(provider.authorizationUrl!.href);
    if (page.url().startsWith(stack.orgIdp!.issuer)) await idpLogin(page, who);
    await page.waitForURL((u) => u.href.startsWith(`${stack.publicUrl}/authorize?`));
    const code = await approveAndSignInUpstream(page, upstreamLogin, REDIRECT);
    await page.close();
    await first.finishAuth(code);
    const { client } = await reconnect(mcpUrl, provider);
    clients.push(client);
    const [grant] = await stack.keyhole.store.grants.list({ clientId: provider.clientInformation()!.client_id, status: 'active' });
    return { provider, client, grant: grant!, accessToken: provider.tokens()!.access_token };
  }

  /** A raw initialize with a keyhole access token: its status. */
  const mcpStatus = (server: string, accessToken: string): Promise<number> => initializeStatus(`${stack.publicUrl}/mcp/${server}`, accessToken);

  async function upstreamRefreshToken(grantId: string): Promise<string> {
    const credential = await stack.keyhole.store.upstreamCredentials.find(grantId);
    return new VaultCipher(keyringFromMasterKey(stack.masterKey)).open(credential!.refreshToken!, sealContext.refresh(grantId));
  }

  async function cookieHeader(who: string): Promise<string> {
    return (await contexts[who]!.cookies(stack.publicUrl)).map((c) => `${c.name}=${c.value}`).join('; ');
  }

  it('sets up: Alice approves two clients on two servers, Bob one (each signs in once at the org IdP)', async () => {
    aliceDemo = await connect('alice', 'demo', 'Alice Demo Client', 'alice-up');
    aliceOps = await connect('alice', 'ops', 'Alice Ops Client', 'alice-ops');
    bobDemo = await connect('bob', 'demo', 'Bob Demo Client', 'bob-up');
    const alice = await personId('alice');
    expect([aliceDemo.grant.person?.id, aliceOps.grant.person?.id, bobDemo.grant.person?.id]).toEqual([alice, alice, await personId('bob')]);
    for (const [server, c] of [['demo', aliceDemo], ['ops', aliceOps], ['demo', bobDemo]] as const) expect(await mcpStatus(server, c.accessToken)).toBe(200);
  });

  it('/account lists only the person\'s own grants, and revokes one after a confirmation step, everywhere', async () => {
    const page = await contexts.alice!.newPage();
    await page.goto(`${stack.publicUrl}/account`);
    expect(await page.getByTestId('signed-in-as').textContent()).toBe('Signed in as Alice Doe (alice@acme.example)');
    const rows = page.locator('tr[data-grant-id]');
    expect(await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-grant-id')).sort())).toEqual([aliceDemo.grant.id, aliceOps.grant.id].sort());
    const html = await page.content();
    expect(html).not.toContain(bobDemo.grant.id);
    expect(html).not.toContain('Bob Demo Client');
    expect(html).not.toContain('bob-up');
    const demoRow = page.locator(`tr[data-grant-id="${aliceDemo.grant.id}"]`);
    const rowText = (await demoRow.textContent()) ?? '';
    for (const text of ['Alice Demo Client', 'Demo', 'alice-up', ...aliceDemo.grant.scopes]) expect(rowText).toContain(text);
    expect(await demoRow.locator('td[data-label="Last used"] time').count()).toBe(1); // the tool calls above used it
    await page.screenshot({ path: join(screenshotDir(), 'account.png'), fullPage: true });

    const upstreamRefresh = await upstreamRefreshToken(aliceDemo.grant.id);
    expect(await stack.as.introspect(upstreamRefresh, stack.upstreamClient)).toMatchObject({ active: true, sub: 'alice-up' });

    // The confirmation step: nothing is revoked by following the link.
    await demoRow.getByRole('link', { name: 'Revoke…' }).click();
    await page.waitForURL(`${stack.publicUrl}/account/grants/${aliceDemo.grant.id}`);
    expect(await page.locator('h1').textContent()).toContain('Alice Demo Client');
    expect((await stack.keyhole.store.grants.find(aliceDemo.grant.id))!.status).toBe('active');
    await page.screenshot({ path: join(screenshotDir(), 'account-confirm.png'), fullPage: true });
    await page.getByRole('button', { name: 'Revoke access' }).click();
    await page.waitForURL(`${stack.publicUrl}/account?revoked=1`);
    expect(await page.getByTestId('notice').textContent()).toBe('The access was revoked.');
    expect(await page.locator('tr[data-grant-id]').evaluateAll((els) => els.map((e) => e.getAttribute('data-grant-id')))).toEqual([aliceOps.grant.id]);
    await page.close();

    // Ended everywhere: keyhole access token 401, keyhole refresh token invalid_grant, upstream refresh token inactive.
    expect(await mcpStatus('demo', aliceDemo.accessToken)).toBe(401);
    const refreshed = await fetch(`${stack.publicUrl}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: aliceDemo.provider.tokens()!.refresh_token!, client_id: aliceDemo.provider.clientInformation()!.client_id }).toString(),
    });
    expect(refreshed.status).toBe(400);
    expect(await refreshed.json()).toMatchObject({ error: 'invalid_grant' });
    expect(await stack.as.introspect(upstreamRefresh, stack.upstreamClient)).toMatchObject({ active: false });
    const alice = await personId('alice');
    expect(await stack.keyhole.store.grants.find(aliceDemo.grant.id)).toMatchObject({ status: 'revoked', statusReason: 'person_revoked' });
    expect(await stack.keyhole.store.events.list({ type: 'grant.revoked', grantId: aliceDemo.grant.id })).toMatchObject([
      { personId: alice, detail: { reason: 'person_revoked', actor: `person:${alice}` } },
    ]);
    expect(await stack.keyhole.store.events.list({ type: 'upstream.revocation', grantId: aliceDemo.grant.id })).toMatchObject([{ outcome: 'success' }]);
    // The other grants are untouched.
    expect(await mcpStatus('ops', aliceOps.accessToken)).toBe(200);
    expect(await mcpStatus('demo', bobDemo.accessToken)).toBe(200);
  });

  it('refuses another person\'s grant id in the URL and in the form: 404, nothing shown, nothing revoked', async () => {
    const page = await contexts.alice!.newPage();
    const byUrl = await page.goto(`${stack.publicUrl}/account/grants/${bobDemo.grant.id}`);
    expect(byUrl!.status()).toBe(404);
    const notFound = await page.content();
    expect(notFound).not.toContain('Bob Demo Client');
    expect(notFound).not.toContain('bob-up');
    // The same page as for an id that does not exist at all.
    const unknown = await fetch(`${stack.publicUrl}/account/grants/g_doesnotexist0000000000`, { headers: { cookie: await cookieHeader('alice') } });
    expect(unknown.status).toBe(404);
    expect(await page.locator('h1').textContent()).toBe('No such access');
    await page.screenshot({ path: join(screenshotDir(), 'account-not-found.png'), fullPage: true });

    // In the form: Alice's own confirmation page, its hidden grant field changed to Bob's grant.
    await page.goto(`${stack.publicUrl}/account/grants/${aliceOps.grant.id}`);
    await page.locator('input[name="grant"]').evaluate((el, id) => ((el as HTMLInputElement).value = id), bobDemo.grant.id);
    const posted = page.waitForResponse((r) => r.url() === `${stack.publicUrl}/account/revoke`);
    await page.getByRole('button', { name: 'Revoke access' }).click();
    expect((await posted).status()).toBe(404);
    expect(await page.locator('h1').textContent()).toBe('No such access');
    await page.close();

    expect((await stack.keyhole.store.grants.find(bobDemo.grant.id))!.status).toBe('active');
    expect((await stack.keyhole.store.grants.find(aliceOps.grant.id))!.status).toBe('active');
    expect(await mcpStatus('demo', bobDemo.accessToken)).toBe(200);
    expect(await stack.keyhole.store.events.list({ type: 'account.revoke_refused' })).toMatchObject([
      { outcome: 'failure', personId: await personId('alice'), detail: { reason: 'not_own_grant', grant_id: bobDemo.grant.id } },
    ]);
    expect(await stack.keyhole.store.events.list({ type: 'grant.revoked', grantId: bobDemo.grant.id })).toEqual([]);
  });

  it('the revoke POST checks Origin, Sec-Fetch-Site and the CSRF token', async () => {
    const cookie = await cookieHeader('alice');
    const page = await fetch(`${stack.publicUrl}/account`, { headers: { cookie } });
    const csrf = /name="csrf" value="([^"]+)"/.exec(await page.text())![1]!;
    const post = (form: Record<string, string>, headers: Record<string, string>) =>
      fetch(`${stack.publicUrl}/account/revoke`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: new URLSearchParams(form).toString(),
      });
    const grant = aliceOps.grant.id;
    const origin = new URL(stack.publicUrl).origin;
    expect((await post({ csrf, grant }, { origin: 'https://evil.example' })).status).toBe(403);
    expect((await post({ csrf, grant }, { origin: 'null' })).status).toBe(403);
    expect((await post({ csrf, grant }, { origin, 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect((await post({ grant }, { origin })).status).toBe(403);
    expect((await post({ csrf: 'x'.repeat(43), grant }, { origin })).status).toBe(403);
    expect((await post({ csrf, grant }, { origin, cookie: '' })).status).toBe(403); // signed out: no session, no revoke
    expect((await stack.keyhole.store.grants.find(grant))!.status).toBe('active');
    expect(await mcpStatus('ops', aliceOps.accessToken)).toBe(200);
    // Bob's CSRF token is not Alice's.
    const bobPage = await fetch(`${stack.publicUrl}/account`, { headers: { cookie: await cookieHeader('bob') } });
    const bobCsrf = /name="csrf" value="([^"]+)"/.exec(await bobPage.text())![1]!;
    expect(bobCsrf).not.toBe(csrf);
    expect((await post({ csrf: bobCsrf, grant }, { origin })).status).toBe(403);
    expect((await stack.keyhole.store.grants.find(grant))!.status).toBe('active');
  });

  it('/account without a session sends the browser to the organization sign-in', async () => {
    const res = await fetch(`${stack.publicUrl}/account`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/identity/login?return=%2Faccount');
  });

  it('admin SSO: a signed-in person who is not an admin is refused at /admin with a 403 page, and it is recorded', async () => {
    const page = await contexts.bob!.newPage();
    const res = await page.goto(`${stack.publicUrl}/admin`);
    expect(res!.status()).toBe(403);
    expect(await page.locator('h1').textContent()).toBe('Not an admin');
    expect(await page.getByRole('link', { name: 'See your own access' }).getAttribute('href')).toBe('/account');
    expect(await page.content()).not.toContain('alice-up');
    await page.screenshot({ path: join(screenshotDir(), 'admin-sso-refused.png'), fullPage: true });
    expect((await page.goto(`${stack.publicUrl}/admin/grants`))!.status()).toBe(403);
    await page.close();
    const bob = await personId('bob');
    const refused = await stack.keyhole.store.events.list({ type: 'admin.sign_in_refused', personId: bob });
    expect(refused.length).toBe(2);
    expect(refused[0]).toMatchObject({ outcome: 'failure', detail: { via: 'sso', reason: 'not_admin', email: 'bob@acme.example' } });
    // The admin token does not open the pages when admin SSO is on.
    const tokenForm = await fetch(`${stack.publicUrl}/admin/login`, {
      method: 'POST', redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(stack.publicUrl).origin },
      body: new URLSearchParams({ token: ADMIN_TOKEN }).toString(),
    });
    expect(tokenForm.status).toBe(403);
    expect(tokenForm.headers.getSetCookie()).toEqual([]);
  });

  it('admin SSO: an admin signs in through the IdP and revokes a grant; the event records their person id', async () => {
    const page = await contexts.root!.newPage();
    const requested: string[] = [];
    page.on('request', (r) => requested.push(r.url()));
    await page.goto(`${stack.publicUrl}/admin`);
    expect(page.url().startsWith(stack.orgIdp!.issuer)).toBe(true);
    await idpLogin(page, 'root');
    await page.waitForURL(`${stack.publicUrl}/admin/grants`);
    expect(requested.some((u) => u.startsWith(`${stack.publicUrl}/identity/login?return=`))).toBe(true);
    expect(await page.getByLabel('Admin token').count()).toBe(0);
    expect(await page.getByTestId('signed-in-as').textContent()).toBe('Signed in as Root Admin (root@acme.example)');
    await page.screenshot({ path: join(screenshotDir(), 'admin-sso-grants.png'), fullPage: true });
    const root = await personId('root');
    expect(await stack.keyhole.store.events.list({ type: 'admin.signed_in', personId: root })).toMatchObject([
      { detail: { via: 'sso', actor: `person:${root}`, email: 'root@acme.example' } },
    ]);

    const upstreamRefresh = await upstreamRefreshToken(aliceOps.grant.id);
    await page.goto(`${stack.publicUrl}/admin/grants/${aliceOps.grant.id}`);
    await page.getByRole('button', { name: `Revoke grant ${aliceOps.grant.id}` }).click();
    await page.waitForURL(`${stack.publicUrl}/admin/grants/${aliceOps.grant.id}?revoked=1`);
    await page.close();
    expect(await stack.keyhole.store.events.list({ type: 'grant.revoked', grantId: aliceOps.grant.id })).toMatchObject([
      { personId: await personId('alice'), detail: { reason: 'admin_revoked', actor: `person:${root}` } },
    ]);
    expect(await mcpStatus('ops', aliceOps.accessToken)).toBe(401);
    expect(await stack.extra.ops!.as.introspect(upstreamRefresh, stack.upstreamClient)).toMatchObject({ active: false });
  });

  it('the admin token on the JSON API is recorded as admin:token', async () => {
    const res = await fetch(`${stack.publicUrl}/admin/api/grants/${bobDemo.grant.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ revoked: true });
    expect(await stack.keyhole.store.events.list({ type: 'grant.revoked', grantId: bobDemo.grant.id })).toMatchObject([
      { detail: { reason: 'admin_revoked', actor: 'admin:token' } },
    ]);
    expect(await mcpStatus('demo', bobDemo.accessToken)).toBe(401);
  });

  it('admin SSO: an offboarded admin is refused at once, and cannot sign in again', async () => {
    const root = await personId('root');
    const page = await contexts.root!.newPage();
    expect((await page.goto(`${stack.publicUrl}/admin/grants`))!.status()).toBe(200);
    await stack.keyhole.people!.offboard(root, { actor: 'admin:token', via: 'admin' });
    // The person session is gone: /admin sends the browser to the org sign-in, which refuses the offboarded person.
    const callback = page.waitForResponse((r) => r.url().startsWith(`${stack.publicUrl}/identity/callback`), { timeout: 20_000 });
    await page.goto(`${stack.publicUrl}/admin/grants`);
    if (page.url().startsWith(stack.orgIdp!.issuer) && (await page.locator('input[name="login"]').count()) > 0) await idpLogin(page, 'root');
    expect((await callback).status()).toBe(403);
    expect(page.url().startsWith(`${stack.publicUrl}/admin`)).toBe(false);
    await page.close();
    expect(await stack.keyhole.store.events.list({ type: 'person.refused', personId: root })).toMatchObject([{ detail: { reason: 'offboarded' } }]);
  });
});
