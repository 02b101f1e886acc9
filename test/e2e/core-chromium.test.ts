/**
 * The core flow once in real headless Chromium (Debian's, driven by playwright-core): the SDK client asks for
 * authorization, Chromium opens keyhole's consent page (screenshot kept), clicks Approve, signs in at
 * oidc-provider, and lands on the client's redirect_uri with keyhole's code; the SDK client then finishes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { existsSync, statSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { launchChromium, screenshotDir } from '../helpers/chromium.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { CapturingProvider, reconnect } from '../helpers/sdk-client.js';

describe('consent in headless Chromium', () => {
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

  it('approves on the consent page, signs in upstream, and the SDK client calls a tool', async () => {
    const provider = new CapturingProvider('http://127.0.0.1:9/chromium/callback', 'Chromium test client');
    const transport = new StreamableHTTPClientTransport(new URL(stack.mcpUrl), { authProvider: provider });
    await expect(new Client({ name: 't', version: '1' }).connect(transport)).rejects.toBeInstanceOf(UnauthorizedError);
    const authUrl = provider.authorizationUrl!;

    const page = await browser.newPage();
    await page.goto(authUrl.href);
    await expect(page.title()).resolves.toContain('Authorize access');
    expect(await page.getByTestId('client-name').textContent()).toBe('Chromium test client');
    expect(await page.getByTestId('redirect-host').textContent()).toContain('127.0.0.1:9');
    const shot = join(screenshotDir(), 'consent-page.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect(statSync(shot).size).toBeGreaterThan(5_000);

    await page.getByRole('button', { name: 'Approve' }).click();
    // oidc-provider devInteractions: login, then its own consent.
    await page.locator('input[name="login"]').fill('carol');
    await page.locator('input[name="password"]').fill('any-password');
    await page.locator('button[type="submit"]').click();
    const landed = page.waitForRequest((r) => r.url().startsWith('http://127.0.0.1:9/chromium/callback'));
    await page.locator('button[type="submit"]').click();
    const redirect = new URL((await landed).url());
    expect(redirect.searchParams.get('iss')).toBe(stack.publicUrl);
    const code = redirect.searchParams.get('code');
    expect(code).toMatch(/^kh_code_/);

    await transport.finishAuth(code!);
    const { client } = await reconnect(stack.mcpUrl, provider);
    const result = (await client.callTool({ name: 'whoami', arguments: {} })) as { content: Array<{ text: string }> };
    expect(JSON.parse(result.content[0]!.text).sub).toBe('carol');
    await client.close();
    await page.close();
    expect(existsSync(shot)).toBe(true);
  });

  it('cannot be framed: CSP frame-ancestors and X-Frame-Options keep the framed page empty', async () => {
    const provider = new CapturingProvider('http://127.0.0.1:9/chromium/callback2', 'Frame test');
    const transport = new StreamableHTTPClientTransport(new URL(stack.mcpUrl), { authProvider: provider });
    await expect(new Client({ name: 't', version: '1' }).connect(transport)).rejects.toBeInstanceOf(UnauthorizedError);
    const page = await browser.newPage();
    const response = await page.goto(provider.authorizationUrl!.href);
    expect(response!.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(response!.headers()['x-frame-options']).toBe('DENY');
    // A page that frames the consent page gets an empty frame (Chromium enforces frame-ancestors).
    await page.setContent(`<iframe id="f" src="${provider.authorizationUrl!.href}"></iframe>`);
    await page.waitForTimeout(500);
    const frame = page.frames().find((f) => f.url().startsWith(stack.publicUrl));
    const framedButtons = frame ? await frame.locator('button').count().catch(() => 0) : 0;
    expect(framedButtons).toBe(0);
    await page.close();
  });
});
