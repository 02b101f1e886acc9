import { describe, expect, it } from 'vitest';
import { KeychainUnavailableError } from '../../../src/vault/errors.js';
import type { SecretStore } from '../../../src/vault/secret-store.js';
import { makeGrant } from '../store/store-contract.js';
import { makeVaultOn, runVaultContract, secrets, UntouchableSecretStore } from './vault-contract.js';

// The sqlite backend never touches the OS keychain while no row points to it.
runVaultContract('sqlite', async () => {
  const { store, vault } = makeVaultOn('sqlite', new UntouchableSecretStore());
  return { store, vault, backend: 'sqlite', keychain: undefined, cleanup: async () => await store.close() };
});

class UnavailableSecretStore extends UntouchableSecretStore {
  override async probe(): Promise<void> {
    throw new KeychainUnavailableError('no usable OS keychain: test');
  }
}

describe('UpstreamVault startup check', () => {
  it('refuses the keychain backend when the keychain does not answer (no fallback)', async () => {
    const { store, vault } = makeVaultOn('keychain', new UnavailableSecretStore() as SecretStore);
    await expect(vault.check()).rejects.toBeInstanceOf(KeychainUnavailableError);
    await store.close();
  });

  it('refuses the sqlite backend too when rows keep their refresh token in the keychain', async () => {
    const { store, vault } = makeVaultOn('sqlite', new UnavailableSecretStore() as SecretStore);
    await vault.check(); // nothing there yet: fine
    const g = makeGrant();
    await store.grants.create(g);
    const s = secrets();
    await vault.put(g.id, s);
    await store.upstreamCredentials.markRefreshInKeychain(g.id, (await store.upstreamCredentials.find(g.id))!.refreshToken!);
    expect(await vault.needsKeychain()).toBe(true);
    await expect(vault.check()).rejects.toBeInstanceOf(KeychainUnavailableError);
    await store.close();
  });
});
