/**
 * Where the master keyring comes from (`keys.source` in the config). A keyring is one or more 32-byte AES-256-GCM
 * keys, each named by its kid (`k_` + 10 chars of base64url(sha256(key)), so the same key has the same kid in every
 * source), with one of them `current` (new ciphertexts are sealed with it; the others only open older ones).
 *
 * - `env` (default): `KEYHOLE_MASTER_KEY` = the current key (base64url), plus optionally
 *   `KEYHOLE_MASTER_KEYS_OLD` = a comma-separated list of older keys still needed to open entries sealed before a
 *   rotation. keyhole cannot write environment variables: `keys init` prints a key, `keys rotate` re-encrypts to
 *   whatever KEYHOLE_MASTER_KEY holds.
 * - `file`: a keyring file (default `./keyhole.key`), refused when its mode is wider than 0600. Content: the JSON
 *   below, or a single base64url key on one line (a one-key keyring).
 * - `keychain`: the same JSON in the OS keychain, service `mcp-keyhole/<instanceName>/keys`, account `master-keyring`.
 *
 * The JSON keyring (file and keychain):
 *   {"format": "keyhole-keyring", "version": 1, "current": "k_…", "keys": {"k_…": "<base64url 32 bytes>", …}}
 * Every kid is checked against its key on load. Writes are atomic (file: temp file + rename, mode 0600).
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { keyringFromMasterKey, VaultKeyError, type Keyring } from '../store/crypto/vault-cipher.js';
import { KeySourceError, MissingMasterKeyError } from './errors.js';
import { parseKeyring, serializeKeyring } from './keyring-format.js';
import { keychainService, KeytarSecretStore, MASTER_KEYRING_ACCOUNT, type SecretStore } from './secret-store.js';

export type KeySourceKind = 'env' | 'file' | 'keychain';

export interface KeySourceConfig {
  instanceName: string;
  keys: { source: KeySourceKind; file: string };
}

export interface KeySource {
  readonly kind: KeySourceKind;
  /** For messages: where the keyring is (never its content). */
  readonly description: string;
  /** False for env: keyhole cannot change environment variables. */
  readonly writable: boolean;
  load(): Promise<Keyring>;
  /** True when the source holds a keyring already (file exists / keychain entry exists / env var set). */
  exists(): Promise<boolean>;
  /** Creates the keyring; refuses (KeySourceError) when one exists. */
  create(keyring: Keyring): Promise<void>;
  /** Replaces the keyring atomically (rotation, retirement). */
  replace(keyring: Keyring): Promise<void>;
}

export const ENV_CURRENT = 'KEYHOLE_MASTER_KEY';
export const ENV_OLD = 'KEYHOLE_MASTER_KEYS_OLD';

/** KEYHOLE_MASTER_KEY (current) + KEYHOLE_MASTER_KEYS_OLD (comma-separated older keys). */
export function keyringFromEnvVars(env: NodeJS.ProcessEnv): Keyring {
  const current = env[ENV_CURRENT];
  if (!current || current.trim() === '') throw new MissingMasterKeyError();
  let keyring: Keyring;
  try {
    keyring = keyringFromMasterKey(current);
  } catch (e) {
    throw new KeySourceError(`${ENV_CURRENT}: ${(e as Error).message}`);
  }
  const old = (env[ENV_OLD] ?? '').split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  old.forEach((b64, i) => {
    let one: Keyring;
    try {
      one = keyringFromMasterKey(b64);
    } catch (e) {
      throw new KeySourceError(`${ENV_OLD}, key #${i + 1}: ${(e as Error).message}`);
    }
    keyring.keys.set(one.current, one.keys.get(one.current)!);
  });
  return keyring;
}

/** Refuses a key file whose permissions are wider than 0600 (group/other bits, or owner execute). */
export function assertKeyFileMode(file: string): void {
  let st;
  try {
    st = statSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new KeySourceError(`key file ${file} does not exist. Create it with: keyhole keys init --config <your config>`);
    throw new KeySourceError(`key file ${file} cannot be read (${code ?? 'error'})`);
  }
  if (!st.isFile()) throw new KeySourceError(`key file ${file} is not a regular file`);
  if (process.platform === 'win32') return; // POSIX modes mean nothing there; NTFS ACLs are the operator's job
  const mode = st.mode & 0o777;
  if ((mode & ~0o600) !== 0) {
    throw new KeySourceError(
      `key file ${file} has mode 0${mode.toString(8).padStart(3, '0')}, which is wider than 0600 (others than its owner ` +
        `could read or change the master key); keyhole refuses to use it. Fix it with: chmod 600 ${file}`,
    );
  }
}

function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // not supported everywhere (e.g. Windows); the rename itself is still atomic
  }
}

/** Writes `text` to a new 0600 temp file beside `file`, fsynced; returns its path. */
function writeTemp(file: string, text: string): string {
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return tmp;
}

class EnvKeySource implements KeySource {
  readonly kind = 'env' as const;
  readonly description = `environment variables ${ENV_CURRENT} (+ ${ENV_OLD})`;
  readonly writable = false;
  constructor(private readonly env: NodeJS.ProcessEnv) {}
  async load(): Promise<Keyring> {
    return keyringFromEnvVars(this.env);
  }
  async exists(): Promise<boolean> {
    return Boolean(this.env[ENV_CURRENT]?.trim());
  }
  async create(): Promise<void> {
    throw new KeySourceError('keyhole cannot write environment variables');
  }
  async replace(): Promise<void> {
    throw new KeySourceError('keyhole cannot write environment variables');
  }
}

class FileKeySource implements KeySource {
  readonly kind = 'file' as const;
  readonly writable = true;
  readonly file: string;
  constructor(file: string) {
    this.file = resolve(file);
  }
  get description(): string {
    return `key file ${this.file}`;
  }
  async load(): Promise<Keyring> {
    assertKeyFileMode(this.file);
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (e) {
      throw new KeySourceError(`key file ${this.file} cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    return parseKeyring(text, `key file ${this.file}`);
  }
  async exists(): Promise<boolean> {
    try {
      statSync(this.file);
      return true;
    } catch {
      return false;
    }
  }
  async create(keyring: Keyring): Promise<void> {
    const tmp = writeTemp(this.file, serializeKeyring(keyring));
    try {
      linkSync(tmp, this.file); // fails with EEXIST instead of overwriting
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new KeySourceError(`key file ${this.file} already exists; keyhole keys init refuses to overwrite it`);
      throw new KeySourceError(`key file ${this.file} cannot be created (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    } finally {
      unlinkSync(tmp);
    }
    fsyncDir(dirname(this.file));
  }
  async replace(keyring: Keyring): Promise<void> {
    assertKeyFileMode(this.file);
    const tmp = writeTemp(this.file, serializeKeyring(keyring));
    renameSync(tmp, this.file); // atomic: a crash leaves the old or the new keyring, never half of one
    fsyncDir(dirname(this.file));
  }
}

class KeychainKeySource implements KeySource {
  readonly kind = 'keychain' as const;
  readonly writable = true;
  constructor(private readonly secrets: SecretStore) {}
  get description(): string {
    return `OS keychain (service ${this.secrets.service}, account ${MASTER_KEYRING_ACCOUNT})`;
  }
  async load(): Promise<Keyring> {
    const text = await this.secrets.get(MASTER_KEYRING_ACCOUNT);
    if (text === null) {
      await this.secrets.probe(); // a locked keychain reads as empty: say so rather than "no keyring"
      throw new KeySourceError(`there is no master keyring in the ${this.description}. Create one with: keyhole keys init --config <your config>`);
    }
    return parseKeyring(text, this.description);
  }
  async exists(): Promise<boolean> {
    return (await this.secrets.get(MASTER_KEYRING_ACCOUNT)) !== null;
  }
  async create(keyring: Keyring): Promise<void> {
    await this.secrets.probe();
    if (await this.exists()) throw new KeySourceError(`the ${this.description} already holds a keyring; keyhole keys init refuses to overwrite it`);
    await this.secrets.set(MASTER_KEYRING_ACCOUNT, serializeKeyring(keyring));
  }
  async replace(keyring: Keyring): Promise<void> {
    await this.secrets.set(MASTER_KEYRING_ACCOUNT, serializeKeyring(keyring));
  }
}

/** The key source the config names. `secrets` replaces the OS keychain store (tests). */
export function keySourceFor(config: KeySourceConfig, opts: { env?: NodeJS.ProcessEnv; secrets?: SecretStore } = {}): KeySource {
  switch (config.keys.source) {
    case 'env':
      return new EnvKeySource(opts.env ?? process.env);
    case 'file':
      return new FileKeySource(config.keys.file);
    case 'keychain':
      return new KeychainKeySource(opts.secrets ?? new KeytarSecretStore(keychainService.keys(config.instanceName)));
    default:
      throw new KeySourceError(`unknown keys.source ${JSON.stringify(config.keys.source)}`);
  }
}

/** Loads the keyring from the configured source; every failure is a KeySourceError/KeychainUnavailableError. */
export async function loadKeyring(config: KeySourceConfig, opts: { env?: NodeJS.ProcessEnv; secrets?: SecretStore } = {}): Promise<Keyring> {
  try {
    return await keySourceFor(config, opts).load();
  } catch (e) {
    if (e instanceof VaultKeyError) throw new KeySourceError(e.message);
    throw e;
  }
}
