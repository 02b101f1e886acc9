/**
 * The SQLite implementation of the store (better-sqlite3): one repository per aggregate (./clients.ts, ./grants.ts,
 * …) over one connection. Schema and id formats are documented in ./migrations.ts and ../repositories/*.ts.
 * Semantics are pinned by test/unit/store/store-contract.ts.
 *
 * Decisions beyond the interface text:
 * - Grants are never deleted. Deleting a client removes the client row and its pending authorizations only; the
 *   client's grants, tokens and events stay (there is no FK from grants to clients). Callers that delete a client
 *   should revoke its grants first (so the upstream tokens get revoked and events written).
 * - Codes and tokens have a FK to their grant: creating one for an unknown grant throws.
 * - Revocation timestamps keep the first revocation (`revoked_at` is set only where NULL).
 * - A pending authorization is expired when `expiresAt <= now`.
 */
import { InProcessRefreshLocks } from '../refresh-locks/in-process-refresh-locks.js';
import { closeSync, openSync } from 'node:fs';
import Database from 'better-sqlite3';
import type {
  AdminSessionRepository,
  McpSessionRepository,
  ApprovedToolsRepository,
  ChangeFeed,
  AuditLogRepository,
  ClientRepository,
  DcrRegistrationCounter,
  EventRepository,
  GrantRepository,
  PendingAuthorizationRepository,
  PersonRepository,
  PersonSessionRepository,
  SealedSecretRepository,
  SigningKeyRepository,
  Store,
  TokenRepository,
  UpstreamCredentialRepository,
  UpstreamRegistrationRepository,
  VaultEntryRepository,
} from '../types.js';
import { AsyncMutex } from './async-mutex.js';
import { directRunner, gatedRunner } from './async-repositories.js';
import { migrate } from './migrations.js';
import { MemoryChangeFeed } from '../changes/memory-change-feed.js';
import { acquireProcessLock, canonicalDatabasePath } from './process-lock.js';
export { SqliteLockedError } from './process-lock.js';
import { asyncRepositories, sqliteRepositories } from './repositories.js';

export { ACCESS_TOKEN_LOOKUP_SQL } from './cached-token-lookup.js';
export { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, pageOf } from './shared.js';

export interface SqliteStoreOptions {
  /**
   * Take the one-process-per-file lock (./process-lock.ts): a second process meets SqliteLockedError. keyhole's
   * server takes it; read-only tools (keyhole check, grants list) do not. Default false.
   */
  lock?: boolean;
  /**
   * How often to run `PRAGMA wal_checkpoint(TRUNCATE)` (ms), which empties the -wal file when no reader is in the
   * way; 0 = never. Default: 60 000 with `lock`, else 0. The timer is unref'd and stopped by close().
   */
  checkpointEveryMs?: number;
}

/**
 * Most bytes a -wal file keeps after a checkpoint (SQLite truncates it to this; it may grow past it between
 * checkpoints, by about `wal_autocheckpoint` pages: 1000 × 4 KiB by default).
 * https://www.sqlite.org/pragma.html#pragma_journal_size_limit
 */
export const WAL_SIZE_LIMIT_BYTES = 4 * 1024 * 1024;

/**
 * Opens (creating if needed) and migrates a keyhole SQLite database. `':memory:'` gives a private in-memory database.
 * A new database file is created with mode 0600: it holds sealed upstream secrets and token hashes.
 *
 * Housekeeping (issue 12 §3: a small volume filled up with WAL that stayed across restarts):
 * - `journal_size_limit` bounds the -wal file after each checkpoint (WAL_SIZE_LIMIT_BYTES);
 * - a `wal_checkpoint(TRUNCATE)` right after opening (a WAL left by a killed process is folded in and emptied) and
 *   then every `checkpointEveryMs`. https://www.sqlite.org/pragma.html#pragma_wal_checkpoint,
 *   https://www.sqlite.org/wal.html#avoiding_excessively_large_wal_files
 */
export function openSqliteStore(path: string, options: SqliteStoreOptions = {}): SqliteStore {
  const inMemory = path === ':memory:' || path === '';
  if (!inMemory) {
    // Create the file owner-only before SQLite does (SQLite gives -wal/-shm files the same mode as the database).
    closeSync(openSync(path, 'a', 0o600));
  }
  const unlock = !inMemory && options.lock ? acquireProcessLock(path) : undefined;
  let db: Database.Database | undefined;
  try {
    db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    db.pragma('synchronous = NORMAL');
    db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
    migrate(db);
    const every = inMemory ? 0 : options.checkpointEveryMs ?? (options.lock ? 60_000 : 0);
    if (unlock) checkpoint(db);
    return new SqliteStore(db, inMemory ? new MemoryChangeFeed() : new MemoryChangeFeed(canonicalDatabasePath(path)), {
      ...(unlock ? { onClose: unlock } : {}), checkpointEveryMs: every,
    });
  } catch (err) {
    db?.close();
    unlock?.();
    throw err;
  }
}

/** Folds the WAL into the database and truncates it to zero bytes (when no reader holds an older snapshot). */
export function checkpoint(db: Database.Database): { busy: number; log: number; checkpointed: number } {
  const row = db.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number; log: number; checkpointed: number }>;
  return row[0] ?? { busy: 0, log: 0, checkpointed: 0 };
}

/**
 * The store over one SQLite connection. Transactions: `transaction(fn)` holds an async mutex from BEGIN IMMEDIATE to
 * COMMIT (or ROLLBACK when `fn` rejects) and passes `fn` a transaction-scoped store whose calls run at once; calls on
 * this store wait while the mutex is held, so they never join the open transaction, are never rolled back with it
 * and never read its uncommitted rows. Calling this store (instead of `tx`) inside `fn` therefore waits for `fn`
 * itself: a deadlock.
 */
export class SqliteStore implements Store {
  readonly #db: Database.Database;
  readonly vaultEntries: VaultEntryRepository;
  readonly clients: ClientRepository;
  readonly dcrRegistrations: DcrRegistrationCounter;
  readonly pending: PendingAuthorizationRepository;
  readonly grants: GrantRepository;
  readonly tokens: TokenRepository;
  readonly upstreamCredentials: UpstreamCredentialRepository;
  readonly events: EventRepository;
  readonly upstreamRegistrations: UpstreamRegistrationRepository;
  readonly signingKeys: SigningKeyRepository;
  readonly sealedSecrets: SealedSecretRepository;
  readonly approvedTools: ApprovedToolsRepository;
  readonly auditLog: AuditLogRepository;
  readonly people: PersonRepository;
  readonly personSessions: PersonSessionRepository;
  /** In-process: one keyhole process per SQLite file. */
  readonly refreshLocks = new InProcessRefreshLocks();
  readonly adminSessions: AdminSessionRepository;
  readonly mcpSessions: McpSessionRepository;
  readonly changes: ChangeFeed;
  readonly #mutex = new AsyncMutex();
  readonly #tx: Store;

  readonly #onClose: (() => void) | undefined;
  readonly #checkpointTimer: NodeJS.Timeout | undefined;

  constructor(db: Database.Database, changes: ChangeFeed = new MemoryChangeFeed(), options: { onClose?: () => void; checkpointEveryMs?: number } = {}) {
    this.#db = db;
    this.changes = changes;
    this.#onClose = options.onClose;
    if (options.checkpointEveryMs) {
      this.#checkpointTimer = setInterval(() => {
        // Not inside a transaction of ours (it would checkpoint nothing useful); a busy reader just means "next time".
        if (!this.#mutex.locked && this.#db.open) {
          try { checkpoint(this.#db); } catch { /* e.g. SQLITE_BUSY: retried at the next tick */ }
        }
      }, options.checkpointEveryMs);
      this.#checkpointTimer.unref();
    }
    const sync = sqliteRepositories(db);
    const outside = asyncRepositories(sync, gatedRunner(this.#mutex));
    this.vaultEntries = outside.vaultEntries;
    this.clients = outside.clients;
    this.dcrRegistrations = outside.dcrRegistrations;
    this.pending = outside.pending;
    this.grants = outside.grants;
    this.tokens = outside.tokens;
    this.upstreamCredentials = outside.upstreamCredentials;
    this.events = outside.events;
    this.upstreamRegistrations = outside.upstreamRegistrations;
    this.signingKeys = outside.signingKeys;
    this.sealedSecrets = outside.sealedSecrets;
    this.approvedTools = outside.approvedTools;
    this.auditLog = outside.auditLog;
    this.people = outside.people;
    this.personSessions = outside.personSessions;
    this.adminSessions = outside.adminSessions;
    this.mcpSessions = outside.mcpSessions;
    const tx: Store = {
      ...asyncRepositories(sync, directRunner),
      refreshLocks: this.refreshLocks,
      changes,
      transaction: (fn) => fn(tx), // nested: the same transaction
      close: () => Promise.reject(new Error('close the store, not its transaction')),
    };
    this.#tx = tx;
  }

  /**
   * The connection itself, for SQLite-only code that is about the engine (migrations, pragmas, the benchmark's page
   * cache, SQLite-only test helpers). Application code and engine-neutral tests use the repositories.
   */
  static connectionOf(store: SqliteStore): Database.Database {
    return store.#db;
  }

  async transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T> {
    const release = await this.#mutex.acquire();
    try {
      this.#db.exec('BEGIN IMMEDIATE');
      let result: T;
      try {
        result = await fn(this.#tx);
      } catch (err) {
        if (this.#db.inTransaction) this.#db.exec('ROLLBACK');
        throw err;
      }
      this.#db.exec('COMMIT');
      return result;
    } finally {
      release();
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#checkpointTimer);
    await this.changes.close();
    if (this.#db.open) this.#db.close();
    this.#onClose?.();
  }
}
