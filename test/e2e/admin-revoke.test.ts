/**
 * Admin revocation end to end with real peers: oidc-provider upstream, SDK MCP server, the SDK client through
 * keyhole, and headless Chromium on the admin pages. A revocation from the admin page (or API) must reach
 * everywhere: keyhole's access token (401 on the next call), its refresh token (invalid_grant), the upstream
 * refresh token (inactive at oidc-provider's introspection), and open SSE streams (closed).
 * Screenshots: test-output/screenshots/admin-grants.png, admin-grant-detail.png, admin-grant-revoked.png,
 * admin-grants-phone.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { statSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { launchChromium, screenshotDir } from '../helpers/chromium.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { CapturingProvider, connectThroughKeyhole, type ConnectedClient } from '../helpers/sdk-client.js';
import { CookieBrowser, parseForms } from '../helpers/cookie-browser.js';
import { VaultCipher, keyringFromMasterKey } from '../../src/store/crypto/vault-cipher.js';
import { sealContext } from '../../src/upstream/seal-context.js';

const ADMIN_TOKEN = 'admin-token-for-tests-0123456789';

function textOf(result: unknown): string {
  return ((result as { content: Array<{ text: string }> }).content[0]!).text;
}

/** A raw JSON-RPC POST to the MCP endpoint with a keyhole access token. */
function mcpPost(stack: Stack, accessToken: string, body: unknown, sessionId?: string): Promise<Response> {
  return fetch(stack.mcpUrl, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${accessToken}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-06-18',
      ...(sessionId ? { 'mcp-session-id': sessionId } : {}),
    },
    body: JSON.stringify(body),
  });
}

async function refreshAtKeyhole(stack: Stack, conn: ConnectedClient): Promise<Response> {
  return fetch(`${stack.publicUrl}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: conn.provider.tokens()!.refresh_token!, client_id: conn.provider.clientInformation()!.client_id }).toString(),
  });
}

async function grantOf(stack: Stack, conn: ConnectedClient, subject: string) {
  const [grant] = await stack.keyhole.store.grants.list({ clientId: conn.provider.clientInformation()!.client_id, subject, status: 'active' });
  if (!grant) throw new Error(`no active grant for ${subject}`);
  return grant;
}

/** The upstream refresh token of a grant, opened from the vault (test-only: to ask oidc-provider about it). */
async function upstreamRefreshToken(stack: Stack, grantId: string): Promise<string> {
  const credential = await stack.keyhole.store.upstreamCredentials.find(grantId);
  if (!credential?.refreshToken) throw new Error('no sealed upstream refresh token');
  return new VaultCipher(keyringFromMasterKey(stack.masterKey)).open(credential.refreshToken, sealContext.refresh(grantId));
}

describe('admin revocation (real peers, Chromium)', () => {
  let stack: Stack;
  let browser: Browser;
  const open: ConnectedClient[] = [];

  beforeAll(async () => {
    [browser, stack] = await Promise.all([launchChromium(), startStack()]);
  });
  afterAll(async () => {
    for (const c of open) await c.client.close().catch(() => undefined);
    await browser?.close();
    await stack?.close();
  });

  it('signs in, finds the grant, opens it and revokes it: 401 next call, invalid_grant on refresh, upstream token inactive', async () => {
    const conn = await connectThroughKeyhole(stack.mcpUrl, { login: 'alice', provider: new CapturingProvider('http://127.0.0.1:9/oauth/callback', 'Admin e2e client') });
    open.push(conn);
    expect(JSON.parse(textOf(await conn.client.callTool({ name: 'whoami', arguments: {} }))).sub).toBe('alice');
    const grant = await grantOf(stack, conn, 'alice');
    const accessToken = conn.provider.tokens()!.access_token;
    const upstreamRefresh = await upstreamRefreshToken(stack, grant.id);
    expect(await stack.as.introspect(upstreamRefresh, stack.upstreamClient)).toMatchObject({ active: true, sub: 'alice' });
    const before = await mcpPost(stack, accessToken, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, conn.transport.sessionId);
    expect(before.status).toBe(200);
    await before.body?.cancel();

    const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${stack.publicUrl}/admin/login`);
    await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${stack.publicUrl}/admin/grants`);
    const cookies = await context.cookies();
    expect(cookies.find((c) => c.name === 'keyhole-admin')).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/admin' });

    const row = page.locator(`tr[data-grant-id="${grant.id}"]`);
    await expect(row.isVisible()).resolves.toBe(true);
    const rowText = (await row.textContent()) ?? '';
    expect(rowText).toContain('alice');
    expect(rowText).toContain('Admin e2e client');
    expect(rowText).toContain('127.0.0.1:9');
    expect(rowText).toContain('valid until');
    const grantsShot = join(screenshotDir(), 'admin-grants.png');
    await page.screenshot({ path: grantsShot, fullPage: true });

    await row.getByRole('link', { name: `Details of grant ${grant.id}` }).click();
    await page.waitForURL(`${stack.publicUrl}/admin/grants/${grant.id}`);
    expect(await page.getByTestId('grant-status').textContent()).toContain('active');
    const timeline = await page.getByTestId('timeline').textContent();
    expect(timeline).toContain('grant.created');
    const detailShot = join(screenshotDir(), 'admin-grant-detail.png');
    await page.screenshot({ path: detailShot, fullPage: true });

    await page.getByRole('button', { name: `Revoke grant ${grant.id}` }).click();
    await page.waitForURL(`${stack.publicUrl}/admin/grants/${grant.id}?revoked=1`);
    expect(await page.getByRole('status').textContent()).toContain('The grant was revoked.');
    expect(await page.getByTestId('grant-status').textContent()).toContain('revoked (admin_revoked)');
    const events = await page.getByTestId('timeline').textContent();
    expect(events).toContain('grant.revoked');
    expect(events).toContain('upstream.revocation');
    await page.screenshot({ path: join(screenshotDir(), 'admin-grant-revoked.png'), fullPage: true });

    // Phone-sized view of the table (stacked cards).
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${stack.publicUrl}/admin/grants`);
    await page.screenshot({ path: join(screenshotDir(), 'admin-grants-phone.png'), fullPage: true });
    const cellWidth = await page.locator(`tr[data-grant-id="${grant.id}"] td[data-label="Client"]`).evaluate((el) => el.getBoundingClientRect().width);
    expect(cellWidth).toBeLessThanOrEqual(390);
    await context.close();
    for (const shot of [grantsShot, detailShot]) expect(statSync(shot).size).toBeGreaterThan(5_000);

    // 1. keyhole's access token: the very next MCP call gets 401 (raw, then through the SDK).
    const after = await mcpPost(stack, accessToken, { jsonrpc: '2.0', id: 2, method: 'tools/list' }, conn.transport.sessionId);
    expect(after.status).toBe(401);
    expect(after.headers.get('www-authenticate')).toMatch(/^Bearer /);
    // 2. keyhole's refresh token: invalid_grant.
    const refreshed = await refreshAtKeyhole(stack, conn);
    expect(refreshed.status).toBe(400);
    expect(await refreshed.json()).toMatchObject({ error: 'invalid_grant' });
    // 3. the upstream refresh token: revoked at oidc-provider (RFC 7009), so introspection says inactive.
    expect(await stack.as.introspect(upstreamRefresh, stack.upstreamClient)).toMatchObject({ active: false });
    expect(await stack.keyhole.store.upstreamCredentials.find(grant.id)).toBeUndefined();
    const [revocation] = await stack.keyhole.store.events.list({ grantId: grant.id, type: 'upstream.revocation' });
    expect(revocation).toMatchObject({ outcome: 'success', detail: { token_type: 'refresh_token' } });
    // The SDK client's next call fails: 401, its refresh is refused, and it would need a new authorization.
    await expect(conn.client.callTool({ name: 'whoami', arguments: {} })).rejects.toThrow();
    // No token value anywhere in the admin's view or the logs.
    const api = await (await fetch(`${stack.publicUrl}/admin/api/grants/${grant.id}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).text();
    for (const secret of [accessToken, conn.provider.tokens()?.refresh_token ?? 'none', upstreamRefresh]) {
      expect(api).not.toContain(secret);
      expect(stack.logs.join('\n')).not.toContain(secret);
    }
  });

  it('bulk revoke by client ends exactly that client\'s grants (confirmation shows the count)', async () => {
    const providerA = new CapturingProvider('http://127.0.0.1:9/a/callback', 'Client A');
    const a1 = await connectThroughKeyhole(stack.mcpUrl, { login: 'anna', provider: providerA });
    const providerA2 = new CapturingProvider('http://127.0.0.1:9/a/callback', 'Client A');
    providerA2.saveClientInformation(providerA.clientInformation()!);
    const a2 = await connectThroughKeyhole(stack.mcpUrl, { login: 'ben', provider: providerA2 });
    const b1 = await connectThroughKeyhole(stack.mcpUrl, { login: 'anna', provider: new CapturingProvider('http://127.0.0.1:9/b/callback', 'Client B') });
    open.push(a1, a2, b1);
    const clientA = providerA.clientInformation()!.client_id;
    const grantA1 = await grantOf(stack, a1, 'anna');
    const grantA2 = await grantOf(stack, a2, 'ben');
    const grantB1 = await grantOf(stack, b1, 'anna');
    expect(grantA1.clientId).toBe(clientA);
    expect(grantA2.clientId).toBe(clientA);
    expect(grantB1.clientId).not.toBe(clientA);
    const upstream = { a1: await upstreamRefreshToken(stack, grantA1.id), a2: await upstreamRefreshToken(stack, grantA2.id), b1: await upstreamRefreshToken(stack, grantB1.id) };

    // The admin page over plain HTTP (no JavaScript needed): sign in, confirm, revoke.
    const admin = new CookieBrowser();
    const signedIn = await admin.post(`${stack.publicUrl}/admin/login`, { token: ADMIN_TOKEN });
    expect(signedIn.status).toBe(303);
    const confirmUrl = `${stack.publicUrl}/admin/grants/revoke?client_id=${encodeURIComponent(clientA)}`;
    const confirm = await admin.get(confirmUrl);
    const html = await confirm.text();
    expect(html).toMatch(/This will end <strong>2<\/strong> active grants\./);
    const form = parseForms(html, confirmUrl).find((f) => f.action.endsWith('/admin/grants/revoke'))!;
    expect(form.fields).toMatchObject({ client_id: clientA });
    const done = await admin.post(form.action, form.fields);
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toContain('revoked=2');

    expect((await stack.keyhole.store.grants.find(grantA1.id))?.status).toBe('revoked');
    expect((await stack.keyhole.store.grants.find(grantA2.id))?.status).toBe('revoked');
    expect((await stack.keyhole.store.grants.find(grantB1.id))?.status).toBe('active');
    for (const conn of [a1, a2]) {
      const res = await mcpPost(stack, conn.provider.tokens()!.access_token, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, conn.transport.sessionId);
      expect(res.status).toBe(401);
    }
    expect(JSON.parse(textOf(await b1.client.callTool({ name: 'whoami', arguments: {} }))).sub).toBe('anna');
    expect(await stack.as.introspect(upstream.a1, stack.upstreamClient)).toMatchObject({ active: false });
    expect(await stack.as.introspect(upstream.a2, stack.upstreamClient)).toMatchObject({ active: false });
    expect(await stack.as.introspect(upstream.b1, stack.upstreamClient)).toMatchObject({ active: true });
  });

  it('a revoke (API) while an SSE stream is open closes the stream promptly; the next GET gets 401', async () => {
    const conn = await connectThroughKeyhole(stack.mcpUrl, { login: 'sse-user', provider: new CapturingProvider('http://127.0.0.1:9/sse/callback', 'SSE client') });
    open.push(conn);
    const grant = await grantOf(stack, conn, 'sse-user');
    const accessToken = conn.provider.tokens()!.access_token;
    // A session of our own, so that its standalone GET stream is ours (one GET stream per session).
    const init = await mcpPost(stack, accessToken, { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw-sse', version: '1' } } });
    expect(init.status).toBe(200);
    const sessionId = init.headers.get('mcp-session-id')!;
    expect(sessionId).toBeTruthy();
    await init.text();
    const initialized = await mcpPost(stack, accessToken, { jsonrpc: '2.0', method: 'notifications/initialized' }, sessionId);
    expect(initialized.status).toBe(202);
    await initialized.body?.cancel();

    const stream = await fetch(stack.mcpUrl, {
      headers: { authorization: `Bearer ${accessToken}`, accept: 'text/event-stream', 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18' },
    });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = stream.body!.getReader();
    const ended = (async () => {
      try {
        for (;;) if ((await reader.read()).done) return 'ended';
      } catch {
        return 'reset';
      }
    })();
    // Still open after a moment.
    expect(await Promise.race([ended, new Promise((r) => setTimeout(() => r('open'), 300))])).toBe('open');

    const started = Date.now();
    const revoke = await fetch(`${stack.publicUrl}/admin/api/grants/${grant.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(revoke.status).toBe(200);
    expect(await revoke.json()).toMatchObject({ revoked: true, grant: { id: grant.id, status: 'revoked' } });
    const outcome = await Promise.race([ended, new Promise((r) => setTimeout(() => r('still open'), 3_000))]);
    expect(outcome).not.toBe('still open');
    expect(Date.now() - started).toBeLessThan(3_000);

    const again = await fetch(stack.mcpUrl, { headers: { authorization: `Bearer ${accessToken}`, accept: 'text/event-stream', 'mcp-session-id': sessionId } });
    expect(again.status).toBe(401);
    await again.body?.cancel();
  });
});
