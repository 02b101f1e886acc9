/**
 * Admin sessions (src/admin/session.ts), kept in the database so that every instance behind a load balancer knows
 * every session (issue 12 §2): sign in on one instance, act on another, sign out anywhere.
 *
 * Table `admin_sessions` (SQLite ../sqlite/admin-sessions.ts, PostgreSQL ../postgres/admin-sessions.ts), keyed by
 * `key_hash`: the SHA-256 hex of the session cookie's value (the value itself is never stored). Times are ms since the
 * epoch (the session lifetimes are configured in ms). The per-session CSRF token is derived from the cookie value, so
 * it is not stored either.
 */
export interface AdminSessionRecord {
  keyHash: string;
  createdAtMs: number;
  lastSeenAtMs: number;
  /** Absolute end. */
  expiresAtMs: number;
}

export interface AdminSessionRepository {
  create(session: AdminSessionRecord): Promise<void>;
  find(keyHash: string): Promise<AdminSessionRecord | undefined>;
  /** Marks a session used at `lastSeenAtMs` (never moves it back). */
  touch(keyHash: string, lastSeenAtMs: number): Promise<void>;
  /** Returns false when there was no such session. */
  delete(keyHash: string): Promise<boolean>;
  /** Deletes sessions past their end or unused since `idleBeforeMs`; returns how many. */
  deleteExpired(nowMs: number, idleBeforeMs: number): Promise<number>;
  /** Keeps the `max` most recently created sessions, deleting older ones; returns how many were deleted. */
  trim(max: number): Promise<number>;
  count(): Promise<number>;
}
