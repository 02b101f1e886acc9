/**
 * The browser step of `keyhole connect` against a real keyhole, from the side of what can go wrong:
 * - a request to the loopback redirect with a state the bridge did not send is refused and changes nothing;
 * - a denied consent reaches the bridge as error=access_denied: the waiting initialize request gets a JSON-RPC
 *   error (the client does not hang) and the bridge keeps no tokens;
 * - the next run reuses the dynamic registration and signs in normally.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieBrowser } from '../helpers/cookie-browser.js';
import { ensureBuiltCli } from '../helpers/keyhole-cli.js';
import { driveConsent } from '../helpers/sdk-client.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { childEnv, consentApprovals, spawnBridge, textOf, waitForAuthorizationUrl, withSignIn, type SpawnedBridge } from './connect-support.js';

describe('keyhole connect sign-in failures', () => {
  let stack: Stack;
  let xdg: string;
  let env: Record<string, string>;
  const bridges: SpawnedBridge[] = [];
  let deniedUrl: URL;

  beforeAll(async () => {
    await ensureBuiltCli();
    stack = await startStack();
    xdg = mkdtempSync(join(tmpdir(), 'keyhole-connect-xdg-'));
    env = childEnv({ XDG_CONFIG_HOME: xdg, KEYHOLE_CONNECT_STORE: 'file' });
  });

  afterAll(async () => {
    for (const b of bridges) await b.close().catch(() => undefined);
    await stack?.close();
    if (xdg) rmSync(xdg, { recursive: true, force: true });
  });

  it('refuses a forged redirect, then answers the waiting initialize with an error when consent is denied', async () => {
    const bridge = spawnBridge(stack.mcpUrl, env);
    bridges.push(bridge);
    const connecting = bridge.client.connect(bridge.transport).then(() => undefined, (e: unknown) => e);
    deniedUrl = await waitForAuthorizationUrl(bridge);
    const pid = bridge.transport.pid!;
    const redirectUri = deniedUrl.searchParams.get('redirect_uri')!;

    const forged = await fetch(`${redirectUri}?code=forged&state=not-the-one`);
    expect(forged.status).toBe(400);
    expect(await forged.text()).toContain('does not belong to the sign-in in progress');

    const browser = new CookieBrowser();
    const { clientRedirect } = await driveConsent(deniedUrl, { login: 'erin', decision: 'deny', browser, redirectPrefix: redirectUri });
    expect(clientRedirect.searchParams.get('error')).toBe('access_denied');
    const landed = await browser.get(clientRedirect);
    expect(landed.status).toBe(400);
    expect(await landed.text()).toContain('access_denied');

    const failure = await connecting;
    expect(failure).toBeInstanceOf(McpError);
    expect((failure as McpError).message).toContain('access_denied');
    expect(bridge.stderr()).toContain('sign-in failed');
    expect(await consentApprovals(stack)).toBe(0);
    expect(await stack.keyhole.store.grants.list({ status: 'active' })).toHaveLength(0);
    // The failed connect made the client close stdin: the bridge exits (and frees its loopback port for the next run).
    for (let i = 0; ; i++) {
      try {
        process.kill(pid, 0);
      } catch {
        break;
      }
      if (i > 200) throw new Error('the bridge did not exit after its client closed stdin');
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  it('reuses the registration on the next run and signs in', async () => {
    const bridge = spawnBridge(stack.mcpUrl, env);
    bridges.push(bridge);
    const { authorizationUrl } = await withSignIn(bridge, 'erin', () => bridge.client.connect(bridge.transport));
    expect(authorizationUrl.searchParams.get('client_id')).toBe(deniedUrl.searchParams.get('client_id'));
    expect(authorizationUrl.searchParams.get('redirect_uri')).toBe(deniedUrl.searchParams.get('redirect_uri')); // the registered port, reused
    expect(authorizationUrl.searchParams.get('state')).not.toBe(deniedUrl.searchParams.get('state'));
    expect(JSON.parse(textOf(await bridge.client.callTool({ name: 'whoami', arguments: {} }))).sub).toBe('erin');
    expect(await stack.keyhole.store.clients.list()).toHaveLength(1);
  });
});
