/**
 * The normal flow with a real stdio-bridge client, mcp-remote 0.15.1 (Node 20): it registers, prints the
 * authorization URL on stderr, and waits on its own loopback callback. The URL is driven headlessly (consent with the
 * browser-binding cookie, upstream sign-in at oidc-provider), the code is delivered to mcp-remote's callback, and then
 * JSON-RPC goes over its stdio: initialize, tools/list, tools/call.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStack, type Stack } from '../helpers/stack.js';
import { freePort } from '../helpers/free-port.js';
import { ROOT } from '../helpers/keyhole-cli.js';
import { CookieBrowser } from '../helpers/cookie-browser.js';
import { driveConsent } from '../helpers/sdk-client.js';

describe('mcp-remote through keyhole', () => {
  let stack: Stack;
  let child: ChildProcessWithoutNullStreams | undefined;
  let configDir: string;
  let stderr = '';
  let stdout = '';

  beforeAll(async () => {
    stack = await startStack();
    configDir = mkdtempSync(join(tmpdir(), 'keyhole-mcp-remote-'));
  });
  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGTERM');
    await stack?.close();
    rmSync(configDir, { recursive: true, force: true });
  });

  const waitFor = async <T>(what: string, probe: () => T | undefined, timeoutMs = 20_000): Promise<T> => {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const v = probe();
      if (v !== undefined) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; mcp-remote stderr:\n${stderr.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  /** Sends one JSON-RPC request on mcp-remote's stdin and waits for the response with its id. */
  async function rpc(id: number, method: string, params: Record<string, unknown>): Promise<Record<string, unknown>> {
    child!.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
    return waitFor(`response ${id} (${method})`, () => {
      for (const line of stdout.split('\n')) {
        if (!line.trim().startsWith('{')) continue;
        const msg = JSON.parse(line) as { id?: number };
        if (msg.id === id) return msg as Record<string, unknown>;
      }
      return undefined;
    });
  }

  it('authorizes through keyhole\'s consent and upstream sign-in, then lists and calls tools over stdio', async () => {
    const port = await freePort();
    child = spawn(process.execPath, [join(ROOT, 'node_modules/mcp-remote/dist/proxy.js'), stack.mcpUrl, String(port)], {
      // BROWSER=true: xdg-open "opens" the URL with /usr/bin/true, so that no real browser starts.
      env: { ...process.env, MCP_REMOTE_CONFIG_DIR: configDir, BROWSER: 'true', DISPLAY: '' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });

    const authUrl = new URL(await waitFor('the authorization URL', () => /Please authorize this client by visiting:\s*(\S+)/.exec(stderr)?.[1]));
    expect(`${authUrl.origin}${authUrl.pathname}`).toBe(`${stack.publicUrl}/authorize`);
    const redirectUri = authUrl.searchParams.get('redirect_uri')!;
    const browser = new CookieBrowser();
    const { consentHtml, clientRedirect } = await driveConsent(authUrl, { login: 'erin', browser, redirectPrefix: redirectUri });
    expect(consentHtml).toContain('Authorize access');
    expect(clientRedirect.searchParams.get('code')).toMatch(/^kh_code_/);
    // The binding cookie was set at approval and cleared at the callback.
    expect(Object.keys(browser.cookiesFor(stack.publicUrl)).filter((n) => n.startsWith('keyhole-tx-'))).toEqual([]);
    const delivered = await fetch(clientRedirect);
    expect(delivered.status).toBe(200);
    await delivered.body?.cancel();
    await waitFor('the proxy to connect', () => (/Proxy established successfully/.test(stderr) ? true : undefined));

    const init = await rpc(1, 'initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'keyhole-e2e', version: '1.0.0' } });
    expect((init.result as { serverInfo: { name: string } }).serverInfo.name).toBeTruthy();
    child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`);
    const list = await rpc(2, 'tools/list', {});
    expect((list.result as { tools: Array<{ name: string }> }).tools.map((t) => t.name)).toContain('whoami');
    const call = await rpc(3, 'tools/call', { name: 'whoami', arguments: {} });
    const text = (call.result as { content: Array<{ text: string }> }).content[0]!.text;
    expect(JSON.parse(text).sub).toBe('erin');
    expect(await stack.keyhole.store.events.list({ type: 'consent.binding_failed' })).toHaveLength(0);
  }, 60_000);
});
