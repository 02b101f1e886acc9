/**
 * Master-key rotation end to end: a real grant (SDK client → keyhole consent → oidc-provider) made under key A,
 * 5,000 more grants seeded under A, `keyhole keys rotate` run as a child process and killed with SIGKILL after its
 * first batch committed, run again (it resumes), key A retired — and the real grant keeps working through each
 * restart, with an upstream refresh on every call (the refresh token is opened each time). A wrong key at startup
 * fails at once, naming the counts.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../helpers/stack.js';
import { connectThroughKeyhole, reconnect, type ConnectedClient } from '../helpers/sdk-client.js';
import { ensureBuiltCli, runCli, startCli, waitForOutput, writeCliConfig } from '../helpers/keyhole-cli.js';
import { createKeyhole, type Keyhole } from '../../src/keyhole.js';
import { VaultCipher, keyringFromMasterKey, type Keyring } from '../../src/store/crypto/vault-cipher.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { loadKeyring } from '../../src/vault/key-sources.js';
import { parseKeyring, serializeKeyring } from '../../src/vault/keyring-format.js';
import { sealedUsageByKid } from '../../src/vault/key-rotation.js';
import { UndecryptableEntriesError } from '../../src/vault/errors.js';
import { UpstreamVault } from '../../src/vault/upstream-vault.js';
import { sealContext } from '../../src/upstream/seal-context.js';
import { randomId } from '../../src/store/crypto/hash.js';

const SEEDED = 5_000;
const BATCH = 250;

function textOf(result: unknown): string {
  return (result as { content: Array<{ text: string }> }).content.map((c) => c.text).join('');
}

describe('keys rotate: kill mid-way, resume, retire the old key (real grant, CLI child process)', () => {
  let dir: string;
  let keyFile: string;
  let cfgFile: string;
  let stack: Stack;
  let keyA: Keyring;
  let conn: ConnectedClient;
  let grantId: string;
  let running: Keyhole | undefined;
  const seeded = new Map<string, { access: string; refresh: string }>();

  const refreshes = async () => (await running!.store.events.list({ type: 'upstream.token_refreshed', grantId, limit: 500 })).length;

  /** keyhole again on the same port, database and key file (as `keyhole serve` would load it). */
  async function restart(): Promise<Keyhole> {
    const keyring = await loadKeyring(stack.config);
    running = await createKeyhole({ config: stack.config, keyring, log: (l) => stack.logs.push(l) });
    await running.listen();
    return running;
  }

  async function stop(): Promise<void> {
    await conn?.client.close().catch(() => undefined);
    await running?.close();
    running = undefined;
  }

  /** whoami through keyhole; with the refresh skew above the upstream TTL, every call refreshes upstream first. */
  async function callWorks(): Promise<void> {
    const before = await refreshes();
    conn = { ...conn, ...(await reconnect(stack.mcpUrl, conn.provider)) };
    const who = JSON.parse(textOf(await conn.client.callTool({ name: 'whoami', arguments: {} })));
    expect(who.sub).toBe('alice');
    expect(await refreshes()).toBeGreaterThan(before); // the stored refresh token was opened and used
  }

  beforeAll(async () => {
    await ensureBuiltCli();
    dir = mkdtempSync(join(tmpdir(), 'keyhole-rotation-'));
    keyFile = join(dir, 'keyhole.key');
    const a = randomBytes(32).toString('base64url');
    keyA = keyringFromMasterKey(a);
    writeFileSync(keyFile, serializeKeyring(keyA), { mode: 0o600 });
    stack = await startStack({
      dir,
      masterKey: a,
      config: { keys: { source: 'file', file: keyFile }, tokens: { upstreamRefreshSkewSeconds: 3_600 } },
    });
    running = stack.keyhole;
    cfgFile = writeCliConfig(stack, join(dir, 'keyhole.json'));
  });

  afterAll(async () => {
    await stop();
    await stack?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('makes a real grant under key A', async () => {
    conn = await connectThroughKeyhole(stack.mcpUrl, { login: 'alice' });
    const who = JSON.parse(textOf(await conn.client.callTool({ name: 'whoami', arguments: {} })));
    expect(who.sub).toBe('alice');
    const grants = await stack.keyhole.store.grants.list({ status: 'active' });
    expect(grants).toHaveLength(1);
    grantId = grants[0]!.id;
    expect((await sealedUsageByKid(stack.keyhole.store)).map((u) => u.kid)).toEqual([keyA.current]);
  });

  it(`seeds ${SEEDED} more grants sealed under key A (keyhole stopped)`, async () => {
    await stop();
    const store = openSqliteStore(stack.dbPath);
    const cipher = new VaultCipher(keyA);
    const rows: Array<{ id: string; access: string; refresh: string }> = [];
    for (let i = 0; i < SEEDED; i++) {
      const id = randomId('g');
      const access = `seed-access-${i}-${randomBytes(6).toString('hex')}`;
      const refresh = `seed-refresh-${i}-${randomBytes(6).toString('hex')}`;
      seeded.set(id, { access, refresh });
      rows.push({ id, access: await cipher.seal(access, sealContext.access(id)), refresh: await cipher.seal(refresh, sealContext.refresh(id)) });
    }
    await store.transaction(async (tx) => {
      for (const r of rows) {
        await tx.grants.create({ id: r.id, clientId: 'c_seeded', server: 'demo', subject: `seed-${r.id}`, subjectName: null, scopes: ['mcp'], status: 'active', statusReason: null, createdAt: 1, lastUsedAt: null, revokedAt: null, person: null });
        await tx.upstreamCredentials.put({ grantId: r.id, accessToken: r.access, accessExpiresAt: 4_000_000_000, refreshToken: r.refresh, scopes: ['mcp:tools'], updatedAt: 1, refreshFailingSince: null });
      }
    });
    expect(await sealedUsageByKid(store)).toEqual([{ kid: keyA.current, byField: expect.objectContaining({ upstream_access: SEEDED + 1, upstream_refresh: SEEDED + 1, pending_verifier: 0, sealed_secret: 1 }), total: 2 * (SEEDED + 1) + 1 }]); // + the shared consent key
    await store.close();
  });

  it('a rotation killed (SIGKILL) after its first batch leaves whole batches, both keys stored, everything readable', async () => {
    const run = startCli(['keys', 'rotate', '--config', cfgFile, '--batch-size', String(BATCH), '--pause-ms', '100']);
    await waitForOutput(run, (out) => /batch 1: re-encrypted/.test(out));
    run.child.kill('SIGKILL');
    const result = await run.done;
    expect(result.signal).toBe('SIGKILL');
    expect(result.stdout).toMatch(/added key k_\S+ to the key file/);

    const ring = parseKeyring(readFileSync(keyFile, 'utf8'), 'key file');
    expect(ring.keys.size).toBe(2);
    expect(ring.current).not.toBe(keyA.current);
    expect(ring.keys.has(keyA.current)).toBe(true);

    const store = openSqliteStore(stack.dbPath);
    const usage = new Map((await sealedUsageByKid(store)).map((u) => [u.kid, u.total]));
    const underB = usage.get(ring.current) ?? 0;
    const underA = usage.get(keyA.current) ?? 0;
    expect(underB).toBeGreaterThanOrEqual(BATCH);
    expect(underB % BATCH).toBe(0); // each batch committed whole, in one transaction
    expect(underA).toBeGreaterThan(0); // really interrupted mid-way
    expect(underA + underB).toBe(2 * (SEEDED + 1) + 1);
    await store.close();

    // The old key cannot be retired while entries still use it.
    const retire = await runCli(['keys', 'retire', keyA.current, '--config', cfgFile]);
    expect(retire.code).toBe(1);
    expect(retire.stderr).toContain(`entries still use ${keyA.current}`);
  });

  it('the interrupted state serves: the real grant works with keys A+B', async () => {
    await restart();
    await callWorks();
    await stop();
  });

  it('running rotate again resumes (no new key) and finishes', async () => {
    const before = parseKeyring(readFileSync(keyFile, 'utf8'), 'key file');
    const result = await runCli(['keys', 'rotate', '--config', cfgFile, '--batch-size', '1000']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^resuming: \d+ entries are not under the current key/);
    expect(result.stdout).not.toContain('added key');
    expect(result.stdout).toMatch(/; 0 not under it/);
    expect(parseKeyring(readFileSync(keyFile, 'utf8'), 'key file')).toEqual(before);

    const status = await runCli(['keys', 'status', '--config', cfgFile]);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`${before.current}\\s+current\\s+${SEEDED + 1}\\s+${SEEDED + 1}\\s+0\\s+1\\s+${2 * (SEEDED + 1) + 1}`));
    expect(status.stdout).toMatch(new RegExp(`${keyA.current}\\s+old\\s+0\\s+0\\s+0\\s+0\\s+0`));
    expect(status.stdout).toContain(`no entry uses ${keyA.current}`);
  });

  it('after key A is retired, keyhole starts with key B alone and every grant still works', async () => {
    const retire = await runCli(['keys', 'retire', keyA.current, '--config', cfgFile]);
    expect(retire.code).toBe(0);
    const ring = parseKeyring(readFileSync(keyFile, 'utf8'), 'key file');
    expect([...ring.keys.keys()]).toEqual([ring.current]);

    const refuse = await runCli(['keys', 'retire', ring.current, '--config', cfgFile]);
    expect(refuse.code).toBe(1);
    expect(refuse.stderr).toContain('is the current key');

    const kh = await restart();
    await callWorks();
    await callWorks(); // the rotated upstream refresh token was persisted under B, and opens again
    // Every seeded grant opens under B alone.
    const vault = new UpstreamVault({ store: kh.store, cipher: new VaultCipher(ring), backend: 'sqlite', keychain: undefined });
    for (const [id, v] of seeded) {
      const entry = await vault.get(id);
      expect(await entry!.openAccessToken()).toBe(v.access);
      expect(await entry!.openRefreshToken()).toBe(v.refresh);
    }
    await stop();
  });

  it('a wrong key at startup fails at once and names the counts (keyhole serve and createKeyhole)', async () => {
    const ring = parseKeyring(readFileSync(keyFile, 'utf8'), 'key file');
    const wrong = keyringFromMasterKey(randomBytes(32).toString('base64url'));
    const wrongFile = join(dir, 'wrong.key');
    writeFileSync(wrongFile, serializeKeyring(wrong), { mode: 0o600 });
    const wrongCfg = writeCliConfig(stack, join(dir, 'wrong.json'), { keys: { source: 'file', file: wrongFile } });
    const total = 2 * (SEEDED + 1) + 1; // + the shared consent key (src/vault/shared-keys.ts)

    const serve = await runCli(['serve', '--config', wrongCfg], { timeoutMs: 20_000 });
    expect(serve.signal).toBeNull(); // it exited by itself, it did not have to be killed
    expect(serve.code).toBe(1);
    expect(serve.stderr).toContain(`cannot decrypt ${total} stored vault entries`);
    expect(serve.stderr).toContain(`${ring.current}: ${total} entries (${SEEDED + 1} upstream access tokens, ${SEEDED + 1} upstream refresh tokens, 1 sealed static secret)`);
    expect(serve.stderr).not.toContain('keyhole.listening');
    expect(serve.stderr).not.toMatch(/\n\s+at /); // no stack trace

    const config = { ...stack.config, keys: { source: 'file' as const, file: wrongFile } };
    await expect(createKeyhole({ config, keyring: wrong })).rejects.toThrow(UndecryptableEntriesError);
  });
});
