/**
 * `keyhole check --config FILE` against real peers: one line per check, exit 0 when all pass, exit 1 naming every
 * failure (a typo'd field, a missing directory, a wrong master key, an unreachable issuer).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startStack, type Stack } from '../helpers/stack.js';
import { connectThroughKeyhole } from '../helpers/sdk-client.js';
import { ensureBuiltCli, runCli, writeCliConfig } from '../helpers/keyhole-cli.js';
import { freePort } from '../helpers/free-port.js';

describe('keyhole check', () => {
  let stack: Stack;
  let good: string;
  const env = (masterKey: string) => ({ PATH: process.env.PATH ?? '', KEYHOLE_MASTER_KEY: masterKey });

  beforeAll(async () => {
    await ensureBuiltCli();
    stack = await startStack();
    const conn = await connectThroughKeyhole(stack.mcpUrl, { login: 'alice' }); // a sealed upstream token in the database
    await conn.client.close();
    good = writeCliConfig(stack, join(stack.dir, 'good.json'));
  }, 180_000);
  afterAll(async () => stack?.close());

  /** The good config with `edit` applied to its JSON. */
  function variant(name: string, edit: (c: Record<string, any>) => void): string {
    const c = JSON.parse(readFileSync(good, 'utf8')) as Record<string, any>;
    edit(c);
    const file = join(stack.dir, name);
    writeFileSync(file, JSON.stringify(c, null, 2));
    return file;
  }

  it('passes on a good config, one line per check', async () => {
    const r = await runCli(['check', '--config', good], { env: env(stack.masterKey) });
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n').filter(Boolean)).toEqual([
      `ok   config: ${good} is valid (1 server(s))`,
      `ok   storage: ${stack.dbPath} is writable`,
      'ok   keyring: 1 key(s) from environment variables KEYHOLE_MASTER_KEY (+ KEYHOLE_MASTER_KEYS_OLD) open every stored entry',
      `ok   upstream demo: oauth-authorization-server of ${stack.as.issuer} (token endpoint ${stack.as.issuer}/token)`,
      'all 4 checks passed',
    ]);
    expect(r.code).toBe(0);
  });

  it('names a typo\'d field and the closest known key', async () => {
    const file = variant('typo.json', (c) => {
      c.servers.demo.oauth.clientSecrt = c.servers.demo.oauth.clientSecret;
      delete c.servers.demo.oauth.clientSecret;
    });
    const r = await runCli(['check', '--config', file], { env: env(stack.masterKey) });
    expect(r.stdout).toContain('FAIL config: servers.demo.oauth: unknown key "clientSecrt": did you mean "clientSecret"?\n');
    expect(r.stdout).toContain('1 of 1 checks failed: config');
    expect(r.code).toBe(1);
  });

  it('names a missing storage directory and an unreachable issuer in one run', async () => {
    const closed = await freePort();
    const file = variant('broken.json', (c) => {
      c.storage.sqlite = join(stack.dir, 'no-such-dir', 'keyhole.db');
      c.servers.demo.oauth.issuer = `http://127.0.0.1:${closed}`;
    });
    const r = await runCli(['check', '--config', file], { env: env(stack.masterKey) });
    expect(r.stdout).toContain(`FAIL storage: storage.sqlite: the directory ${join(stack.dir, 'no-such-dir')} does not exist (create it, or change storage.sqlite)\n`);
    expect(r.stdout).toContain(`FAIL upstream demo: the discovery document of http://127.0.0.1:${closed} did not load: fetch failed (ECONNREFUSED)\n`);
    expect(r.stdout).toContain('ok   config:');
    expect(r.stdout).toMatch(/2 of 4 checks failed: storage, upstream demo\n$/);
    expect(r.code).toBe(1);
  });

  it('names a wrong master key: the stored entries do not open', async () => {
    const r = await runCli(['check', '--config', good], { env: env(randomBytes(32).toString('base64url')) });
    expect(r.stdout).toMatch(/^FAIL keyring: the master keyring cannot decrypt \d+ stored vault entries: their keys are not in environment variables KEYHOLE_MASTER_KEY/m);
    expect(r.stdout).toMatch(/1 of 4 checks failed: keyring\n$/);
    expect(r.code).toBe(1);
  });

  it('names a missing master key', async () => {
    const r = await runCli(['check', '--config', good], { env: { PATH: process.env.PATH ?? '' } });
    expect(r.stdout).toMatch(/^FAIL keyring: .*KEYHOLE_MASTER_KEY/m);
    expect(r.code).toBe(1);
  });
});
