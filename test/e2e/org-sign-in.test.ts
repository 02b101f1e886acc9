/**
 * Organization sign-in (issue 13 §1, §2) end to end, in real headless Chromium, with the MCP SDK client, a second
 * oidc-provider as the organization's IdP (test/helpers/org-idp.ts, `groups` claim), an oidc-provider upstream and an
 * SDK MCP upstream per server:
 * - the person signs in at the org IdP before consent; consent names them and links /account; upstream login; a tool
 *   call; the admin API attributes the grant to the person;
 * - a second server in the same browser: no second org sign-in (person session), a different upstream account, the
 *   same person id;
 * - a person outside allowedGroups, and one outside the server's access.groups, get a 403 page and a recorded
 *   refusal, and their browser never reaches the upstream authorization server;
 * - the foundation's offboarding (PeopleService.offboard, which the admin API and SCIM call): every keyhole token of
 *   the person gets 401, their upstream refresh tokens introspect inactive, the other person is untouched, and a new
 *   sign-in is refused on a clear page;
 * - canary: no ID token, IdP access token or IdP refresh token value in the logs, the events or the database bytes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { launchChromium, screenshotDir } from '../helpers/chromium.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { CapturingProvider, reconnect } from '../helpers/sdk-client.js';
import { approveAndSignInUpstream, idpLogin } from '../helpers/org-sign-in.js';

const ADMIN = { authorization: 'Bearer admin-token-for-tests-0123456789' };
const REDIRECT = 'http://127.0.0.1:9/org/callback';

describe('organization sign-in in headless Chromium', () => {
  let stack: Stack;
  let browser: Browser;
  let aliceContext: BrowserContext;
  let alicePersonId = '';
  const contexts: BrowserContext[] = [];
  /** The MCP clients' keyhole access tokens, by person. */
  const accessTokens: Record<string, string[]> = { alice: [], carol: [] };
  /** Upstream refresh tokens issued by the demo and ops upstream authorization servers, in order. */
  const upstreamRefresh: Array<{ server: string; token: string }> = [];

  beforeAll(async () => {
    browser = await launchChromium();
    stack = await startStack({
      orgIdp: {
        accounts: {
          alice: { email: 'alice@acme.example', name: 'Alice Doe', groups: ['engineering', 'ops'] },
          bob: { email: 'bob@acme.example', name: 'Bob Roe', groups: ['sales'] },
          carol: { email: 'carol@acme.example', name: 'Carol Poe', groups: ['engineering'] },
        },
        identity: { allowedGroups: ['engineering', 'ops'] },
      },
      extraServers: { ops: { server: { displayName: 'Ops', access: { groups: ['ops'] } } } },
    });
    aliceContext = await browser.newContext();
    contexts.push(aliceContext);
    for (const [server, as] of [['demo', stack.as], ['ops', stack.extra.ops!.as]] as const) {
      as.provider.on('grant.success', (ctx: { body?: Record<string, unknown> }) => {
        if (typeof ctx.body?.refresh_token === 'string') upstreamRefresh.push({ server, token: ctx.body.refresh_token });
      });
    }
  });
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await stack?.close();
  });

  /** The SDK client's first connect: 401, discovery, DCR, and the authorization URL it would open. */
  async function startAuthorization(server: string, name: string) {
    const provider = new CapturingProvider(REDIRECT, name);
    const mcpUrl = `${stack.publicUrl}/mcp/${server}`;
    const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider });
    await expect(new Client({ name: 't', version: '1' }).connect(transport)).rejects.toBeInstanceOf(UnauthorizedError);
    return { provider, transport, mcpUrl, authUrl: provider.authorizationUrl! };
  }

  /** A page recording every URL it requests. */
  async function trackedPage(context: BrowserContext): Promise<{ page: Page; requested: string[] }> {
    const page = await context.newPage();
    const requested: string[] = [];
    page.on('request', (r) => requested.push(r.url()));
    return { page, requested };
  }

  async function adminGrants(query = ''): Promise<Array<Record<string, any>>> {
    const res = await fetch(`${stack.publicUrl}/admin/api/grants${query}`, { headers: ADMIN });
    expect(res.status).toBe(200);
    return ((await res.json()) as { grants: Array<Record<string, any>> }).grants;
  }

  it('signs the person in before consent, names them on the consent page, and the grant is theirs', async () => {
    const auth = await startAuthorization('demo', 'Org test client');
    const { page, requested } = await trackedPage(aliceContext);
    await page.goto(auth.authUrl.href);
    // No person session yet: keyhole sends the browser to the org IdP first (nothing upstream yet).
    expect(page.url().startsWith(stack.orgIdp!.issuer)).toBe(true);
    expect(requested.some((u) => u.startsWith(`${stack.publicUrl}/identity/login?return=%2Fauthorize%3F`))).toBe(true);
    await idpLogin(page, 'alice');
    await page.waitForURL((u) => u.href.startsWith(`${stack.publicUrl}/authorize?`));
    expect(requested.some((u) => u.startsWith(stack.as.issuer))).toBe(false);

    expect(await page.getByTestId('signed-in-as').textContent()).toBe('Signed in as Alice Doe (alice@acme.example)');
    const revokeLink = page.getByRole('link', { name: 'You can revoke this access at any time' });
    expect(await revokeLink.getAttribute('href')).toBe('/account');
    await page.screenshot({ path: join(screenshotDir(), 'consent-signed-in.png'), fullPage: true });
    // The person-session cookie: HttpOnly, SameSite=Lax, Path=/, bounded.
    const cookie = (await aliceContext.cookies(stack.publicUrl)).find((c) => c.name === 'keyhole-person')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });
    expect(cookie.value).toMatch(/^kh_ps_[A-Za-z0-9_-]{43}$/);
    expect(cookie.expires - Date.now() / 1000).toBeGreaterThan(8 * 3600 - 120);
    expect(cookie.expires - Date.now() / 1000).toBeLessThanOrEqual(8 * 3600 + 5);

    const code = await approveAndSignInUpstream(page, 'alice-up', REDIRECT);
    await auth.transport.finishAuth(code);
    const { client } = await reconnect(auth.mcpUrl, auth.provider);
    const result = (await client.callTool({ name: 'whoami', arguments: {} })) as { content: Array<{ text: string }> };
    expect(JSON.parse(result.content[0]!.text).sub).toBe('alice-up');
    accessTokens.alice!.push(auth.provider.tokens()!.access_token);
    await client.close();
    await page.close();

    const person = await stack.keyhole.store.people.findByIssSub(stack.orgIdp!.issuer, 'alice');
    expect(person).toMatchObject({ email: 'alice@acme.example', name: 'Alice Doe', groups: ['engineering', 'ops'], status: 'active' });
    alicePersonId = person!.id;
    const [grant] = await adminGrants();
    expect(grant).toMatchObject({
      server: 'demo', subject: 'alice-up', person_id: alicePersonId,
      person: { id: alicePersonId, email: 'alice@acme.example', name: 'Alice Doe', groups: ['engineering', 'ops'] },
    });
    const types = (await stack.keyhole.store.events.list({ personId: alicePersonId, limit: 50 })).map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['person.signed_in', 'consent.approved', 'grant.created', 'code.issued']));
    // The IdP refresh token is kept sealed for revalidation.
    expect(await stack.keyhole.store.sealedSecrets.find(`person-idp-refresh:${alicePersonId}`)).toMatch(/^eyJ/);
  });

  it('a second server in the same browser: no second org sign-in, another upstream account, the same person', async () => {
    const idpAuthsBefore = stack.orgIdp!.authRequests();
    const auth = await startAuthorization('ops', 'Org test client 2');
    const { page } = await trackedPage(aliceContext);
    await page.goto(auth.authUrl.href);
    expect(page.url().startsWith(`${stack.publicUrl}/authorize?`)).toBe(true);
    expect(stack.orgIdp!.authRequests()).toBe(idpAuthsBefore);
    expect(await page.getByTestId('signed-in-as').textContent()).toContain('alice@acme.example');
    const code = await approveAndSignInUpstream(page, 'alice-ops', REDIRECT);
    await auth.transport.finishAuth(code);
    const { client } = await reconnect(auth.mcpUrl, auth.provider);
    const result = (await client.callTool({ name: 'whoami', arguments: {} })) as { content: Array<{ text: string }> };
    expect(JSON.parse(result.content[0]!.text).sub).toBe('alice-ops');
    accessTokens.alice!.push(auth.provider.tokens()!.access_token);
    await client.close();
    await page.close();

    const grants = await adminGrants(`?person_id=${alicePersonId}`);
    expect(grants.map((g) => [g.server, g.subject, g.person_id]).sort()).toEqual([
      ['demo', 'alice-up', alicePersonId],
      ['ops', 'alice-ops', alicePersonId],
    ]);
  });

  it('refuses a person outside allowedGroups after the org sign-in, before any upstream redirect', async () => {
    const auth = await startAuthorization('demo', 'Bob client');
    const context = await browser.newContext();
    contexts.push(context);
    const { page, requested } = await trackedPage(context);
    const callback = page.waitForResponse((r) => r.url().startsWith(`${stack.publicUrl}/identity/callback`));
    await page.goto(auth.authUrl.href);
    await idpLogin(page, 'bob');
    expect((await callback).status()).toBe(403);
    expect(await page.locator('h1').textContent()).toBe('You cannot use keyhole');
    expect(await page.getByTestId('error-code').textContent()).toBe('access_denied');
    expect(requested.some((u) => u.startsWith(stack.as.issuer))).toBe(false);
    expect((await context.cookies(stack.publicUrl)).some((c) => c.name === 'keyhole-person')).toBe(false);
    const bob = await stack.keyhole.store.people.findByIssSub(stack.orgIdp!.issuer, 'bob');
    expect(await stack.keyhole.store.events.list({ type: 'person.refused', personId: bob!.id })).toMatchObject([
      { outcome: 'failure', detail: { reason: 'not_in_allowed_groups', email: 'bob@acme.example', groups: ['sales'] } },
    ]);
    expect(await stack.keyhole.store.sealedSecrets.find(`person-idp-refresh:${bob!.id}`)).toBeUndefined();
    expect(await stack.keyhole.store.grants.count({ personId: bob!.id })).toBe(0);
  });

  it('refuses a person outside the server\'s access.groups on a clear page, before any upstream redirect', async () => {
    const auth = await startAuthorization('ops', 'Carol client');
    const context = await browser.newContext();
    contexts.push(context);
    const { page, requested } = await trackedPage(context);
    const refusal = page.waitForResponse((r) => r.url().startsWith(`${stack.publicUrl}/authorize?`) && r.status() === 403);
    await page.goto(auth.authUrl.href);
    await idpLogin(page, 'carol');
    await refusal;
    expect(await page.locator('h1').textContent()).toBe('You cannot use this server');
    expect(await page.locator('p').first().textContent()).toContain('Ops');
    expect(requested.some((u) => u.startsWith(stack.extra.ops!.as.issuer))).toBe(false);
    const carol = await stack.keyhole.store.people.findByIssSub(stack.orgIdp!.issuer, 'carol');
    expect(await stack.keyhole.store.events.list({ type: 'person.refused', personId: carol!.id })).toMatchObject([
      { outcome: 'failure', server: 'ops', detail: { reason: 'not_in_server_groups' } },
    ]);
    expect(await stack.keyhole.store.grants.count({ personId: carol!.id })).toBe(0);
    // Carol may use the demo server: signed in already, straight to consent.
    const demo = await startAuthorization('demo', 'Carol client 2');
    await page.goto(demo.authUrl.href);
    expect(await page.getByTestId('signed-in-as').textContent()).toBe('Signed in as Carol Poe (carol@acme.example)');
    const code = await approveAndSignInUpstream(page, 'carol-up', REDIRECT);
    await demo.transport.finishAuth(code);
    accessTokens.carol!.push(demo.provider.tokens()!.access_token);
    await page.close();
  });

  it('offboarding (the service the admin API and SCIM call) ends every grant of the person, and only theirs', async () => {
    const mcp = (server: string, token: string) => fetch(`${stack.publicUrl}/mcp/${server}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } }),
    });
    const [aliceDemo, aliceOps] = accessTokens.alice as [string, string];
    expect((await mcp('demo', aliceDemo)).status).toBe(200);
    expect((await mcp('ops', aliceOps)).status).toBe(200);
    const aliceRefresh = upstreamRefresh.slice(0, 2);
    const carolRefresh = upstreamRefresh[2]!;
    expect(aliceRefresh.map((r) => r.server)).toEqual(['demo', 'ops']);
    expect(carolRefresh.server).toBe('demo');

    const result = await stack.keyhole.people!.offboard(alicePersonId, { actor: 'admin:token', via: 'admin' });
    expect(result).toMatchObject({ found: true, changed: true });
    expect(result.revokedGrantIds).toHaveLength(2);
    expect((await mcp('demo', aliceDemo)).status).toBe(401);
    expect((await mcp('ops', aliceOps)).status).toBe(401);
    for (const r of aliceRefresh) {
      const as = r.server === 'demo' ? stack.as : stack.extra.ops!.as;
      expect((await as.introspect(r.token, stack.upstreamClient)).active).toBe(false);
    }
    // The other person is untouched.
    expect((await mcp('demo', accessTokens.carol![0]!)).status).toBe(200);
    expect((await stack.as.introspect(carolRefresh.token, stack.upstreamClient)).active).toBe(true);
    expect(await stack.keyhole.store.events.list({ type: 'person.offboarded', personId: alicePersonId })).toMatchObject([
      { detail: { via: 'admin', actor: 'admin:token', email: 'alice@acme.example' } },
    ]);

    // Blocked: the old browser session no longer counts, and a new sign-in is refused on a clear page.
    const auth = await startAuthorization('demo', 'After offboarding');
    const context = await browser.newContext();
    contexts.push(context);
    const { page, requested } = await trackedPage(context);
    const callback = page.waitForResponse((r) => r.url().startsWith(`${stack.publicUrl}/identity/callback`));
    await page.goto(auth.authUrl.href);
    await idpLogin(page, 'alice');
    expect((await callback).status()).toBe(403);
    expect(await page.locator('h1').textContent()).toBe('Your access has been ended');
    expect(requested.some((u) => u.startsWith(stack.as.issuer))).toBe(false);
    const old = await aliceContext.newPage();
    await old.goto(auth.authUrl.href);
    expect(old.url().startsWith(`${stack.publicUrl}/authorize`)).toBe(false);
    await old.close();
    await page.close();
  });

  it('an unknown or foreign sign-in response is a 400 page; the return path stays on keyhole', async () => {
    const res = await fetch(`${stack.publicUrl}/identity/callback?state=forged&code=x`);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('Sign-in could not be completed');
    const login = await fetch(`${stack.publicUrl}/identity/login?return=${encodeURIComponent('//evil.example/x')}`, { redirect: 'manual' });
    expect(login.status).toBe(302);
    expect(new URL(login.headers.get('location')!).origin).toBe(stack.orgIdp!.issuer);
  });

  it('canary: no ID token, IdP access token or IdP refresh token value in the logs, the events or the database bytes', () => {
    const values = [...stack.orgIdp!.issuedTokens].filter((s) => s.length >= 16);
    // alice, bob, carol signed in: an ID token, an access token and a refresh token each.
    expect(values.length).toBeGreaterThanOrEqual(9);
    expect(values.some((v) => v.startsWith('eyJ'))).toBe(true);
    const files = [stack.dbPath, `${stack.dbPath}-wal`, `${stack.dbPath}-shm`].filter((f) => existsSync(f)).map((f) => readFileSync(f).toString('latin1'));
    const db = new Database(stack.dbPath, { readonly: true });
    const eventRows = JSON.stringify(db.prepare('SELECT * FROM events').all());
    db.close();
    const logs = stack.logs.join('\n');
    expect(logs).toContain('person.signed_in');
    for (const v of values) {
      const probe = v.slice(-24);
      for (const f of files) expect(f.includes(probe), 'IdP token bytes found in the SQLite files').toBe(false);
      expect(eventRows.includes(probe), 'IdP token in events').toBe(false);
      expect(logs.includes(probe), 'IdP token in logs').toBe(false);
    }
  });
});
