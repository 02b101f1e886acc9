/**
 * Browser-level security of the admin and consent pages in headless Chromium, with real peers:
 * - a client registered (by the real SDK client) with client_name `<img src=x onerror=alert(1)>` shows as text
 *   on keyhole's consent page and on every admin page that names it: no such element in the DOM, no dialog;
 * - a cross-site form aimed at an admin action does nothing (SameSite=Strict cookie, Sec-Fetch-Site, CSRF token).
 * Screenshot: test-output/screenshots/admin-xss-clients.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium, screenshotDir } from '../helpers/chromium.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { CapturingProvider, connectThroughKeyhole, type ConnectedClient } from '../helpers/sdk-client.js';

const ADMIN_TOKEN = 'admin-token-for-tests-0123456789';
const XSS = '<img src=x onerror=alert(1)>';

describe('admin and consent pages in Chromium: escaping and cross-site forms', () => {
  let stack: Stack;
  let browser: Browser;
  let conn: ConnectedClient;
  let context: BrowserContext;
  const dialogs: string[] = [];

  beforeAll(async () => {
    [browser, stack] = await Promise.all([launchChromium(), startStack()]);
    conn = await connectThroughKeyhole(stack.mcpUrl, { login: 'mallory', provider: new CapturingProvider('http://127.0.0.1:9/xss/callback', XSS) });
    context = await browser.newContext();
    context.on('page', (p) => p.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    }));
  });
  afterAll(async () => {
    await conn?.client.close().catch(() => undefined);
    await context?.close();
    await browser?.close();
    await stack?.close();
  });

  /** Signs in unless the context already has a session (the sign-in page then sends on to the grants). */
  async function signIn(page: Page) {
    await page.goto(`${stack.publicUrl}/admin/login`);
    if (page.url() === `${stack.publicUrl}/admin/grants`) return;
    await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${stack.publicUrl}/admin/grants`);
  }

  it('the consent page shows the hostile client_name as text', async () => {
    // Over HTTP, as the SDK flow saw it:
    expect(conn.consent.consentHtml).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(conn.consent.consentHtml).not.toContain('<img');
    // In Chromium, for a new authorization by the same client:
    const clientId = conn.provider.clientInformation()!.client_id;
    const url = new URL(`${stack.publicUrl}/authorize`);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: String(conn.provider.redirectUrl),
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
      resource: stack.mcpUrl,
      state: 'xss',
    }).toString();
    const page = await context.newPage();
    const res = await page.goto(url.href);
    expect(res!.status()).toBe(200);
    expect(await page.getByTestId('client-name').textContent()).toBe(XSS);
    expect(await page.$('img[src=x]')).toBeNull();
    expect(await page.$('img')).toBeNull();
    await page.close();
    expect(dialogs).toEqual([]);
  });

  it('every admin page naming the client shows it as text: no <img>, no dialog', async () => {
    const clientId = conn.provider.clientInformation()!.client_id;
    const [grant] = await stack.keyhole.store.grants.list({ clientId });
    const page = await context.newPage();
    await signIn(page);
    const paths = [
      '/admin/grants',
      `/admin/grants/${grant!.id}`,
      '/admin/clients',
      '/admin/events',
      `/admin/clients/block?client_id=${encodeURIComponent(clientId)}`,
      `/admin/clients/delete?client_id=${encodeURIComponent(clientId)}`,
      `/admin/grants/revoke?client_id=${encodeURIComponent(clientId)}`,
    ];
    for (const path of paths) {
      const res = await page.goto(`${stack.publicUrl}${path}`);
      expect(res!.status(), path).toBe(200);
      expect(res!.headers()['content-security-policy'], path).toContain("frame-ancestors 'none'");
      expect(await page.$('img[src=x]'), path).toBeNull();
      expect(await page.$('img'), path).toBeNull();
      if (!path.startsWith('/admin/grants/revoke')) expect(await page.locator('body').textContent(), path).toContain(XSS);
      if (path === '/admin/clients') await page.screenshot({ path: join(screenshotDir(), 'admin-xss-clients.png'), fullPage: true });
    }
    const rowName = await page.goto(`${stack.publicUrl}/admin/grants`).then(() => page.locator(`tr[data-grant-id="${grant!.id}"] [data-testid=client-name]`).textContent());
    expect(rowName).toBe(XSS);
    await page.close();
    expect(dialogs).toEqual([]);
  });

  it('a cross-site form aimed at an admin action is refused and changes nothing', async () => {
    const clientId = conn.provider.clientInformation()!.client_id;
    const [grant] = await stack.keyhole.store.grants.list({ clientId, status: 'active' });
    const page = await context.newPage();
    await signIn(page); // the context holds a live admin session
    expect(page.url()).toBe(`${stack.publicUrl}/admin/grants`);
    // A page on another site auto-submits a form to keyhole's revoke action (served by Playwright's router).
    const action = `${stack.publicUrl}/admin/grants/${grant!.id}/revoke`;
    await page.route('http://attacker.test/**', (route) =>
      route.fulfill({
        contentType: 'text/html',
        body: `<form method="post" action="${action}"><input name="csrf" value="guessed"></form><script>document.forms[0].submit()</script>`,
      }),
    );
    await page.goto('http://attacker.test/');
    await page.waitForURL(`${stack.publicUrl}/admin/login`);
    // Without the SameSite=Strict cookie keyhole sees no session and sends the browser to sign in.
    expect(page.url()).toBe(`${stack.publicUrl}/admin/login`);
    expect((await stack.keyhole.store.grants.find(grant!.id))?.status).toBe('active');
    await page.close();
  });
});
