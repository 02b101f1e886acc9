/**
 * The admin Activity page in Chromium: real calls through keyhole (SDK client → SDK upstream), filters by tool
 * and outcome through the form, a hostile tool name shown as text (no element, no dialog), a grant's recent calls, a server's Tools page.
 * Screenshots: test-output/screenshots/admin-activity.png, admin-tools.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startStack, type Stack } from '../helpers/stack.js';
import { connectThroughKeyhole, type ConnectedClient } from '../helpers/sdk-client.js';
import { launchChromium, screenshotDir } from '../helpers/chromium.js';

const ADMIN_TOKEN = 'admin-token-for-tests-0123456789';
const HOSTILE = '<img src=x onerror=alert(1)>';

describe('admin Activity page (Chromium)', () => {
  let stack: Stack;
  let browser: Browser;
  let context: BrowserContext;
  let conn: ConnectedClient;
  const dialogs: string[] = [];

  beforeAll(async () => {
    [browser, stack] = await Promise.all([launchChromium(), startStack()]);
    conn = await connectThroughKeyhole(stack.mcpUrl, { login: 'gina' });
    await conn.client.listTools();
    await conn.client.callTool({ name: 'echo', arguments: { text: 'one' } });
    await conn.client.callTool({ name: HOSTILE, arguments: {} }); // the upstream answers isError: unknown tool
    await conn.client.close();
    // The record is logged when the answer closes, then written behind it: wait for the line, then flush.
    for (let i = 0; i < 100 && !stack.logs.some((l) => l.includes('"keyhole.audit"') && l.includes('onerror')); i++) await new Promise((r) => setTimeout(r, 50));
    await stack.keyhole.observability.queue.flush();
    context = await browser.newContext();
    context.on('page', (p) => p.on('dialog', (d) => { dialogs.push(d.message()); void d.dismiss(); }));
  });
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await stack?.close();
  });

  async function signIn(page: Page) {
    await page.goto(`${stack.publicUrl}/admin/login`);
    await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${stack.publicUrl}/admin/grants`);
  }

  it('lists the calls, filters by tool and outcome, and shows a hostile tool name as text', async () => {
    const page = await context.newPage();
    await signIn(page);
    await page.getByRole('link', { name: 'Activity' }).click();
    await page.waitForURL(`${stack.publicUrl}/admin/activity`);
    const tools = () => page.locator('[data-testid=activity-table] [data-testid=tool]').allTextContents();
    expect(await tools()).toEqual(expect.arrayContaining(['echo', HOSTILE]));
    expect(await page.locator('[data-testid=activity-table] img').count()).toBe(0);
    await page.screenshot({ path: join(screenshotDir(), 'admin-activity.png'), fullPage: true });

    await page.getByLabel('Tool').fill('echo');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/tool=echo/);
    expect(await tools()).toEqual(['echo']);

    await page.getByLabel('Tool').fill('');
    await page.getByLabel('Outcome').selectOption('error');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/outcome=error/);
    expect(await tools()).toEqual([HOSTILE]);
    expect(await page.locator('[data-testid=activity-table] tr[data-audit-id] td[data-label=User]').allTextContents()).toEqual(['gina']);
    expect(dialogs).toEqual([]);
  });

  it("shows the grant's recent calls on its page, hostile names as text", async () => {
    const [grant] = await stack.keyhole.store.grants.list({ subject: 'gina' });
    await stack.keyhole.observability.queue.flush();
    const page = await context.newPage();
    await page.goto(`${stack.publicUrl}/admin/grants/${grant!.id}`);
    const rows = page.locator('[data-testid=grant-calls] tr[data-audit-id]');
    expect(await rows.evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].slice(1).map((td) => td.textContent)))).toEqual([
      ['—', '—', 'ok', '200'], // the SDK client's GET stream, recorded when client.close() ended it
      ['tools/call', HOSTILE, 'error', '200'],
      ['tools/call', 'echo', 'ok', '200'],
      ['tools/list', '—', 'ok', '200'],
      ['notifications/initialized', '—', 'ok', '202'],
      ['initialize', '—', 'ok', '200'],
    ]);
    expect(await page.locator('[data-testid=grant-calls] img').count()).toBe(0);
    expect(dialogs).toEqual([]);
  });

  it("shows a server's tools: listed tools, per-tool stats and chart, last failures (screenshot)", async () => {
    await stack.keyhole.observability.queue.flush();
    const page = await context.newPage();
    await page.goto(`${stack.publicUrl}/admin/tools?server=demo`);
    expect(await page.locator('[data-testid=listed] code').allTextContents()).toEqual(['count', 'create_issue', 'delete_issue', 'echo', 'list_issues', 'whoami']);
    const day = await page.locator('[data-testid=stats-day] tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].slice(0, 3).map((td) => td.textContent)));
    expect(day.sort()).toEqual([[HOSTILE, '1', '1'], ['echo', '1', '0']].sort());
    expect(await page.locator('[data-testid=calls-chart]').count()).toBe(2);
    expect(await page.locator('[data-testid=failures] tbody tr td[data-label=Tool]').allTextContents()).toEqual([HOSTILE]);
    expect(await page.locator('main img, body img').count()).toBe(0);
    await page.screenshot({ path: join(screenshotDir(), 'admin-tools.png'), fullPage: true });
    expect(dialogs).toEqual([]);
  });

  it('answers a forged page link with 400, not an error page', async () => {
    const page = await context.newPage();
    const res = await page.goto(`${stack.publicUrl}/admin/activity?cursor=nope`);
    expect(res!.status()).toBe(400);
  });
});
