/**
 * The `keyhole connect` command line, run as a user would (bin/keyhole.js): help, usage errors, and how the token
 * store is chosen when there is no OS keychain (no D-Bus session): auto falls back to the file store and says so on
 * stderr; a forced keychain refuses to run. stdout stays empty in every case (it belongs to MCP).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuiltCli, runCli } from '../helpers/keyhole-cli.js';

describe('keyhole connect command line', () => {
  let xdg: string;
  /** Our environment without a session bus or display: keytar cannot reach a Secret Service. */
  const noKeychainEnv = () => {
    const env: NodeJS.ProcessEnv = { ...process.env, XDG_CONFIG_HOME: xdg };
    delete env.DBUS_SESSION_BUS_ADDRESS;
    delete env.DISPLAY;
    delete env.KEYHOLE_CONNECT_STORE;
    return env;
  };

  beforeAll(async () => {
    await ensureBuiltCli();
    xdg = mkdtempSync(join(tmpdir(), 'keyhole-connect-cli-'));
  });
  afterAll(() => rmSync(xdg, { recursive: true, force: true }));

  it('prints usage, options and an example for --help and exits 0', async () => {
    const r = await runCli(['connect', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage:\n {2}keyhole connect <mcp-url> \[options\]$/m);
    for (const option of ['--header', '--client-metadata-url', '--store', '--no-browser', '--callback-port', '--auth-timeout', 'KEYHOLE_CONNECT_BROWSER=none']) expect(r.stdout).toContain(option);
    expect(r.stdout).toContain('claude_desktop_config.json');
    expect(r.stdout).toContain('keyhole connect https://keyhole.example.com/mcp/github');
    expect(r.stderr).toBe('');
    const top = await runCli(['--help']);
    expect(top.stdout).toContain('keyhole connect <mcp-url>');
  });

  it('exits 2 with the reason on stderr for a missing URL, a bad header or a non-https remote URL', async () => {
    for (const [args, reason] of [
      [['connect'], 'needs the MCP server URL'],
      [['connect', 'https://kh.example.com/mcp/a', '--header', 'no-colon'], "--header needs 'Name: value'"],
      [['connect', 'https://kh.example.com/mcp/a', '--header', 'Authorization: Bearer x'], 'sets this header itself'],
      [['connect', 'http://kh.example.com/mcp/a'], 'use https'],
      [['connect', 'https://kh.example.com/mcp/a', '--client-metadata-url', 'http://kh.example.com/client.json'], 'must be an https URL'],
      [['connect', 'https://kh.example.com/mcp/a', '--store', 'disk'], 'must be auto, keychain or file'],
    ] as const) {
      const r = await runCli([...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(reason);
      expect(r.stdout).toBe('');
    }
  });

  it.runIf(process.platform === 'linux')('falls back to the 0600 file store without a keychain, says so on stderr, and exits 0 at stdin EOF', async () => {
    const r = await runCli(['connect', 'http://127.0.0.1:9/mcp'], { env: noKeychainEnv(), timeoutMs: 20_000 });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('the OS keychain is not usable');
    expect(r.stderr).toContain(`tokens are kept in plain text in ${join(xdg, 'keyhole', 'connect')}`);
    expect(r.stderr).toContain('stdin closed');
  });

  it.runIf(process.platform === 'linux')('refuses to run with --store keychain when there is no keychain', async () => {
    const r = await runCli(['connect', 'http://127.0.0.1:9/mcp', '--store', 'keychain'], { env: noKeychainEnv(), timeoutMs: 20_000 });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('no usable OS keychain');
    expect(r.stderr).not.toContain('plain text');
  });
});
