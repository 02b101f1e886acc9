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
  ApprovedToolsRepository,
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
import { asyncRepositories, sqliteRepositories } from './repositories.js';

export { ACCESS_TOKEN_LOOKUP_SQL } from './cached-token-lookup.js';
export { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, pageOf } from './shared.js';

/**
 * Opens (creating if needed) and migrates a keyhole SQLite database. `':memory:'` gives a private in-memory database.
 * A new database file is created with mode 0600: it holds sealed upstream secrets and token hashes.
 */
export function openSqliteStore(path: string): SqliteStore {
  const inMemory = path === ':memory:' || path === '';
  if (!inMemory) {
    // Create the file owner-only before SQLite does (SQLite gives -wal/-shm files the same mode as the database).
    closeSync(openSync(path, 'a', 0o600));
  }
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    db.pragma('synchronous = NORMAL');
    migrate(db);
    return new SqliteStore(db);
  } catch (err) {
    db.close();
    throw err;
  }
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
  readonly #mutex = new AsyncMutex();
  readonly #tx: Store;

  constructor(db: Database.Database) {
    this.#db = db;
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
    const tx: Store = {
      ...asyncRepositories(sync, directRunner),
      refreshLocks: this.refreshLocks,
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
    if (this.#db.open) this.#db.close();
  }
}
