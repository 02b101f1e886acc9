/**
 * Cross-instance change notifications: what one keyhole instance changed that the others keep in memory and must
 * forget at once (issue 12 §2, "one truth"). The store is the truth; a change notice only tells the other instances
 * which in-memory copies (caches, open streams, loaded keys) to drop or reload.
 *
 * - PostgreSQL (../postgres/change-feed.ts): `NOTIFY` on publish, `LISTEN` on a dedicated connection that reconnects
 *   with backoff, and a bounded fallback: every instance also polls the small `change_log` table (by default every
 *   second), so a lost notification or a broken LISTEN connection still converges within one poll.
 * - SQLite (./memory-change-feed.ts): one process per database file (src/store/sqlite/process-lock.ts), so an
 *   in-process emitter shared by the stores of the same file is enough.
 *
 * A subscriber sees the changes of every OTHER feed (instance) on the same database, never its own publishes: the
 * publishing instance has already acted locally. Delivery is at least once: listeners must be idempotent.
 */

/** What changed. Add a kind when a new in-memory copy must follow the database. */
export type ChangeKind =
  /** A grant ended (any path: admin, RFC 7009, upstream invalid_grant): drop its caches, close its streams. `id` = grant id. */
  | 'grant-revoked'
  /** Identity signing keys were rotated or created: reload the active key and the JWKS. `id` = the new active kid. */
  | 'signing-keys';

export const CHANGE_KINDS: readonly ChangeKind[] = ['grant-revoked', 'signing-keys'];

export interface Change {
  kind: ChangeKind;
  id: string;
}

export type ChangeListener = (change: Change) => void;

export interface ChangeFeed {
  /** Tells every other instance; resolves once the notice is durable (PostgreSQL: the change_log row committed). */
  publish(kind: ChangeKind, id: string): Promise<void>;
  /** Registers a listener for other instances' changes; returns a function that removes it. */
  subscribe(listener: ChangeListener): () => void;
  /** Stops listening and polling (idempotent). */
  close(): Promise<void>;
}

/** Calls every listener; one that throws does not keep the others from the change. */
export function deliver(listeners: Iterable<ChangeListener>, change: Change, onError?: (e: unknown) => void): void {
  for (const l of listeners) {
    try {
      l(change);
    } catch (e) {
      onError?.(e);
    }
  }
}

export function isChangeKind(value: unknown): value is ChangeKind {
  return typeof value === 'string' && (CHANGE_KINDS as readonly string[]).includes(value);
}
