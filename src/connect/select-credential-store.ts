/**
 * Picks the token store for `--store auto|keychain|file`:
 * - keychain: the OS keychain or an error saying what to install (never a silent fallback);
 * - file: the 0600 file store, announced on stderr;
 * - auto: the keychain when a probe write/read/delete works, else the file store, announced on stderr with the
 *   reason, so nobody believes their tokens are in a keychain when they are in a file.
 */
import type { StoreMode } from './connect-options.js';
import type { CredentialStore } from './credential-store.js';
import { FileCredentialStore, connectConfigDir } from './file-credential-store.js';
import { KeychainCredentialStore } from './keychain-credential-store.js';

export async function selectCredentialStore(mode: StoreMode, env: NodeJS.ProcessEnv, log: (line: string) => void): Promise<CredentialStore> {
  const fileStore = () => {
    const store = new FileCredentialStore(connectConfigDir(env));
    log(`tokens are kept in plain text in ${store.location} (files 0600, directory 0700), not in the OS keychain`);
    return store;
  };
  if (mode === 'file') return fileStore();
  const keychain = new KeychainCredentialStore();
  try {
    await keychain.probe();
  } catch (e) {
    if (mode === 'keychain') throw e;
    log(`the OS keychain is not usable: ${(e as Error).message}`);
    return fileStore();
  }
  return keychain;
}
