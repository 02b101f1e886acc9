/**
 * The OS keychain vault end to end, against a real gnome-keyring (run inside scripts/with-keyring.sh):
 * - canary: with storage.vault "keychain", no upstream refresh token value reaches the SQLite files (.db, -wal, -shm);
 *   revoking the grant deletes its keychain entry;
 * - migration sqlite → keychain → sqlite with `keyhole vault migrate` (child process, keyhole stopped), one run killed
 *   with SIGKILL mid-way and run again, and real grants working after each step through the SDK client, with an
 *   upstream refresh on every call (so the refresh token is read from, and rotated into, the vault of the moment).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startStack, type Stack } from '../helpers/stack.js';
import { connectThroughKeyhole, reconnect, type ConnectedClient } from '../helpers/sdk-client.js';
import { ensureBuiltCli, runCli, startCli, waitForOutput, writeCliConfig } from '../helpers/keyhole-cli.js';
import { describeKeychain, testInstanceName, vaultKeychain, wipe } from '../helpers/keychain.js';
import { createKeyhole, type Keyhole } from '../../src/keyhole.js';
import { VaultCipher, keyringFromMasterKey } from '../../src/store/crypto/vault-cipher.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { randomId } from '../../src/store/crypto/hash.js';
import { sealContext } from '../../src/upstream/seal-context.js';
import { UpstreamVault } from '../../src/vault/upstream-vault.js';
import type { KeyholeConfig } from '../../src/config/schema.js';

/** Grants seeded besides the real ones (gnome-keyring rewrites its file on every change: keep this modest). */
const SEEDED = 150;
const TOTAL = SEEDED + 2;

function textOf(result: unknown): string {
  return (result as { content: Array<{ text: string }> }).content.map((c) => c.text).join('');
}

/** Every upstream refresh token oidc-provider hands out (code exchange and each rotation). */
function captureUpstreamRefreshTokens(stack: Stack): Set<string> {
  const seen = new Set<string>();
  stack.as.provider.on('grant.success', (ctx: { body?: Record<string, unknown> }) => {
    if (typeof ctx.body?.refresh_token === 'string') seen.add(ctx.body.refresh_token);
  });
  return seen;
}

function sqliteBytes(dbPath: string): Buffer {
  return Buffer.concat(['', '-wal', '-shm'].map((s) => dbPath + s).filter((f) => existsSync(f)).map((f) => readFileSync(f)));
}

describeKeychain('keychain vault end to end (real gnome-keyring)', () => {
  let dir: string;
  let stack: Stack;
  let instanceName: string;
  const clients: ConnectedClient[] = [];

  beforeAll(async () => {
    await ensureBuiltCli();
  });
  afterAll(async () => {
    for (const c of clients) await c.client.close().catch(() => undefined);
    if (instanceName) await wipe(vaultKeychain(instanceName));
  });

  it('canary: no upstream refresh token value in the SQLite files; revoking deletes the keychain entry', async () => {
    dir = mkdtempSync(join(tmpdir(), 'keyhole-keychain-'));
    instanceName = testInstanceName();
    stack = await startStack({
      dir,
      config: {
        instanceName,
        storage: { sqlite: join(dir, 'keyhole.db'), vault: 'keychain' },
        tokens: { upstreamRefreshSkewSeconds: 3_600 }, // every call refreshes upstream: new refresh tokens each time
      },
    });
    const refreshTokens = captureUpstreamRefreshTokens(stack);
    try {
      const conn = await connectThroughKeyhole(stack.mcpUrl, { login: 'carol' });
      clients.push(conn);
      for (let i = 0; i < 3; i++) {
        expect(JSON.parse(textOf(await conn.client.callTool({ name: 'whoami', arguments: {} }))).sub).toBe('carol');
      }
      const [grant] = await stack.keyhole.store.grants.list({ status: 'active' });
      const keychain = vaultKeychain(instanceName);
      expect(refreshTokens.size).toBeGreaterThanOrEqual(4); // the code exchange + 3 rotations
      expect(await stack.keyhole.store.upstreamCredentials.find(grant!.id)).toMatchObject({ refreshToken: null, refreshInKeychain: true });
      const current = await keychain.get(grant!.id);
      expect(refreshTokens.has(current!)).toBe(true); // the latest one lives in the keychain
      expect(await keychain.accounts()).toEqual([grant!.id]);

      const bytes = sqliteBytes(stack.dbPath);
      expect(bytes.includes(Buffer.from(grant!.id))).toBe(true); // the scan does see what the files hold
      for (const token of refreshTokens) expect(bytes.includes(Buffer.from(token)), 'an upstream refresh token is in the SQLite files').toBe(false);
      expect((await stack.keyhole.store.vaultEntries.countByKid()).some((c) => c.field === 'upstream_refresh')).toBe(false);

      expect(await stack.keyhole.revoker.revoke(grant!.id, 'admin_revoked', 'admin')).toBe(true);
      expect(await keychain.get(grant!.id)).toBeNull();
      expect(await keychain.accounts()).toEqual([]);
      const revoked = await stack.keyhole.store.events.list({ type: 'grant.revoked', grantId: grant!.id });
      expect(revoked[0]?.detail).toMatchObject({ reason: 'admin_revoked', keychain: 'deleted' });
    } finally {
      await stack.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);

  it('vault migrate sqlite → keychain → sqlite (one run killed mid-way) keeps every grant working end to end', async () => {
    dir = mkdtempSync(join(tmpdir(), 'keyhole-migrate-'));
    instanceName = testInstanceName();
    const masterKey = randomBytes(32).toString('base64url');
    stack = await startStack({
      dir,
      masterKey,
      config: { instanceName, tokens: { upstreamRefreshSkewSeconds: 3_600 } },
    });
    const env = { ...process.env, KEYHOLE_MASTER_KEY: masterKey };
    const cfgFile = writeCliConfig(stack, join(dir, 'keyhole.json'));
    const keychain = vaultKeychain(instanceName);
    const keyring = keyringFromMasterKey(masterKey);
    let running: Keyhole | undefined = stack.keyhole;
    const users = ['alice', 'bob'];
    const conns = new Map<string, ConnectedClient>();

    const refreshCount = async () => await running!.store.events.count({ type: 'upstream.token_refreshed' });
    async function callAll(): Promise<void> {
      for (const user of users) {
        const before = await refreshCount();
        const prev = conns.get(user)!;
        await prev.client.close().catch(() => undefined);
        const next = { ...prev, ...(await reconnect(stack.mcpUrl, prev.provider)) };
        conns.set(user, next);
        clients.push(next);
        expect(JSON.parse(textOf(await next.client.callTool({ name: 'whoami', arguments: {} }))).sub).toBe(user);
        expect(await refreshCount()).toBeGreaterThan(before); // the refresh token was read from the vault and the rotated one stored
      }
    }
    async function restart(vault: 'sqlite' | 'keychain'): Promise<void> {
      const config: KeyholeConfig = { ...stack.config, storage: { ...stack.config.storage, vault: vault === 'keychain' ? 'keychain' : 'database' } };
      running = await createKeyhole({ config, keyring, log: (l) => stack.logs.push(l) });
      await running.listen();
    }
    async function stop(): Promise<void> {
      for (const c of conns.values()) await c.client.close().catch(() => undefined);
      await running?.close();
      running = undefined;
    }

    try {
      for (const user of users) {
        const c = await connectThroughKeyhole(stack.mcpUrl, { login: user });
        conns.set(user, c);
        clients.push(c);
      }
      await callAll();
      await stop();

      // More grants in the SQLite vault, so that a migration can be killed mid-way.
      const seeded = new Map<string, string>();
      {
        const store = openSqliteStore(stack.dbPath);
        const vault = new UpstreamVault({ store, cipher: new VaultCipher(keyring), backend: 'sqlite', keychain: undefined });
        for (let i = 0; i < SEEDED; i++) {
          const id = randomId('g');
          await store.grants.create({ id, clientId: 'c_seeded', server: 'demo', subject: `seed-${i}`, subjectName: null, scopes: ['mcp'], status: 'active', statusReason: null, createdAt: 1, lastUsedAt: null, revokedAt: null, person: null });
          const refresh = `seed-refresh-${i}-${randomBytes(6).toString('hex')}`;
          seeded.set(id, refresh);
          await vault.put(id, { accessToken: `seed-access-${i}`, accessExpiresAt: 4_000_000_000, refreshToken: refresh, scopes: ['mcp:tools'], updatedAt: 1 });
        }
        expect(await store.upstreamCredentials.countRefreshLocations()).toEqual({ sqlite: TOTAL, keychain: 0, none: 0 });
        await store.close();
      }

      // → keychain, killed after its first batch, then run again.
      const first = startCli(['vault', 'migrate', '--to', 'keychain', '--config', cfgFile, '--batch-size', '10'], { env });
      await waitForOutput(first, (out) => /moved \d+; \d+ left/.test(out));
      first.child.kill('SIGKILL');
      expect((await first.done).signal).toBe('SIGKILL');
      {
        const store = openSqliteStore(stack.dbPath);
        const where = await store.upstreamCredentials.countRefreshLocations();
        expect(where.keychain).toBeGreaterThan(0);
        expect(where.sqlite).toBeGreaterThan(0); // really interrupted
        expect(where.sqlite + where.keychain).toBe(TOTAL);
        // Whatever the interruption left, every refresh token opens (the row says where it is).
        const vault = new UpstreamVault({ store, cipher: new VaultCipher(keyring), backend: 'keychain', keychain });
        for (const [id, refresh] of seeded) expect(await (await vault.get(id))!.openRefreshToken()).toBe(refresh);
        await store.close();
      }
      const second = await runCli(['vault', 'migrate', '--to', 'keychain', '--config', cfgFile], { env });
      expect(second.stderr).toBe('');
      expect(second.code).toBe(0);
      expect(second.stdout).toContain(`now 0 in SQLite, ${TOTAL} in the OS keychain`);
      expect(second.stdout).toContain('set "storage": {"vault": "keychain"}');
      expect((await keychain.accounts()).length).toBe(TOTAL);

      await restart('keychain');
      await callAll();
      expect(await running!.store.upstreamCredentials.countRefreshLocations()).toEqual({ sqlite: 0, keychain: TOTAL, none: 0 });
      await stop();

      // → sqlite.
      const back = await runCli(['vault', 'migrate', '--to', 'sqlite', '--config', cfgFile], { env });
      expect(back.stderr).toBe('');
      expect(back.code).toBe(0);
      expect(back.stdout).toContain(`now ${TOTAL} in SQLite, 0 in the OS keychain`);
      expect(await keychain.accounts()).toEqual([]);

      await restart('sqlite');
      await callAll();
      expect(await running!.store.upstreamCredentials.countRefreshLocations()).toEqual({ sqlite: TOTAL, keychain: 0, none: 0 });
      {
        const vault = new UpstreamVault({ store: running!.store, cipher: new VaultCipher(keyring), backend: 'sqlite', keychain: undefined });
        for (const [id, refresh] of seeded) expect(await (await vault.get(id))!.openRefreshToken()).toBe(refresh);
      }
      const status = await runCli(['vault', 'status', '--config', cfgFile], { env });
      expect(status.stdout).toContain(`${TOTAL} sealed in SQLite, 0 in the OS keychain`);
      await stop();
    } finally {
      await stop();
      await stack.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
