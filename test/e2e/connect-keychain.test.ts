/**
 * `keyhole connect` end to end with the OS keychain (a real gnome-keyring: run inside scripts/with-keyring.sh, as CI
 * does). The SDK's StdioClientTransport + Client spawn the command against a real keyhole; the first run signs in
 * from the URL on stderr, the tokens land in the keychain (service mcp-keyhole-connect, account = the MCP URL) and
 * nowhere on disk; the second run reuses them with no URL and no new consent; an admin revocation leads to a new
 * sign-in whose tokens replace the old ones in the keychain.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { KeytarSecretStore } from '../../src/vault/secret-store.js';
import { CONNECT_KEYCHAIN_SERVICE } from '../../src/connect/keychain-credential-store.js';
import { describeKeychain } from '../helpers/keychain.js';
import { ensureBuiltCli } from '../helpers/keyhole-cli.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { childEnv, consentApprovals, revokeAllGrants, spawnBridge, textOf, withSignIn, AUTHORIZATION_URL, type SpawnedBridge } from './connect-support.js';

describeKeychain('keyhole connect with the OS keychain (real gnome-keyring)', () => {
  const keychain = new KeytarSecretStore(CONNECT_KEYCHAIN_SERVICE);
  let stack: Stack;
  let xdg: string;
  let env: Record<string, string>;
  const bridges: SpawnedBridge[] = [];

  const stored = async () => {
    const text = await keychain.get(stack.mcpUrl);
    expect(text).toBeTruthy();
    return JSON.parse(text!) as { serverUrl: string; tokens: { access_token: string; refresh_token: string }; client: { client_id: string } };
  };

  beforeAll(async () => {
    await ensureBuiltCli();
    stack = await startStack();
    xdg = mkdtempSync(join(tmpdir(), 'keyhole-connect-xdg-'));
    // Forced keychain: a broken keychain fails the run instead of falling back to a file unnoticed.
    env = childEnv({ XDG_CONFIG_HOME: xdg, KEYHOLE_CONNECT_STORE: 'keychain' });
  });

  afterAll(async () => {
    for (const b of bridges) await b.close().catch(() => undefined);
    if (stack) await keychain.delete(stack.mcpUrl).catch(() => false);
    await stack?.close();
    if (xdg) rmSync(xdg, { recursive: true, force: true });
  });

  it('signs in on first use and keeps the registration and tokens in the keychain, not on disk', async () => {
    expect(await keychain.get(stack.mcpUrl)).toBeNull();
    const bridge = spawnBridge(stack.mcpUrl, env);
    bridges.push(bridge);
    await withSignIn(bridge, 'bob', () => bridge.client.connect(bridge.transport));
    const who = JSON.parse(textOf(await bridge.client.callTool({ name: 'whoami', arguments: {} })));
    expect(who.sub).toBe('bob');
    expect((await bridge.client.listTools()).tools.map((t) => t.name)).toContain('echo');

    const record = await stored();
    expect(record.serverUrl).toBe(stack.mcpUrl);
    expect(record.tokens.refresh_token).toMatch(/^kh_rt_/);
    expect(await stack.keyhole.store.clients.find(record.client.client_id)).toBeDefined(); // the DCR registration keyhole holds
    expect(existsSync(join(xdg, 'keyhole'))).toBe(false);
    expect(bridge.stderr()).not.toContain('plain text');
    expect(bridge.stderr()).not.toContain(record.tokens.refresh_token);
    expect(await consentApprovals(stack)).toBe(1);
  });

  it('reuses the keychain tokens on the next run: no authorization URL, no new consent', async () => {
    await bridges[0]!.close();
    const again = spawnBridge(stack.mcpUrl, env);
    bridges.push(again);
    await again.client.connect(again.transport);
    expect(textOf(await again.client.callTool({ name: 'echo', arguments: { text: 'from the keychain' } }))).toContain('from the keychain');
    expect(again.stderr()).not.toMatch(AUTHORIZATION_URL);
    expect(await consentApprovals(stack)).toBe(1);
  });

  it('signs in again after an admin revocation and replaces the keychain record', async () => {
    const before = await stored();
    const bridge = bridges.at(-1)!;
    expect(await revokeAllGrants(stack)).toBe(1);
    const { result } = await withSignIn(bridge, 'bob', () => bridge.client.callTool({ name: 'whoami', arguments: {} }));
    expect(JSON.parse(textOf(result)).sub).toBe('bob');
    expect(await consentApprovals(stack)).toBe(2);
    const after = await stored();
    expect(after.tokens.refresh_token).not.toBe(before.tokens.refresh_token);
    expect(after.client.client_id).toBe(before.client.client_id); // the registration survives a refused refresh
  });
});
