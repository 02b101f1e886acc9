/**
 * The OS keychain, through keytar (an optional dependency: a native module over libsecret / the freedesktop
 * Secret Service on Linux, Keychain on macOS, Credential Vault on Windows).
 *
 * Names used in the keychain (one keyhole instance = one `instanceName` in the config):
 * - service `mcp-keyhole/<instance>`, account = grant id (`g_…`): the upstream refresh token of that grant, as is
 *   (the keychain encrypts it at rest; it is not sealed with the master key, so key rotation never touches it);
 * - service `mcp-keyhole/<instance>/keys`, account `master-keyring`: the master keyring when `keys.source` is
 *   "keychain" (a separate service, so nothing that sweeps grant entries can ever touch it).
 *
 * keytar is loaded on first use, never at import time: a keyhole without keytar runs fine with the sqlite vault
 * and an env/file key source, and says what to install the moment the keychain is asked for.
 */
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { KeychainUnavailableError } from './errors.js';

/** An async secret store: one keychain service, secrets by account. */
export interface SecretStore {
  readonly service: string;
  get(account: string): Promise<string | null>;
  set(account: string, secret: string): Promise<void>;
  /** True when there was something to delete. */
  delete(account: string): Promise<boolean>;
  /** Every account of the service. */
  accounts(): Promise<string[]>;
  /** Writes, reads back and deletes a probe secret; throws KeychainUnavailableError with what to install. */
  probe(): Promise<void>;
}

export const keychainService = {
  /** Upstream refresh tokens, account = grant id. */
  vault: (instanceName: string) => `mcp-keyhole/${instanceName}`,
  /** The master keyring (keys.source "keychain"), account `master-keyring`. */
  keys: (instanceName: string) => `mcp-keyhole/${instanceName}/keys`,
} as const;

export const MASTER_KEYRING_ACCOUNT = 'master-keyring';
const PROBE_ACCOUNT = 'keyhole-probe';
const PROBE_TIMEOUT_MS = 10_000;

export const INSTALL_KEYTAR_HINT =
  'keytar (an optional dependency of keyhole) is not installed or its native module did not build. It needs libsecret: ' +
  'on Debian/Ubuntu `apt-get install -y libsecret-1-dev`, then `npm rebuild keytar` in the keyhole directory ' +
  '(or reinstall keyhole).';

export const SECRET_SERVICE_HINT =
  'The OS keychain needs a running, unlocked Secret Service on the session D-Bus (GNOME Keyring or KWallet; on macOS ' +
  'and Windows the system keychain). On a headless Debian/Ubuntu machine: `apt-get install -y gnome-keyring dbus`, ' +
  'then run keyhole inside `dbus-run-session` after `gnome-keyring-daemon --unlock --components=secrets` ' +
  '(scripts/with-keyring.sh does exactly that).';

interface Keytar {
  getPassword(service: string, account: string): Promise<string | null>;
  setPassword(service: string, account: string, password: string): Promise<void>;
  deletePassword(service: string, account: string): Promise<boolean>;
  findCredentials(service: string): Promise<Array<{ account: string; password: string }>>;
}

let keytarModule: Keytar | undefined;

/** Loads keytar once. Throws KeychainUnavailableError (what to install) when it is missing or did not build. */
export function loadKeytar(): Keytar {
  if (keytarModule) return keytarModule;
  try {
    const required = createRequire(import.meta.url)('keytar') as Keytar & { default?: Keytar };
    keytarModule = typeof required.getPassword === 'function' ? required : (required.default as Keytar);
  } catch (e) {
    throw new KeychainUnavailableError(`${INSTALL_KEYTAR_HINT} (${firstLine(e)})`);
  }
  return keytarModule;
}

function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split('\n')[0] ?? 'error';
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms / 1000} s`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** The real OS keychain through keytar. */
export class KeytarSecretStore implements SecretStore {
  constructor(readonly service: string) {}

  /**
   * keytar failures (no D-Bus, locked collection, …) become KeychainUnavailableError naming the operation. One retry:
   * the Secret Service can fail a call when another client changes the collection at the same moment (every
   * operation here is idempotent).
   */
  async #call<T>(what: string, fn: (k: Keytar) => Promise<T>): Promise<T> {
    const keytar = loadKeytar();
    try {
      return await fn(keytar);
    } catch {
      await new Promise((r) => setTimeout(r, 50));
      try {
        return await fn(keytar);
      } catch (e) {
        throw new KeychainUnavailableError(`the OS keychain failed to ${what} (service ${this.service}): ${firstLine(e)}. ${SECRET_SERVICE_HINT}`);
      }
    }
  }

  get(account: string): Promise<string | null> {
    return this.#call('read a secret', (k) => k.getPassword(this.service, account));
  }

  set(account: string, secret: string): Promise<void> {
    return this.#call('store a secret', (k) => k.setPassword(this.service, account, secret));
  }

  delete(account: string): Promise<boolean> {
    return this.#call('delete a secret', (k) => k.deletePassword(this.service, account));
  }

  async accounts(): Promise<string[]> {
    const found = await this.#call('list secrets', (k) => k.findCredentials(this.service));
    return found.map((c) => c.account);
  }

  async probe(): Promise<void> {
    const keytar = loadKeytar();
    const value = randomBytes(12).toString('base64url');
    try {
      // A locked collection answers reads with "nothing" but refuses writes: only a write proves the keychain works.
      await withTimeout(keytar.setPassword(this.service, PROBE_ACCOUNT, value), PROBE_TIMEOUT_MS, 'the Secret Service');
      const read = await withTimeout(keytar.getPassword(this.service, PROBE_ACCOUNT), PROBE_TIMEOUT_MS, 'the Secret Service');
      await withTimeout(keytar.deletePassword(this.service, PROBE_ACCOUNT), PROBE_TIMEOUT_MS, 'the Secret Service');
      if (read !== value) throw new Error('a secret written to it could not be read back');
    } catch (e) {
      throw new KeychainUnavailableError(`no usable OS keychain: ${firstLine(e)}. ${SECRET_SERVICE_HINT}`);
    }
  }
}
