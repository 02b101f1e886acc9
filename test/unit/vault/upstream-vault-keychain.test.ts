/**
 * The keychain backend against a real Secret Service (gnome-keyring). Run inside scripts/with-keyring.sh.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { keyringFromMasterKey } from '../../../src/store/crypto/vault-cipher.js';
import { loadKeyring, keySourceFor } from '../../../src/vault/key-sources.js';
import { parseKeyring } from '../../../src/vault/keyring-format.js';
import { KeySourceError } from '../../../src/vault/errors.js';
import { keychainService, KeytarSecretStore, MASTER_KEYRING_ACCOUNT } from '../../../src/vault/secret-store.js';
import { UpstreamVault } from '../../../src/vault/upstream-vault.js';
import { migrateVault, sweepOrphans } from '../../../src/vault/vault-migration.js';
import { sealContext } from '../../../src/upstream/seal-context.js';
import { makeGrant } from '../store/store-contract.js';
import { describeKeychain, testInstanceName, vaultKeychain, wipe } from '../../helpers/keychain.js';
import { makeVaultOn, runVaultContract, secrets } from './vault-contract.js';

describeKeychain('keychain vault (real Secret Service)', () => {
  runVaultContract('keychain', async () => {
    const keychain = vaultKeychain(testInstanceName());
    const { store, vault } = makeVaultOn('keychain', keychain);
    return {
      store, vault, backend: 'keychain', keychain,
      cleanup: async () => {
        await store.close();
        await wipe(keychain);
      },
    };
  });

  let keychain: KeytarSecretStore;
  beforeEach(() => {
    keychain = vaultKeychain(testInstanceName());
  });
  afterEach(async () => {
    await wipe(keychain);
  });

  it('the row says where the refresh token is: each backend reads what the other wrote', async () => {
    const { store, cipher } = makeVaultOn('sqlite', keychain);
    const sqliteVault = new UpstreamVault({ store, cipher, backend: 'sqlite', keychain });
    const keychainVault = new UpstreamVault({ store, cipher, backend: 'keychain', keychain });
    const a = makeGrant();
    const b = makeGrant({ subject: 'user-2' });
    await store.grants.create(a);
    await store.grants.create(b);
    const sa = secrets();
    const sb = secrets();
    await sqliteVault.put(a.id, sa);
    await keychainVault.put(b.id, sb);
    for (const v of [sqliteVault, keychainVault]) {
      expect(await (await v.get(a.id))!.openRefreshToken()).toBe(sa.refreshToken);
      expect(await (await v.get(b.id))!.openRefreshToken()).toBe(sb.refreshToken);
    }
    await store.close();
  });

  it('a keychain vault moves a rotated refresh token out of the row (row first, then the keychain)', async () => {
    const { store, cipher } = makeVaultOn('sqlite', keychain);
    const g = makeGrant();
    await store.grants.create(g);
    await new UpstreamVault({ store, cipher, backend: 'sqlite', keychain }).put(g.id, secrets());
    const rotated = secrets();
    const stored = await new UpstreamVault({ store, cipher, backend: 'keychain', keychain }).put(g.id, rotated, await store.upstreamCredentials.find(g.id));
    expect(stored).toMatchObject({ refreshInKeychain: true, refreshToken: null });
    expect(await keychain.get(g.id)).toBe(rotated.refreshToken);
    await store.close();
  });

  it('a sqlite vault seals a rotated refresh token and deletes the keychain copy', async () => {
    const { store, cipher } = makeVaultOn('keychain', keychain);
    const g = makeGrant();
    await store.grants.create(g);
    await new UpstreamVault({ store, cipher, backend: 'keychain', keychain }).put(g.id, secrets());
    const rotated = secrets();
    const sqliteVault = new UpstreamVault({ store, cipher, backend: 'sqlite', keychain });
    expect(await sqliteVault.needsKeychain()).toBe(true);
    const stored = await sqliteVault.put(g.id, rotated, await store.upstreamCredentials.find(g.id));
    expect(stored?.refreshInKeychain).toBe(false);
    expect(await keychain.get(g.id)).toBeNull();
    expect(await (await sqliteVault.get(g.id))!.openRefreshToken()).toBe(rotated.refreshToken);
    expect(await sqliteVault.needsKeychain()).toBe(false);
    await store.close();
  });

  it('reports a refresh token whose keychain entry vanished as missing (null), not as an error', async () => {
    const { store, vault } = makeVaultOn('keychain', keychain);
    const g = makeGrant();
    await store.grants.create(g);
    await vault.put(g.id, secrets());
    await keychain.delete(g.id);
    const entry = await vault.get(g.id);
    expect(entry?.hasRefreshToken).toBe(true);
    expect(await entry!.openRefreshToken()).toBeNull();
    await store.close();
  });

  it('migrates sqlite → keychain → sqlite, every token intact, nothing left behind', async () => {
    const { store, cipher, vault } = makeVaultOn('sqlite', keychain);
    const grants = Array.from({ length: 25 }, () => makeGrant({ subject: randomBytes(4).toString('hex') }));
    const values = new Map<string, string>();
    for (const g of grants) {
      await store.grants.create(g);
      const s = secrets();
      values.set(g.id, s.refreshToken!);
      await vault.put(g.id, s);
    }
    const toKeychain = await migrateVault({ store, cipher, keychain, to: 'keychain', batchSize: 7 });
    expect(toKeychain).toMatchObject({ moved: 25, skipped: 0, failed: [], orphansRemoved: 0 });
    expect(await store.upstreamCredentials.countRefreshLocations()).toEqual({ sqlite: 0, keychain: 25, none: 0 });
    expect((await keychain.accounts()).sort()).toEqual([...values.keys()].sort());
    // Idempotent: a second run has nothing to do.
    expect(await migrateVault({ store, cipher, keychain, to: 'keychain' })).toMatchObject({ moved: 0, failed: [] });
    for (const g of grants) expect(await (await vault.get(g.id))!.openRefreshToken()).toBe(values.get(g.id));

    const toSqlite = await migrateVault({ store, cipher, keychain, to: 'sqlite', batchSize: 10 });
    expect(toSqlite).toMatchObject({ moved: 25, failed: [] });
    expect(await store.upstreamCredentials.countRefreshLocations()).toEqual({ sqlite: 25, keychain: 0, none: 0 });
    expect(await keychain.accounts()).toEqual([]);
    for (const g of grants) expect(await (await vault.get(g.id))!.openRefreshToken()).toBe(values.get(g.id));
    await store.close();
  });

  it('an interrupted migration leaves a readable state either way, and a new run finishes it', async () => {
    const { store, cipher, vault } = makeVaultOn('sqlite', keychain);
    const a = makeGrant();
    const b = makeGrant({ subject: 'user-2' });
    await store.grants.create(a);
    await store.grants.create(b);
    const sa = secrets();
    const sb = secrets();
    await vault.put(a.id, sa);
    await vault.put(b.id, sb);
    // Crash while moving `a` to the keychain: the keychain entry is written, the row was not updated yet.
    await keychain.set(a.id, sa.refreshToken!);
    expect(await (await vault.get(a.id))!.openRefreshToken()).toBe(sa.refreshToken);
    await migrateVault({ store, cipher, keychain, to: 'keychain' });
    // Crash while moving `b` back: the row says sqlite again, the keychain entry was not deleted yet.
    const row = (await store.upstreamCredentials.find(b.id))!;
    expect(row.refreshInKeychain).toBe(true);
    await store.upstreamCredentials.markRefreshInStore(b.id, await cipher.seal(sb.refreshToken!, sealContext.refresh(b.id)));
    for (const backend of ['sqlite', 'keychain'] as const) {
      const v = new UpstreamVault({ store, cipher, backend, keychain });
      expect(await (await v.get(a.id))!.openRefreshToken()).toBe(sa.refreshToken);
      expect(await (await v.get(b.id))!.openRefreshToken()).toBe(sb.refreshToken);
    }
    expect(await sweepOrphans(store, keychain)).toBe(1); // b's stale copy
    const result = await migrateVault({ store, cipher, keychain, to: 'sqlite' });
    expect(result).toMatchObject({ moved: 1, failed: [] });
    expect(await keychain.accounts()).toEqual([]);
    expect(await (await vault.get(a.id))!.openRefreshToken()).toBe(sa.refreshToken);
    expect(await (await vault.get(b.id))!.openRefreshToken()).toBe(sb.refreshToken);
    await store.close();
  });
});

describeKeychain('keychain key source (real Secret Service)', () => {
  let instanceName: string;
  let keysStore: KeytarSecretStore;
  beforeEach(() => {
    instanceName = testInstanceName();
    keysStore = new KeytarSecretStore(keychainService.keys(instanceName));
  });
  afterEach(async () => {
    await wipe(keysStore);
  });

  it('creates a keyring once, loads it, refuses to overwrite it, and replaces it atomically', async () => {
    const config = { instanceName, keys: { source: 'keychain' as const, file: 'unused' } };
    const source = keySourceFor(config);
    expect(source.description).toContain(`mcp-keyhole/${instanceName}/keys`);
    await expect(loadKeyring(config)).rejects.toThrow(/no master keyring in the OS keychain.*keyhole keys init/s);
    const a = keyringFromMasterKey(randomBytes(32).toString('base64url'));
    await source.create(a);
    expect(await loadKeyring(config)).toEqual(a);
    await expect(source.create(a)).rejects.toThrow(/already holds a keyring; keyhole keys init refuses to overwrite/);
    const b = keyringFromMasterKey(randomBytes(32).toString('base64url'));
    const both = { current: b.current, keys: new Map([...a.keys, ...b.keys]) };
    await source.replace(both);
    expect(await loadKeyring(config)).toEqual(both);
    // Stored as the JSON keyring, under its own service (never among the grant entries).
    expect(parseKeyring((await keysStore.get(MASTER_KEYRING_ACCOUNT))!, 'keychain')).toEqual(both);
    expect(await vaultKeychain(instanceName).accounts()).toEqual([]);
  });

  it('refuses a keychain entry that is not a keyring', async () => {
    await keysStore.set(MASTER_KEYRING_ACCOUNT, '{"hello": 1}');
    await expect(loadKeyring({ instanceName, keys: { source: 'keychain', file: 'x' } })).rejects.toBeInstanceOf(KeySourceError);
  });
});
