/**
 * The `keyhole keys …` and `keyhole vault …` commands. Each takes the parsed config and prints progress and results
 * (never key material, except `keys init` with the env source, which has no other way to hand the new key over).
 * They work on the database directly: run them with keyhole stopped (see docs/vault-and-keys.md).
 */
import type { KeyholeConfig } from '../config/schema.js';
import { openStore } from '../store/open-store.js';
import { VaultCipher, type Keyring } from '../store/crypto/vault-cipher.js';
import type { Store } from '../store/types.js';
import { VaultCommandError, VaultSetupError } from './errors.js';
import { ENV_CURRENT, ENV_OLD, keySourceFor, type KeySource } from './key-sources.js';
import { generateKey, withNewCurrentKey } from './keyring-format.js';
import {
  assertKeyringCovers,
  countNotUnder,
  describeUsage,
  keyringWithout,
  reencryptToCurrentKey,
  sealedUsageByKid,
} from './key-rotation.js';
import { keychainService, KeytarSecretStore, type SecretStore } from './secret-store.js';
import { countOrphans, migrateVault } from './vault-migration.js';

export interface CommandIo {
  out(line: string): void;
  err(line: string): void;
  env: NodeJS.ProcessEnv;
  /** Replaces the OS keychain (tests); by default keytar. */
  secrets?: { vault?: SecretStore; keys?: SecretStore };
}

function sourceOf(config: KeyholeConfig, io: CommandIo): KeySource {
  const keys = io.secrets?.keys;
  return keySourceFor(config, { env: io.env, ...(keys ? { secrets: keys } : {}) });
}

function vaultSecrets(config: KeyholeConfig, io: CommandIo): SecretStore {
  return io.secrets?.vault ?? new KeytarSecretStore(keychainService.vault(config.instanceName));
}

/**
 * Commands that write (re-seal, move) take the one-process-per-file lock on SQLite (keyhole must be stopped); the
 * status commands only read and work beside a running keyhole.
 */
async function withStore<T>(config: KeyholeConfig, fn: (store: Store) => Promise<T>, access: 'read' | 'write' = 'write'): Promise<T> {
  const store = await openStore(config.storage, { lock: access === 'write', checkpointEveryMs: 0 });
  return fn(store).finally(async () => await store.close());
}

function kids(keyring: Keyring): string {
  return [...keyring.keys.keys()].map((k) => (k === keyring.current ? `${k} (current)` : k)).join(', ');
}

// ---- keys ------------------------------------------------------------------------------------------------------

/** `keys init`: creates a keyring with one new key in the configured source; refuses to overwrite. */
export async function keysInit(config: KeyholeConfig, io: CommandIo): Promise<number> {
  const source = sourceOf(config, io);
  const { key, kid, base64url } = generateKey();
  if (source.kind === 'env') {
    if (await source.exists()) throw new VaultCommandError(`${ENV_CURRENT} is already set; keyhole keys init refuses to replace a key (use keyhole keys rotate)`);
    io.err(`keys.source is "env": keyhole cannot store the key itself. Keep this line in your secret store and export it (kid ${kid}):`);
    io.out(`${ENV_CURRENT}=${base64url}`);
    return 0;
  }
  await source.create({ current: kid, keys: new Map([[kid, key]]) });
  io.out(`created a master keyring in the ${source.description} with key ${kid}`);
  await withStore(config, async (store) => {
    const used = (await sealedUsageByKid(store)).filter((u) => u.kid !== null);
    if (used.length > 0) io.err(`warning: the database already holds vault entries under ${used.map((u) => u.kid).join(', ')}, which this new keyring cannot open`);
  });
  return 0;
}

/**
 * `keys status`: the keyring and how many entries each kid holds ("other": client secrets and registration tokens
 * at upstreams, identity-JWT signing keys, sealed static secrets).
 */
export async function keysStatus(config: KeyholeConfig, io: CommandIo): Promise<number> {
  const source = sourceOf(config, io);
  let keyring: Keyring | undefined;
  let problem: string | undefined;
  try {
    keyring = await source.load();
  } catch (e) {
    if (!(e instanceof VaultSetupError)) throw e;
    problem = e.message;
  }
  return withStore(config, async (store) => {
    io.out(`key source: ${source.description}`);
    if (keyring) io.out(`keys: ${kids(keyring)}`);
    else io.out(`keys: cannot be loaded: ${problem}`);
    const usage = await sealedUsageByKid(store);
    const allKids = new Set<string | null>([...(keyring ? keyring.keys.keys() : []), ...usage.map((u) => u.kid)]);
    io.out('');
    io.out(pad(['kid', 'key', 'access', 'refresh', 'verifiers', 'other', 'total']));
    let missing = 0;
    for (const kid of [...allKids].sort((a, b) => String(a).localeCompare(String(b)))) {
      const u = usage.find((x) => x.kid === kid);
      const state = kid === null ? 'unreadable' : !keyring ? '?' : kid === keyring.current ? 'current' : keyring.keys.has(kid) ? 'old' : 'MISSING';
      if (state === 'MISSING') missing += u?.total ?? 0;
      const b = u?.byField;
      const other = b ? b.registration_client_secret + b.registration_token + b.signing_key + b.sealed_secret : 0;
      io.out(pad([kid ?? '(none)', state, String(b?.upstream_access ?? 0), String(b?.upstream_refresh ?? 0), String(b?.pending_verifier ?? 0), String(other), String(u?.total ?? 0)]));
    }
    const where = await store.upstreamCredentials.countRefreshLocations();
    io.out('');
    io.out(`upstream refresh tokens: ${where.sqlite} sealed in SQLite, ${where.keychain} in the OS keychain (not sealed with the master key), ${where.none} grants without one; storage.vault is "${config.storage.vault}"`);
    if (keyring) {
      const pending = await countNotUnder(store, keyring.current);
      if (pending > 0) io.out(`${pending} entries are not under the current key: run keyhole keys rotate`);
      const retirable = [...keyring.keys.keys()].filter((k) => k !== keyring!.current && !usage.some((u) => u.kid === k && u.total > 0));
      if (retirable.length > 0) io.out(`no entry uses ${retirable.join(', ')}: keyhole keys retire <kid> removes it`);
    }
    if (missing > 0) {
      io.err(`${missing} entries are under keys the keyring does not hold: keyhole will not start with this keyring`);
      return 1;
    }
    return problem ? 1 : 0;
  }, 'read');
}

function pad(cols: string[]): string {
  const widths = [14, 10, 8, 8, 10, 6, 8];
  return cols.map((c, i) => c.padEnd(widths[i] ?? 8)).join(' ').trimEnd();
}

export interface RotateOptions {
  batchSize?: number;
  pauseMs?: number;
}

/**
 * `keys rotate`: unless an earlier rotation is unfinished (entries not under the current key), adds a new key to the
 * source and makes it current (written atomically BEFORE anything is re-encrypted with it); then re-encrypts every
 * entry not under the current key, in batches. Interrupted? Run it again: it resumes.
 */
export async function keysRotate(config: KeyholeConfig, io: CommandIo, opts: RotateOptions = {}): Promise<number> {
  const source = sourceOf(config, io);
  let keyring = await source.load();
  return withStore(config, async (store) => {
    await assertKeyringCovers(store, keyring, source.description);
    const pending = await countNotUnder(store, keyring.current);
    if (pending > 0) {
      io.out(`resuming: ${pending} entries are not under the current key ${keyring.current}; re-encrypting them (no new key is added)`);
    } else if (!source.writable) {
      throw new VaultCommandError(
        `every entry is already under ${keyring.current}, and keys.source "env" cannot be written by keyhole. To rotate: ` +
          `make a new key (keyhole keys init with ${ENV_CURRENT} unset prints one), set ${ENV_CURRENT} to it and add the old ` +
          `key to ${ENV_OLD} (comma-separated), then run keyhole keys rotate again to re-encrypt.`,
      );
    } else {
      const fresh = generateKey();
      keyring = withNewCurrentKey(keyring, fresh.key);
      await source.replace(keyring); // the new key is stored before a single entry depends on it
      io.out(`added key ${fresh.kid} to the ${source.description}; it is now current (keys: ${kids(keyring)})`);
    }
    const cipher = new VaultCipher(keyring);
    const result = await reencryptToCurrentKey(store, cipher, {
      ...(opts.batchSize !== undefined ? { batchSize: opts.batchSize } : {}),
      ...(opts.pauseMs !== undefined ? { pauseMs: opts.pauseMs } : {}),
      onBatch: (b) => io.out(`batch ${b.batch}: re-encrypted ${b.reencrypted}${b.skipped ? `, skipped ${b.skipped} (changed meanwhile)` : ''}${b.failed ? `, failed ${b.failed}` : ''}; ${b.remaining} not under ${cipher.currentKid}`),
    });
    io.out(`done: ${result.reencrypted} entries re-encrypted under ${result.currentKid} in ${result.batches} batches; ${result.remaining} not under it`);
    for (const f of result.failed.slice(0, 20)) io.err(`  cannot re-encrypt ${f.field} ${f.id} (kid ${f.kid ?? 'none'}): ${f.error}`);
    if (result.failed.length > 0) {
      io.err(`${result.failed.length} entries could not be re-encrypted (listed above, at most 20); they keep their old key`);
      return 1;
    }
    if (result.remaining > 0) io.out('some entries changed while rotating: run keyhole keys rotate again to finish');
    io.out(`restart keyhole so that it seals new entries with ${result.currentKid}; then keyhole keys status, and keyhole keys retire <kid> for keys no entry uses`);
    return 0;
  });
}

/** `keys retire <kid>`: removes an old key that no entry uses any more. Refuses otherwise. */
export async function keysRetire(config: KeyholeConfig, io: CommandIo, kid: string): Promise<number> {
  const source = sourceOf(config, io);
  const keyring = await source.load();
  return withStore(config, async (store) => {
    const next = await keyringWithout(store, keyring, kid);
    if (!source.writable) {
      io.out(`no entry uses ${kid}: remove that key from ${ENV_OLD} (keyhole cannot change environment variables)`);
      return 0;
    }
    await source.replace(next);
    io.out(`retired ${kid}; the ${source.description} now holds ${kids(next)}`);
    return 0;
  });
}

// ---- vault -----------------------------------------------------------------------------------------------------

/** `vault migrate --to keychain|database` (`sqlite`: the older name of `database`): moves every upstream refresh token. Resumable, idempotent per entry. */
export async function vaultMigrate(config: KeyholeConfig, io: CommandIo, to: 'sqlite' | 'keychain', opts: { batchSize?: number } = {}): Promise<number> {
  const source = sourceOf(config, io);
  const keyring = await source.load();
  const keychain = vaultSecrets(config, io);
  return withStore(config, async (store) => {
    await assertKeyringCovers(store, keyring, source.description);
    const before = await store.upstreamCredentials.countRefreshLocations();
    io.out(`moving ${to === 'keychain' ? before.sqlite : before.keychain} upstream refresh tokens to ${to === 'keychain' ? `the OS keychain (service ${keychain.service})` : 'the SQLite vault (sealed)'}`);
    const result = await migrateVault({
      store, cipher: new VaultCipher(keyring), keychain, to,
      ...(opts.batchSize !== undefined ? { batchSize: opts.batchSize } : {}),
      onProgress: (p) => io.out(`moved ${p.moved}${p.failed ? `, failed ${p.failed}` : ''}; ${p.remaining} left`),
    });
    const after = await store.upstreamCredentials.countRefreshLocations();
    io.out(`done: moved ${result.moved}, ${result.skipped} changed meanwhile, ${result.orphansRemoved} unused keychain entries removed; now ${after.sqlite} in SQLite, ${after.keychain} in the OS keychain`);
    for (const f of result.failed.slice(0, 20)) io.err(`  ${f.grantId}: ${f.error}`);
    const vault = to === 'keychain' ? 'keychain' : 'database'; // `--to sqlite`: sealed in the database
    if (config.storage.vault !== vault) io.out(`set "storage": {"vault": "${vault}"} in the config before starting keyhole again (new refresh tokens go where storage.vault says)`);
    return result.failed.length > 0 ? 1 : 0;
  });
}

/** `vault status`: where the refresh tokens are, and unused keychain entries. */
export async function vaultStatus(config: KeyholeConfig, io: CommandIo): Promise<number> {
  return withStore(config, async (store) => {
    const where = await store.upstreamCredentials.countRefreshLocations();
    io.out(`storage.vault: ${config.storage.vault}`);
    io.out(`upstream refresh tokens: ${where.sqlite} sealed in SQLite, ${where.keychain} in the OS keychain, ${where.none} grants without one`);
    if (config.storage.vault === 'keychain' || where.keychain > 0) {
      const keychain = vaultSecrets(config, io);
      try {
        await keychain.probe();
        io.out(`OS keychain (service ${keychain.service}): reachable; ${await countOrphans(store, keychain)} entries no grant points to`);
      } catch (e) {
        io.err((e as Error).message);
        return 1;
      }
    }
    return 0;
  }, 'read');
}
