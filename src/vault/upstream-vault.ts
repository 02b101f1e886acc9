/**
 * The upstream vault: where a grant's upstream secrets live. The Store interface is synchronous (SQLite); the OS
 * keychain (keytar) is not, so everything that reads or writes an upstream token goes through this async layer.
 *
 * Backends (`storage.vault`):
 * - `sqlite`: the access and refresh tokens are sealed (VaultCipher) in the upstream_credentials row.
 * - `keychain`: the refresh token lives in the OS keychain (service `mcp-keyhole/<instance>`, account = grant id);
 *   the row keeps only metadata and the sealed, short-lived access token (`refreshToken` null, `refreshInKeychain`).
 *
 * The row, not the config, says where each refresh token is. Reads follow the row, so every state an interrupted
 * `keyhole vault migrate` (or a backend change) can leave is readable; the backend only decides where NEW refresh
 * tokens are written. Write order keeps a crash harmless:
 * - keychain, token already in the keychain (or a new grant): keychain first, then the row. A crash in between
 *   leaves the new refresh token in the keychain (where the row points) or an orphan entry for a row never written.
 * - keychain, token still sealed in the row: the row first (sealed, atomic), then moved to the keychain with a
 *   compare-and-set, exactly like `vault migrate`.
 * - sqlite, token was in the keychain: the row first (sealed), then the keychain entry is deleted (best effort: an
 *   orphan entry is never read, since the row no longer points to it).
 *
 * `prepare` is the same, split around a store transaction the caller owns (completing an authorization writes grant,
 * credential and code together): secrets sealed and the keychain entry written before it, the row through it, the
 * keychain put back (`discard`) when it rolls back.
 */
import type { Store, UpstreamCredential, UpstreamCredentialWrite } from '../store/types.js';
import type { VaultCipher } from '../store/crypto/vault-cipher.js';
import { sealContext } from './seal-contexts.js';
import type { SecretStore } from './secret-store.js';
import { CredentialVersionConflictError, KeychainUnavailableError } from './errors.js';

export type VaultBackend = 'sqlite' | 'keychain';

export interface UpstreamSecretsInput {
  accessToken: string;
  /** Absolute expiry of the access token; null when the upstream did not say. */
  accessExpiresAt: number | null;
  /** A new refresh token, or undefined to keep the previous one (RFC 6749 §6: the upstream MAY rotate it). */
  refreshToken: string | undefined;
  scopes: string[];
  updatedAt: number;
}

export interface VaultEntry {
  /** The stored metadata (and ciphertexts). */
  credential: UpstreamCredential;
  /** Whether a refresh token is stored (sealed here or in the keychain). */
  hasRefreshToken: boolean;
  openAccessToken(): Promise<string>;
  /** The refresh token, or null when there is none (or its keychain entry is gone). */
  openRefreshToken(): Promise<string | null>;
}

/**
 * A grant's upstream secrets sealed ahead of a store transaction (sealing is async crypto; the keychain is outside
 * the store): write `row` through the transaction, then call `committed()` after it commits or `discard()` when it
 * rolled back.
 */
export interface PreparedSecrets {
  row: UpstreamCredentialWrite;
  /** After the commit: removes what the committed row no longer points to (a keychain entry replaced by a sealed token). */
  committed(): Promise<void>;
  /** After a rollback: puts the keychain back as it was (deletes the entry written for the row, or restores the old one). */
  discard(): Promise<void>;
}

/** How `put` writes the row. */
export interface PutOptions {
  /**
   * Compare-and-swap (an upstream refresh): write only if the stored credential is still at this version
   * (UpstreamCredentialRepository.putIfVersion); CredentialVersionConflictError when it is not.
   */
  expectedVersion?: number;
}

export interface UpstreamVaultDeps {
  store: Store;
  cipher: VaultCipher;
  backend: VaultBackend;
  /** The OS keychain service for refresh tokens; needed for the keychain backend and for rows that point to it. */
  keychain: SecretStore | undefined;
}

export class UpstreamVault {
  readonly backend: VaultBackend;

  constructor(private readonly deps: UpstreamVaultDeps) {
    this.backend = deps.backend;
  }

  #keychain(): SecretStore {
    if (!this.deps.keychain) throw new Error('the OS keychain is not configured for this vault');
    return this.deps.keychain;
  }

  /** Whether this keyhole needs the OS keychain: the keychain backend, or rows whose refresh token is there. */
  async needsKeychain(): Promise<boolean> {
    return this.backend === 'keychain' || (await this.deps.store.upstreamCredentials.countRefreshLocations()).keychain > 0;
  }

  /** Startup check: when the keychain is needed, it must answer (KeychainUnavailableError says what to install). */
  async check(): Promise<void> {
    if (!(await this.needsKeychain())) return;
    try {
      await this.#keychain().probe();
    } catch (e) {
      if (!(e instanceof KeychainUnavailableError)) throw e;
      const inKeychain = (await this.deps.store.upstreamCredentials.countRefreshLocations()).keychain;
      const why = this.backend === 'keychain'
        ? 'storage.vault is "keychain"'
        : `${inKeychain} grants keep their upstream refresh token in the OS keychain (move them with keyhole vault migrate --to database)`;
      throw new KeychainUnavailableError(`${why}, but ${e.message} keyhole does not fall back to another storage.`);
    }
  }

  /**
   * Seals and stores a grant's upstream tokens (after the code exchange or a refresh). `previous` is the credential
   * read before (defaults to the stored one). Returns the stored credential, or undefined when the grant is no
   * longer active (nothing is kept then, keychain included). With `expectedVersion`, the row is written with a
   * compare-and-swap: CredentialVersionConflictError when it changed meanwhile (nothing written to the row then).
   */
  async put(grantId: string, input: UpstreamSecretsInput, previous?: UpstreamCredential, options: PutOptions = {}): Promise<UpstreamCredential | undefined> {
    const { store, cipher } = this.deps;
    const prev = previous ?? await store.upstreamCredentials.find(grantId);
    /**
     * Writes the row and returns it as stored (undefined: the grant is no longer active). The compare-and-swap of a
     * refresh is one statement that checks the version and the grant and returns the row (no read before or after
     * it: docs/invariants.md #8); only a refused one reads, to tell a conflict from an ended grant.
     */
    const write = async (row: UpstreamCredentialWrite): Promise<UpstreamCredential | undefined> => {
      if (options.expectedVersion === undefined) {
        await store.upstreamCredentials.put(row);
        return await store.upstreamCredentials.find(grantId);
      }
      const stored = await store.upstreamCredentials.putIfVersion(row, options.expectedVersion);
      if (stored) return stored;
      // Not written: the grant ended (no row, find says so), or the row is at another version.
      if (await store.upstreamCredentials.find(grantId)) throw new CredentialVersionConflictError(grantId, options.expectedVersion);
      return undefined;
    };
    const base = {
      grantId,
      accessToken: await cipher.seal(input.accessToken, sealContext.access(grantId)),
      accessExpiresAt: input.accessExpiresAt,
      scopes: input.scopes,
      updatedAt: input.updatedAt,
      refreshFailingSince: null,
    };

    if (input.refreshToken === undefined) {
      // Not rotated: the refresh token stays where it is.
      return await write({ ...base, refreshToken: prev?.refreshToken ?? null, refreshInKeychain: prev?.refreshInKeychain ?? false });
    }

    const sealedRefresh = () => cipher.seal(input.refreshToken as string, sealContext.refresh(grantId));
    if (this.backend === 'sqlite') {
      const stored = await write({ ...base, refreshToken: await sealedRefresh(), refreshInKeychain: false });
      if (prev?.refreshInKeychain) await this.#keychain().delete(grantId).catch(() => false); // orphan otherwise; never read
      return stored;
    }

    // keychain backend
    if (prev && !prev.refreshInKeychain && prev.refreshToken !== null) {
      // The row holds a sealed refresh token (written before the switch): replace it there first, then move it.
      const sealed = await sealedRefresh();
      if (!(await write({ ...base, refreshToken: sealed, refreshInKeychain: false }))) return undefined;
      await this.moveRefreshToKeychain(grantId, input.refreshToken, sealed).catch(() => false); // stays sealed: still valid
      return await store.upstreamCredentials.find(grantId); // the move wrote the row again
    }
    const keychain = this.#keychain();
    // A compare-and-swap may be refused after the keychain was written: put back what the winner left there.
    const before = options.expectedVersion !== undefined ? await keychain.get(grantId) : null;
    await keychain.set(grantId, input.refreshToken);
    let stored: UpstreamCredential | undefined;
    try {
      stored = await write({ ...base, refreshToken: null, refreshInKeychain: true });
    } catch (e) {
      if (e instanceof CredentialVersionConflictError && before !== null) await keychain.set(grantId, before);
      throw e;
    }
    if (!stored) await keychain.delete(grantId).catch(() => false); // the grant ended meanwhile: keep nothing
    return stored;
  }

  /**
   * Seals a grant's upstream tokens for a write inside a store transaction (completing an authorization). With the
   * keychain backend and a new refresh token, the keychain entry is written now (before the row that points to it);
   * `discard` deletes it again, or restores the entry the previous row pointed to. `previous` is the stored
   * credential read before the transaction.
   */
  async prepare(grantId: string, input: UpstreamSecretsInput, previous: UpstreamCredential | undefined): Promise<PreparedSecrets> {
    const { cipher } = this.deps;
    const base = {
      grantId,
      accessToken: await cipher.seal(input.accessToken, sealContext.access(grantId)),
      accessExpiresAt: input.accessExpiresAt,
      scopes: input.scopes,
      updatedAt: input.updatedAt,
      refreshFailingSince: null,
    };
    const nothing = async () => undefined;
    if (input.refreshToken === undefined) {
      // Not rotated: the refresh token stays where it is.
      return { row: { ...base, refreshToken: previous?.refreshToken ?? null, refreshInKeychain: previous?.refreshInKeychain ?? false }, committed: nothing, discard: nothing };
    }
    if (this.backend === 'sqlite') {
      const row = { ...base, refreshToken: await cipher.seal(input.refreshToken, sealContext.refresh(grantId)), refreshInKeychain: false };
      // The old keychain entry is an orphan once the row no longer points to it (never read): best-effort delete.
      const committed = previous?.refreshInKeychain ? async () => { await this.#keychain().delete(grantId).catch(() => false); } : nothing;
      return { row, committed, discard: nothing };
    }
    const keychain = this.#keychain();
    const before = previous?.refreshInKeychain ? await keychain.get(grantId) : null;
    await keychain.set(grantId, input.refreshToken);
    return {
      row: { ...base, refreshToken: null, refreshInKeychain: true },
      committed: nothing,
      discard: async () => {
        await (before !== null ? keychain.set(grantId, before) : keychain.delete(grantId)).catch(() => false);
      },
    };
  }

  /**
   * Copies a refresh token into the keychain, then (compare-and-set) clears the sealed copy in the row. False when
   * the row changed meanwhile (then the keychain copy is removed again; the row's own token stays valid).
   */
  async moveRefreshToKeychain(grantId: string, refreshToken: string, expectedSealed: string): Promise<boolean> {
    const keychain = this.#keychain();
    await keychain.set(grantId, refreshToken);
    if ((await keychain.get(grantId)) !== refreshToken) throw new Error(`the keychain did not keep the refresh token of ${grantId}`);
    if (await this.deps.store.upstreamCredentials.markRefreshInKeychain(grantId, expectedSealed)) return true;
    const now = await this.deps.store.upstreamCredentials.find(grantId);
    if (!now?.refreshInKeychain) await keychain.delete(grantId).catch(() => false);
    return false;
  }

  /** The stored credential with openers, or undefined when the grant has none. */
  async get(grantId: string): Promise<VaultEntry | undefined> {
    const { store, cipher } = this.deps;
    const credential = await store.upstreamCredentials.find(grantId);
    if (!credential) return undefined;
    return {
      credential,
      hasRefreshToken: credential.refreshInKeychain || credential.refreshToken !== null,
      openAccessToken: () => cipher.open(credential.accessToken, sealContext.access(grantId)),
      openRefreshToken: async () => {
        if (credential.refreshInKeychain) return this.#keychain().get(grantId);
        if (credential.refreshToken === null) return null;
        return cipher.open(credential.refreshToken, sealContext.refresh(grantId));
      },
    };
  }

  /**
   * Deletes what the vault keeps outside the store for a grant (its keychain entry). Call it after
   * `store.grants.revoke`, which deletes the row in the same transaction as the revocation. `credential` is the row as
   * it was; without it, the keychain is asked whenever this vault uses it. Returns true when an entry was deleted.
   */
  async delete(grantId: string, credential?: UpstreamCredential): Promise<boolean> {
    const inKeychain = credential ? credential.refreshInKeychain : this.backend === 'keychain';
    if (!inKeychain && this.backend !== 'keychain') return false;
    return this.#keychain().delete(grantId);
  }
}
