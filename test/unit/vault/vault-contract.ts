/**
 * The upstream vault contract: one suite every vault backend must pass (like the store contract). Usage, in a
 * `*.test.ts`: runVaultContract('sqlite', async () => ({ … })).
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VaultCipher, VaultDecryptError, keyringFromMasterKey } from '../../../src/store/crypto/vault-cipher.js';
import { openSqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import type { GrantRecord, Store } from '../../../src/store/types.js';
import type { SecretStore } from '../../../src/vault/secret-store.js';
import { UpstreamVault, type UpstreamSecretsInput, type VaultBackend } from '../../../src/vault/upstream-vault.js';
import { makeGrant } from '../store/store-contract.js';

export interface VaultHandle {
  store: Store;
  vault: UpstreamVault;
  backend: VaultBackend;
  /** The keychain service the vault uses (keychain backend). */
  keychain: SecretStore | undefined;
  cleanup(): Promise<void>;
}

/** A SecretStore that fails the test when touched (proves a backend never needs the keychain). */
export class UntouchableSecretStore implements SecretStore {
  readonly service = 'mcp-keyhole/untouchable';
  #fail(): never {
    throw new Error('the OS keychain was used although nothing needs it');
  }
  async get(): Promise<string | null> { this.#fail(); }
  async set(): Promise<void> { this.#fail(); }
  async delete(): Promise<boolean> { this.#fail(); }
  async accounts(): Promise<string[]> { this.#fail(); }
  async probe(): Promise<void> { this.#fail(); }
}

/** A store + cipher + vault on an in-memory SQLite database. */
export function makeVaultOn(backend: VaultBackend, keychain: SecretStore | undefined): { store: Store; cipher: VaultCipher; vault: UpstreamVault } {
  const store = openSqliteStore(':memory:');
  const cipher = new VaultCipher(keyringFromMasterKey(randomBytes(32).toString('base64url')));
  return { store, cipher, vault: new UpstreamVault({ store, cipher, backend, keychain }) };
}

const T0 = 1_700_000_000;

export function secrets(over: Partial<UpstreamSecretsInput> = {}): UpstreamSecretsInput {
  return {
    accessToken: `up-access-${randomBytes(12).toString('base64url')}`,
    accessExpiresAt: T0 + 300,
    refreshToken: `up-refresh-${randomBytes(12).toString('base64url')}`,
    scopes: ['openid', 'offline_access', 'mcp:tools'],
    updatedAt: T0,
    ...over,
  };
}

export function runVaultContract(name: string, make: () => Promise<VaultHandle>): void {
  describe(`UpstreamVault contract: ${name}`, () => {
    let h: VaultHandle;
    let grant: GrantRecord;

    beforeEach(async () => {
      h = await make();
      grant = makeGrant();
      await h.store.grants.create(grant);
    });
    afterEach(async () => {
      await h.cleanup();
    });

    it('stores a grant\'s upstream tokens and opens them again', async () => {
      const input = secrets();
      const stored = await h.vault.put(grant.id, input);
      expect(stored).toMatchObject({ grantId: grant.id, accessExpiresAt: T0 + 300, scopes: input.scopes, updatedAt: T0, refreshFailingSince: null });
      const entry = await h.vault.get(grant.id);
      expect(entry?.hasRefreshToken).toBe(true);
      expect(await entry!.openAccessToken()).toBe(input.accessToken);
      expect(await entry!.openRefreshToken()).toBe(input.refreshToken);
      expect(entry!.credential).toEqual(stored);
    });

    it('keeps the refresh token when the upstream did not rotate it, and replaces it when it did', async () => {
      const first = secrets();
      await h.vault.put(grant.id, first);
      const second = secrets({ refreshToken: undefined, updatedAt: T0 + 1 });
      await h.vault.put(grant.id, second, await h.store.upstreamCredentials.find(grant.id));
      let entry = await h.vault.get(grant.id);
      expect(await entry!.openAccessToken()).toBe(second.accessToken);
      expect(await entry!.openRefreshToken()).toBe(first.refreshToken);
      const third = secrets({ updatedAt: T0 + 2 });
      await h.vault.put(grant.id, third);
      entry = await h.vault.get(grant.id);
      expect(await entry!.openAccessToken()).toBe(third.accessToken);
      expect(await entry!.openRefreshToken()).toBe(third.refreshToken);
    });

    it('writes with a compare-and-swap on the version when asked: a stale version is a conflict, nothing changes', async () => {
      await h.vault.put(grant.id, secrets());
      const read = (await h.store.upstreamCredentials.find(grant.id))!;
      const winner = secrets({ updatedAt: T0 + 1 });
      expect(await h.vault.put(grant.id, winner, read, { expectedVersion: read.version })).toMatchObject({ version: read.version + 1 });
      const loser = secrets({ updatedAt: T0 + 2 });
      await expect(h.vault.put(grant.id, loser, read, { expectedVersion: read.version })).rejects.toMatchObject({ name: 'CredentialVersionConflictError', grantId: grant.id });
      const entry = (await h.vault.get(grant.id))!;
      expect(await entry.openRefreshToken()).toBe(winner.refreshToken);
      expect(await entry.openAccessToken()).toBe(winner.accessToken);
    });

    it('stores a grant without a refresh token', async () => {
      const input = secrets({ refreshToken: undefined });
      await h.vault.put(grant.id, input);
      const entry = await h.vault.get(grant.id);
      expect(entry?.hasRefreshToken).toBe(false);
      expect(await entry!.openRefreshToken()).toBeNull();
      expect(await entry!.openAccessToken()).toBe(input.accessToken);
    });

    it('never puts a token value into the store in plain text', async () => {
      const input = secrets();
      await h.vault.put(grant.id, input);
      const row = JSON.stringify(await h.store.upstreamCredentials.find(grant.id));
      expect(row).not.toContain(input.accessToken);
      expect(row).not.toContain(input.refreshToken);
    });

    it('keeps the refresh token where the backend says', async () => {
      const input = secrets();
      const stored = await h.vault.put(grant.id, input);
      if (h.backend === 'sqlite') {
        expect(stored).toMatchObject({ refreshInKeychain: false });
        expect(stored!.refreshToken).toMatch(/^eyJ[^.]*\.\.[^.]+\.[^.]+\.[^.]+$/); // sealed (compact JWE, dir)
      } else {
        expect(stored).toMatchObject({ refreshInKeychain: true, refreshToken: null });
        expect(await h.keychain!.get(grant.id)).toBe(input.refreshToken);
        expect((await h.store.vaultEntries.countByKid()).some((c) => c.field === 'upstream_refresh')).toBe(false);
      }
    });

    it('returns undefined for a grant without credential', async () => {
      expect(await h.vault.get('g_nothing_stored_here_00')).toBeUndefined();
    });

    it('keeps nothing for a grant that is no longer active', async () => {
      await h.store.grants.revoke(grant.id, 'admin_revoked', T0);
      expect(await h.vault.put(grant.id, secrets())).toBeUndefined();
      expect(await h.vault.get(grant.id)).toBeUndefined();
      if (h.keychain) expect(await h.keychain.get(grant.id)).toBeNull();
    });

    it('deletes what it keeps outside the store once the grant is revoked', async () => {
      await h.vault.put(grant.id, secrets());
      const credential = (await h.store.upstreamCredentials.find(grant.id))!;
      expect(await h.store.grants.revoke(grant.id, 'admin_revoked', T0 + 1)).toBe(true);
      await h.vault.delete(grant.id, credential);
      expect(await h.vault.get(grant.id)).toBeUndefined();
      if (h.keychain) expect(await h.keychain.get(grant.id)).toBeNull();
    });

    it('binds each ciphertext to its grant: a sealed access token copied to another grant does not open', async () => {
      const other = makeGrant({ subject: 'user-2' });
      await h.store.grants.create(other);
      await h.vault.put(grant.id, secrets());
      await h.vault.put(other.id, secrets());
      const mine = (await h.store.upstreamCredentials.find(grant.id))!;
      await h.store.upstreamCredentials.put({ ...(await h.store.upstreamCredentials.find(other.id))!, accessToken: mine.accessToken });
      const entry = await h.vault.get(other.id);
      await expect(entry!.openAccessToken()).rejects.toBeInstanceOf(VaultDecryptError);
    });

    it('needs the keychain only for the keychain backend or rows that point to it', async () => {
      expect(await h.vault.needsKeychain()).toBe(h.backend === 'keychain');
      await h.vault.check(); // an available keychain, or (sqlite backend) one never asked
    });
  });
}
