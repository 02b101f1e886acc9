/**
 * Refresh locks: at most one upstream refresh per grant at a time, across every keyhole on the same database.
 *
 * A single-use (rotating) upstream refresh token may be spent exactly once (RFC 6749 §6; OAuth 2.0 Security BCP,
 * RFC 9700 §4.14.2: the authorization server may revoke the whole grant when a rotated refresh token comes back).
 * So the refresh of a grant runs under its lock, and the holder re-reads the credential after acquiring it: an
 * instance that waited behind another finds the winner's token and never spends the old refresh token again.
 *
 * - SQLite: one process per database file, so an in-process lock per grant suffices (./in-process-refresh-locks.ts).
 * - PostgreSQL: a session-level advisory lock per grant on a dedicated connection (./postgres-refresh-locks.ts); a
 *   holder that dies ends its session, which releases the lock.
 * The compare-and-swap on `upstream_credentials.version` (UpstreamCredentialRepository.putIfVersion) is the second
 * line: a write based on a credential that changed meanwhile is refused.
 */

export interface RefreshLockOptions {
  /** How long to wait for the lock before giving up with RefreshLockTimeoutError (default 10 000 ms). */
  waitMs?: number;
}

export interface RefreshLocks {
  /**
   * Runs `fn` while holding the grant's refresh lock; releases it when `fn` settles (resolves or rejects).
   * @throws RefreshLockTimeoutError when the lock could not be taken within `waitMs` (`fn` never ran).
   */
  withLock<T>(grantId: string, fn: () => Promise<T>, options?: RefreshLockOptions): Promise<T>;
}

/** The lock of a grant stayed held by someone else for longer than the caller would wait. */
export class RefreshLockTimeoutError extends Error {
  override name = 'RefreshLockTimeoutError';
  constructor(readonly grantId: string, readonly waitedMs: number) {
    super(`the refresh lock of grant ${grantId} was not free within ${waitedMs} ms`);
  }
}

export const DEFAULT_REFRESH_LOCK_WAIT_MS = 10_000;
