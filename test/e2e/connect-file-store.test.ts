/**
 * `keyhole connect` end to end with the forced file store, against a real keyhole (oidc-provider + SDK MCP server
 * upstream): the SDK's StdioClientTransport + Client spawn the command; the sign-in is driven from the URL on its
 * stderr. First run signs in, the second reuses the tokens (no URL, no consent), an expired access token is
 * refreshed without a browser, an admin revocation leads to a new sign-in; the file is 0600 in a 0700 directory.
 * A raw run checks the stdio contract: stdout carries only JSON-RPC, ids and errors pass through, stdin EOF exits 0.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuiltCli, ROOT } from '../helpers/keyhole-cli.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { BIN, childEnv, consentApprovals, revokeAllGrants, spawnBridge, textOf, withSignIn, AUTHORIZATION_URL, type SpawnedBridge } from './connect-support.js';

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

const ACCESS_TTL = 30; // keyhole's minimum: the refresh test waits this long once

describe('keyhole connect with the file store', () => {
  let stack: Stack;
  let xdg: string;
  let env: Record<string, string>;
  const bridges: SpawnedBridge[] = [];
  let storeDir: string;
  let firstSignInAt = 0;

  const recordFile = () => {
    const files = readdirSync(storeDir).filter((f) => f.endsWith('.json'));
    expect(files).toHaveLength(1);
    return join(storeDir, files[0]!);
  };
  const record = () => JSON.parse(readFileSync(recordFile(), 'utf8')) as { serverUrl: string; tokens: { access_token: string; refresh_token: string }; client: { client_id: string } };

  beforeAll(async () => {
    await ensureBuiltCli();
    stack = await startStack({ config: { tokens: { accessTokenTtlSeconds: ACCESS_TTL } } });
    xdg = mkdtempSync(join(tmpdir(), 'keyhole-connect-xdg-'));
    storeDir = join(xdg, 'keyhole', 'connect');
    env = childEnv({ XDG_CONFIG_HOME: xdg, KEYHOLE_CONNECT_STORE: 'file' });
  });

  afterAll(async () => {
    for (const b of bridges) await b.close().catch(() => undefined);
    await stack?.close();
    if (xdg) rmSync(xdg, { recursive: true, force: true });
  });

  it('signs in through the browser on first use, then lists and calls tools, with --header on every request', async () => {
    // keyhole forwards an allow-list of request headers (src/proxy/request-headers.ts): a W3C `traceparent` is one
    // that crosses it to the upstream, so it shows that --header reaches the server on every request.
    const bridge = spawnBridge(stack.mcpUrl, env, ['--header', `traceparent: ${TRACEPARENT}`]);
    bridges.push(bridge);
    const { authorizationUrl } = await withSignIn(bridge, 'alice', () => bridge.client.connect(bridge.transport));
    firstSignInAt = Date.now();
    // RFC 8252 §7.3 loopback redirect, PKCE S256, state; DCR registered the redirect with keyhole.
    const redirect = new URL(authorizationUrl.searchParams.get('redirect_uri')!);
    expect(redirect.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(redirect.pathname).toBe('/callback');
    expect(authorizationUrl.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorizationUrl.searchParams.get('state')).toMatch(/^[\w-]{20,}$/);
    expect(authorizationUrl.origin).toBe(stack.publicUrl);

    const tools = await bridge.client.listTools();
    expect(tools.tools.map((t) => t.name)).toContain('whoami');
    const who = JSON.parse(textOf(await bridge.client.callTool({ name: 'whoami', arguments: {} })));
    expect(who.sub).toBe('alice');
    expect(await consentApprovals(stack)).toBe(1);
    const tagged = stack.mcp.seenRequestHeaders.filter((h) => h.traceparent === TRACEPARENT);
    expect(tagged.length).toBeGreaterThanOrEqual(3); // initialize, tools/list, tools/call at least
    expect(bridge.stderr()).toContain('not in the OS keychain');
    expect(bridge.clientErrors).toEqual([]); // every stdout line during the sign-in parsed as JSON-RPC
  });

  it('keeps the tokens in a 0600 file in a 0700 directory, and never prints a token', () => {
    expect(statSync(storeDir).mode & 0o777).toBe(0o700);
    expect(statSync(recordFile()).mode & 0o777).toBe(0o600);
    const r = record();
    expect(r.serverUrl).toBe(stack.mcpUrl);
    expect(r.tokens.access_token).toMatch(/^kh_at_/);
    expect(r.tokens.refresh_token).toMatch(/^kh_rt_/);
    const stderr = bridges[0]!.stderr();
    expect(stderr).toContain(storeDir);
    expect(stderr).toContain('plain text');
    expect(stderr).not.toContain(r.tokens.access_token);
    expect(stderr).not.toContain(r.tokens.refresh_token);
  });

  it('reuses the stored tokens on the next run: no authorization URL, no new consent', async () => {
    await bridges[0]!.close();
    const again = spawnBridge(stack.mcpUrl, env);
    bridges.push(again);
    await again.client.connect(again.transport);
    const who = JSON.parse(textOf(await again.client.callTool({ name: 'whoami', arguments: {} })));
    expect(who.sub).toBe('alice');
    expect(again.stderr()).not.toMatch(AUTHORIZATION_URL);
    expect(again.stderr()).not.toContain('/authorize?');
    expect(await consentApprovals(stack)).toBe(1);
  });

  it('refreshes an expired access token with the stored refresh token, without a browser', async () => {
    const before = record().tokens;
    const wait = firstSignInAt + (ACCESS_TTL + 1) * 1000 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const bridge = bridges.at(-1)!;
    const who = JSON.parse(textOf(await bridge.client.callTool({ name: 'whoami', arguments: {} })));
    expect(who.sub).toBe('alice');
    const after = record().tokens;
    expect(after.access_token).not.toBe(before.access_token);
    expect(after.refresh_token).not.toBe(before.refresh_token); // keyhole rotates refresh tokens
    expect(bridge.stderr()).not.toContain('/authorize?');
    expect(await consentApprovals(stack)).toBe(1);
  }, 60_000);

  it('signs in again when the grant was revoked at the admin API (refresh refused)', async () => {
    const bridge = bridges.at(-1)!;
    expect(await revokeAllGrants(stack)).toBe(1);
    const { result } = await withSignIn(bridge, 'alice', () => bridge.client.callTool({ name: 'whoami', arguments: {} }));
    expect(JSON.parse(textOf(result)).sub).toBe('alice');
    expect(await consentApprovals(stack)).toBe(2);
    expect(await stack.keyhole.store.grants.list({ status: 'active' })).toHaveLength(1);
    expect(bridge.stderr()).toContain('refused the stored tokens');
    // The same session goes on: the next call needs nothing more.
    expect(textOf(await bridge.client.callTool({ name: 'echo', arguments: { text: 'still here' } }))).toContain('still here');
    expect(bridge.clientErrors).toEqual([]);
  });

  it('writes nothing but JSON-RPC on stdout, passes ids, notifications and errors through, and exits 0 when stdin closes', async () => {
    const child = spawn(process.execPath, [BIN, 'connect', stack.mcpUrl], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const lines = () => stdout.split('\n').filter((l) => l.length > 0);
    const answered = async (id: unknown) => {
      for (let i = 0; i < 200; i++) {
        const found = lines().map((l) => JSON.parse(l) as Record<string, unknown>).find((m) => m.id === id && !('method' in m));
        if (found) return found;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`no answer to ${String(id)}:\n${stdout}\n${stderr}`);
    };
    const send = (m: unknown) => child.stdin.write(`${JSON.stringify(m)}\n`);

    send({ jsonrpc: '2.0', id: 'init-1', method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '0' } } });
    const init = await answered('init-1');
    expect((init.result as { protocolVersion: string }).protocolVersion).toBe('2025-06-18');
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    send({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'count', arguments: { n: 2, delayMs: 10 }, _meta: { progressToken: 'p1' } } });
    send({ jsonrpc: '2.0', id: 8, method: 'no/such/method', params: {} });
    const counted = await answered(7);
    expect(textOf(counted.result)).toBe('counted 2');
    const unknown = await answered(8);
    expect((unknown.error as { code: number }).code).toBe(-32601); // the upstream SDK server's own error, unchanged
    child.stdin.end();
    expect(await exited).toBe(0);

    const messages = lines().map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const m of messages) expect(m.jsonrpc).toBe('2.0');
    const progress = messages.filter((m) => m.method === 'notifications/progress').map((m) => (m.params as { progressToken: string; progress: number }));
    expect(progress).toEqual([expect.objectContaining({ progressToken: 'p1', progress: 1 }), expect.objectContaining({ progressToken: 'p1', progress: 2 })]);
    expect(stdout.endsWith('\n')).toBe(true);
    expect(stderr).toContain('stdin closed');
  });
});
