/**
 * Issue 9 F1 in real headless Chromium against a real oidc-provider: a transaction approved in one browser cannot be
 * completed in another (the confused-deputy attack with two browser contexts), and two parallel authorizations in
 * one browser both complete.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { launchChromium } from '../helpers/chromium.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { CapturingProvider, reconnect } from '../helpers/sdk-client.js';

describe('consent binding in headless Chromium', () => {
  let stack: Stack;
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchChromium();
    stack = await startStack();
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  /** A DCR client (the SDK's own registration) whose authorization URL is captured. */
  async function sdkClient(redirect: string, name: string): Promise<{ provider: CapturingProvider; transport: StreamableHTTPClientTransport; authUrl: URL }> {
    const provider = new CapturingProvider(redirect, name);
    const transport = new StreamableHTTPClientTransport(new URL(stack.mcpUrl), { authProvider: provider });
    await expect(new Client({ name: 't', version: '1' }).connect(transport)).rejects.toBeInstanceOf(UnauthorizedError);
    return { provider, transport, authUrl: provider.authorizationUrl! };
  }

  /** Submits oidc-provider's login and consent forms until `done()` holds. */
  async function throughUpstream(page: Page, login: string, done: () => boolean): Promise<void> {
    for (let step = 0; step < 6 && !done(); step++) {
      await page.waitForLoadState();
      if (done()) return;
      const loginInput = page.locator('input[name="login"]');
      if (await loginInput.count()) {
        await loginInput.fill(login);
        await page.locator('input[name="password"]').fill('any-password');
      }
      const submit = page.locator('button[type="submit"]').first();
      if (!(await submit.count())) return;
      await Promise.all([page.waitForNavigation({ timeout: 10_000 }).catch(() => undefined), submit.click()]);
    }
  }

  /** Approves keyhole's consent page in `page` and completes the upstream sign-in; returns keyhole's code. */
  async function authorizeIn(page: Page, authUrl: URL, redirect: string, login: string): Promise<string> {
    let landed: URL | undefined;
    page.on('request', (r) => {
      if (r.url().startsWith(redirect)) landed = new URL(r.url());
    });
    await page.goto(authUrl.href);
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Approve' }).click()]);
    await throughUpstream(page, login, () => landed !== undefined);
    await expect.poll(() => landed, { timeout: 10_000 }).toBeDefined();
    expect(landed!.searchParams.get('iss')).toBe(stack.publicUrl);
    return landed!.searchParams.get('code')!;
  }

  it('rejects, in the victim\'s browser, a transaction the attacker approved in theirs: error page, no code, no grant', async () => {
    const attackerRedirect = 'http://127.0.0.1:9/attacker/cb';
    const attacker = await sdkClient(attackerRedirect, 'Totally Legit Tool');
    const attackerClientId = attacker.provider.clientInformation()!.client_id;

    // The attacker approves keyhole's consent page in their own browser and copies the upstream authorization URL.
    const attackerContext = await browser.newContext();
    const ap = await attackerContext.newPage();
    await ap.goto(attacker.authUrl.href);
    const toUpstream = ap.waitForRequest((r) => r.url().startsWith(`${stack.as.issuer}/auth`));
    await ap.getByRole('button', { name: 'Approve' }).click();
    const link = (await toUpstream).url();
    await attackerContext.close();

    // The victim is signed in at the upstream (they used keyhole before, with their own client).
    const victimContext = await browser.newContext();
    const vp = await victimContext.newPage();
    const own = await sdkClient('http://127.0.0.1:9/victim/cb', 'Victim client');
    expect(await authorizeIn(vp, own.authUrl, 'http://127.0.0.1:9/victim/cb', 'victim')).toMatch(/^kh_code_/);

    // Then opens the attacker's link (a new tab of the same browser).
    const link2 = await victimContext.newPage();
    let reachedAttacker = false;
    link2.on('request', (r) => {
      if (r.url().startsWith(attackerRedirect)) reachedAttacker = true;
    });
    await link2.goto(link);
    await throughUpstream(link2, 'victim', () => link2.url().startsWith(`${stack.publicUrl}/oauth/callback`));
    await link2.waitForURL((u) => u.href.startsWith(`${stack.publicUrl}/oauth/callback`));
    expect(await link2.getByTestId('error-code').textContent()).toBe('invalid_request');
    expect(await link2.textContent('body')).toContain('started in another browser');
    expect(reachedAttacker).toBe(false);
    const store = stack.keyhole.store;
    expect(await store.grants.list({ clientId: attackerClientId })).toHaveLength(0);
    expect(await store.events.list({ type: 'code.issued', clientId: attackerClientId })).toHaveLength(0);
    expect(await store.events.list({ type: 'upstream.authorized', clientId: attackerClientId })).toHaveLength(0);
    expect(await store.events.list({ type: 'consent.binding_failed', clientId: attackerClientId })).toHaveLength(1);
    await victimContext.close();
  });

  it('completes two parallel authorizations in one browser', async () => {
    const one = await sdkClient('http://127.0.0.1:9/parallel/one', 'Parallel one');
    const two = await sdkClient('http://127.0.0.1:9/parallel/two', 'Parallel two');
    const context = await browser.newContext();
    const [p1, p2] = [await context.newPage(), await context.newPage()];
    // Both consent pages open, both approved, before either upstream sign-in finishes.
    let landed1: URL | undefined;
    let landed2: URL | undefined;
    p1.on('request', (r) => { if (r.url().startsWith('http://127.0.0.1:9/parallel/one')) landed1 = new URL(r.url()); });
    p2.on('request', (r) => { if (r.url().startsWith('http://127.0.0.1:9/parallel/two')) landed2 = new URL(r.url()); });
    await p1.goto(one.authUrl.href);
    await p2.goto(two.authUrl.href);
    await Promise.all([p1.waitForNavigation(), p1.getByRole('button', { name: 'Approve' }).click()]);
    await Promise.all([p2.waitForNavigation(), p2.getByRole('button', { name: 'Approve' }).click()]);
    const cookies = (await context.cookies(stack.publicUrl)).filter((c) => c.name.startsWith('keyhole-tx-'));
    expect(cookies).toHaveLength(2);
    await throughUpstream(p1, 'dana', () => landed1 !== undefined);
    await throughUpstream(p2, 'dana', () => landed2 !== undefined);
    await expect.poll(() => landed1 && landed2, { timeout: 10_000 }).toBeDefined();
    for (const [{ provider, transport }, landed] of [[one, landed1!], [two, landed2!]] as const) {
      expect(landed.searchParams.get('code')).toMatch(/^kh_code_/);
      await transport.finishAuth(landed.searchParams.get('code')!);
      const { client } = await reconnect(stack.mcpUrl, provider);
      const result = (await client.callTool({ name: 'whoami', arguments: {} })) as { content: Array<{ text: string }> };
      expect(JSON.parse(result.content[0]!.text).sub).toBe('dana');
      await client.close();
    }
    // Each callback cleared its own binding cookie.
    expect((await context.cookies(stack.publicUrl)).filter((c) => c.name.startsWith('keyhole-tx-'))).toHaveLength(0);
    await context.close();
  });
});
