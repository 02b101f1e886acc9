/**
 * Upstream credentials: per grant, the upstream access token and refresh token, sealed.
 *
 * Table `upstream_credentials` (SQLite: ../sqlite/upstream-credentials.ts), keyed by grant id (`g_…`); the key ids
 * of the ciphertexts are kept beside them (`access_kid`, `refresh_kid`). The row says where the refresh token is:
 * sealed in `refresh_token`, in the OS keychain (`refresh_in_keychain`), or nowhere.
 */
import type { Sealed } from './values.js';

export interface UpstreamCredential {
  grantId: string;
  accessToken: Sealed;
  /** Absolute expiry of the upstream access token; null when the upstream did not say. */
  accessExpiresAt: number | null;
  refreshToken: Sealed | null;
  /** Upstream scopes granted (as the upstream reported them, or as asked). */
  scopes: string[];
  updatedAt: number;
  /** Set when the last upstream refresh failed with a transient error. */
  refreshFailingSince: number | null;
  /**
   * True when the upstream refresh token lives in the OS keychain (vault "keychain", account = grant id) instead of
   * `refreshToken`, which is then null. The row is authoritative about where the refresh token is, whatever
   * `storage.vault` says: that is what makes `keyhole vault migrate` safe to interrupt.
   */
  refreshInKeychain: boolean;
  /**
   * Incremented by every write of the row (1 when it is created). An upstream refresh writes its result with a
   * compare-and-swap on it (`putIfVersion`): a write based on a credential that changed meanwhile is refused.
   */
  version: number;
}

/**
 * What `put` takes: `refreshInKeychain` defaults to false (the refresh token, if any, is sealed here); the version is
 * the store's (incremented by the write).
 */
export type UpstreamCredentialWrite = Omit<UpstreamCredential, 'refreshInKeychain' | 'version'> & { refreshInKeychain?: boolean };

/** Where the upstream refresh tokens are: sealed in the store, in the OS keychain, or absent. */
export interface RefreshLocationCounts {
  sqlite: number;
  keychain: number;
  none: number;
}

export interface UpstreamCredentialRepository {
  /**
   * Inserts or replaces the grant's credential; a no-op unless the grant exists and is active (a refresh that
   * finishes after a revocation cannot bring a credential back). A refresh token both sealed here and marked as in
   * the keychain is refused (TypeError).
   */
  put(c: UpstreamCredentialWrite): Promise<void>;
  /**
   * Compare-and-swap: replaces the grant's credential only if its stored `version` is still `expectedVersion` and the
   * grant is active (the version is then incremented), in ONE statement (the checks folded into the write, the row
   * returned by it: no read before or after, the refresh path's window between an upstream answer and its commit
   * stays one round trip, docs/invariants.md #8). Returns the stored credential, or undefined, writing nothing,
   * otherwise (another instance refreshed meanwhile, the row was rewritten, or the grant ended). Never creates a row.
   */
  putIfVersion(c: UpstreamCredentialWrite, expectedVersion: number): Promise<UpstreamCredential | undefined>;
  find(grantId: string): Promise<UpstreamCredential | undefined>;
  /** The credentials of these grants that exist, in one query (admin pages: one read per page, not one per grant). */
  findMany(grantIds: string[]): Promise<UpstreamCredential[]>;
  /** Sets `refreshFailingSince` (a write: the version is incremented). */
  markRefreshFailing(grantId: string, since: number | null): Promise<void>;
  countRefreshLocations(): Promise<RefreshLocationCounts>;
  /** Grant ids whose upstream refresh token is in `location`, in id order after `afterId`, at most `limit` (1…1000). */
  listRefreshIdsIn(location: 'sqlite' | 'keychain', afterId: string | null, limit: number): Promise<string[]>;
  /** The refresh token moved to the keychain: clears the sealed copy, only if it still equals `expected`. */
  markRefreshInKeychain(grantId: string, expected: Sealed): Promise<boolean>;
  /** The refresh token moved back from the keychain: stores `sealed`, only if the row still says keychain. */
  markRefreshInStore(grantId: string, sealed: Sealed): Promise<boolean>;
}
