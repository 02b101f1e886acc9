/**
 * `keyhole serve` refuses to start — with a message saying what to do, never a stack trace, never a silent
 * fallback — when the vault or the key source cannot work: keytar missing, no Secret Service, a key file readable
 * by others, no master key. And `keyhole keys init` creates keys but never overwrites one. Real CLI, child process.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuiltCli, ROOT, runCli } from '../helpers/keyhole-cli.js';
import { parseKeyring } from '../../src/vault/keyring-format.js';

let dir: string;
const NO_DBUS = { DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/keyhole-test-bus', DISPLAY: '' };

function config(name: string, over: Record<string, unknown>): string {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify({
    publicUrl: 'http://127.0.0.1:1',
    listen: { host: '127.0.0.1', port: 0 },
    storage: { sqlite: join(dir, `${name}.db`), vault: 'sqlite' },
    servers: { demo: { upstream: 'http://127.0.0.1:9/mcp', oauth: { issuer: 'http://127.0.0.1:9', clientId: 'keyhole', clientSecret: 'x' } } },
    ...over,
  }));
  return file;
}

const env = (extra: Record<string, string | undefined> = {}) => {
  const e: NodeJS.ProcessEnv = { ...process.env, KEYHOLE_MASTER_KEY: randomBytes(32).toString('base64url'), ...extra };
  for (const [k, v] of Object.entries(e)) if (v === undefined) delete e[k];
  return e;
};

function expectRefusal(r: { code: number | null; signal: string | null; stdout: string; stderr: string }): void {
  expect(r.signal).toBeNull(); // it exited by itself
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/^keyhole: /);
  expect(r.stderr).not.toContain('keyhole.listening');
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
}

beforeAll(async () => {
  await ensureBuiltCli();
  dir = mkdtempSync(join(tmpdir(), 'keyhole-startup-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('keyhole serve refuses to start', () => {
  it('with storage.vault "keychain" and no Secret Service, saying what to install', async () => {
    const r = await runCli(['serve', '--config', config('nobus', { storage: { sqlite: join(dir, 'nobus.db'), vault: 'keychain' } })], { env: env(NO_DBUS), timeoutMs: 20_000 });
    expectRefusal(r);
    expect(r.stderr).toContain('no usable OS keychain');
    expect(r.stderr).toContain('gnome-keyring');
    expect(r.stderr).toContain('dbus-run-session');
    expect(r.stderr).toContain('does not fall back') ;
  });

  it('with storage.vault "keychain" and keytar not installed, naming libsecret-1-dev and npm rebuild keytar', async () => {
    const r = await runCli(['serve', '--config', config('nokeytar', { storage: { sqlite: join(dir, 'nokeytar.db'), vault: 'keychain' } })], {
      env: env(), nodeArgs: ['--require', join(ROOT, 'test', 'fixtures', 'no-keytar.cjs')], timeoutMs: 20_000,
    });
    expectRefusal(r);
    expect(r.stderr).toContain('keytar');
    expect(r.stderr).toContain('libsecret-1-dev');
    expect(r.stderr).toContain('npm rebuild keytar');
  });

  it('with keys.source "keychain" and no Secret Service', async () => {
    const r = await runCli(['serve', '--config', config('keysnobus', { keys: { source: 'keychain' } })], { env: env(NO_DBUS), timeoutMs: 20_000 });
    expectRefusal(r);
    expect(r.stderr).toContain('Secret Service');
  });

  it('with a key file readable by others, naming the mode and chmod 600', async () => {
    const keyFile = join(dir, 'wide.key');
    writeFileSync(keyFile, randomBytes(32).toString('base64url'));
    chmodSync(keyFile, 0o644);
    const r = await runCli(['serve', '--config', config('wide', { keys: { source: 'file', file: keyFile } })], { env: env(), timeoutMs: 20_000 });
    expectRefusal(r);
    expect(r.stderr).toContain(`key file ${keyFile} has mode 0644, which is wider than 0600`);
    expect(r.stderr).toContain(`chmod 600 ${keyFile}`);
  });

  it('without KEYHOLE_MASTER_KEY (keys.source "env")', async () => {
    const r = await runCli(['serve', '--config', config('nokey', {})], { env: env({ KEYHOLE_MASTER_KEY: undefined }), timeoutMs: 20_000 });
    expectRefusal(r);
    expect(r.stderr).toContain('KEYHOLE_MASTER_KEY is not set');
    expect(r.stderr).toContain('keyhole keys init');
  });
});

describe('keyhole keys init', () => {
  it('creates a 0600 key file once and refuses to overwrite it', async () => {
    const keyFile = join(dir, 'init.key');
    const cfg = config('init', { keys: { source: 'file', file: keyFile } });
    const first = await runCli(['keys', 'init', '--config', cfg], { env: env() });
    expect(first.code).toBe(0);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const ring = parseKeyring(readFileSync(keyFile, 'utf8'), 'f');
    expect(first.stdout).toContain(`with key ${ring.current}`);
    expect(first.stdout).not.toContain(Buffer.from(ring.keys.get(ring.current)!).toString('base64url'));
    const before = readFileSync(keyFile, 'utf8');
    const again = await runCli(['keys', 'init', '--config', cfg], { env: env() });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already exists; keyhole keys init refuses to overwrite it');
    expect(readFileSync(keyFile, 'utf8')).toBe(before);
  });

  it('with keys.source "env" prints a new key when none is set, and refuses when one is', async () => {
    const cfg = config('initenv', {});
    const made = await runCli(['keys', 'init', '--config', cfg], { env: env({ KEYHOLE_MASTER_KEY: undefined }) });
    expect(made.code).toBe(0);
    expect(made.stdout).toMatch(/^KEYHOLE_MASTER_KEY=[A-Za-z0-9_-]{43}\n$/);
    const refused = await runCli(['keys', 'init', '--config', cfg], { env: env() });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('KEYHOLE_MASTER_KEY is already set');
  });

  it('keys rotate with keys.source "env" and nothing to re-encrypt explains how to rotate env keys', async () => {
    const r = await runCli(['keys', 'rotate', '--config', config('rotenv', {})], { env: env() });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('KEYHOLE_MASTER_KEYS_OLD');
  });
});
