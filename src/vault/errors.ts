/**
 * Errors of the vault layer (key sources, OS keychain, rotation, migration). Each message says what is wrong and
 * what to do; none contains key material or a token value. The CLI prints `message` and exits non-zero.
 */

/** Base class: a setup problem keyhole refuses to start (or to run a command) with. */
export class VaultSetupError extends Error {
  override name = 'VaultSetupError';
}

/** The configured key source is missing, unreadable, too widely readable, or malformed. */
export class KeySourceError extends VaultSetupError {
  override name = 'KeySourceError';
}

/** keytar is not installed/built, or no unlocked Secret Service answers on the session bus. */
export class KeychainUnavailableError extends VaultSetupError {
  override name = 'KeychainUnavailableError';
}

/** The database holds vault ciphertexts under key ids the configured keyring does not have. */
export class UndecryptableEntriesError extends VaultSetupError {
  override name = 'UndecryptableEntriesError';
  constructor(
    message: string,
    /** kid → number of entries (every field together) that the keyring cannot open. */
    readonly missing: ReadonlyMap<string, number>,
  ) {
    super(message);
  }
}

/** A vault/keys command cannot do what was asked (e.g. retiring a key that entries still use). */
export class VaultCommandError extends VaultSetupError {
  override name = 'VaultCommandError';
}

export const MASTER_KEY_HELP =
  'KEYHOLE_MASTER_KEY is not set. It must hold 32 random bytes in base64url; make one with:\n' +
  `  node -e "console.log(require('crypto').randomBytes(32).toString('base64url'))"\n` +
  'or `keyhole keys init --config keyhole.json`, or name another key source in the config ("keys": {"source": "file"|"keychain"}).';

/** keys.source is "env" (the default) and KEYHOLE_MASTER_KEY is not set. */
export class MissingMasterKeyError extends KeySourceError {
  override name = 'MissingMasterKeyError';
  constructor() {
    super(MASTER_KEY_HELP);
  }
}

/**
 * A compare-and-swap write of a grant's upstream credential found another version than the one it was based on: the
 * row was written meanwhile (another keyhole refreshed it, a key rotation re-sealed it, `vault migrate` moved it).
 */
export class CredentialVersionConflictError extends Error {
  override name = 'CredentialVersionConflictError';
  constructor(readonly grantId: string, readonly expectedVersion: number) {
    super(`the upstream credential of grant ${grantId} is no longer at version ${expectedVersion}`);
  }
}
