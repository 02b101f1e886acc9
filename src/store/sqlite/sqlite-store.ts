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
import { closeSync, openSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { Store } from '../types.js';
import { CachedTokenLookup } from './cached-token-lookup.js';
import { SqliteClients, SqliteDcrRegistrations } from './clients.js';
import { SqliteEvents } from './events.js';
import { SqliteGrants } from './grants.js';
import { migrate } from './migrations.js';
import { SqlitePending } from './pending.js';
import { SqliteSealedSecrets } from './sealed-secrets.js';
import { PageStatements, type SqliteContext } from './shared.js';
import { SqliteSigningKeys } from './signing-keys.js';
import { SqliteTokens } from './tokens.js';
import { SqliteUpstreamCredentials } from './upstream-credentials.js';
import { SqliteUpstreamRegistrations } from './upstream-registrations.js';
import { SqliteVaultEntries } from './vault-entries.js';

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

export class SqliteStore implements Store {
  readonly db: Database.Database;
  readonly vaultEntries: SqliteVaultEntries;
  readonly clients: SqliteClients;
  readonly dcrRegistrations: SqliteDcrRegistrations;
  readonly pending: SqlitePending;
  readonly grants: SqliteGrants;
  readonly tokens: SqliteTokens;
  readonly upstreamCredentials: SqliteUpstreamCredentials;
  readonly events: SqliteEvents;
  readonly upstreamRegistrations: SqliteUpstreamRegistrations;
  readonly signingKeys: SqliteSigningKeys;
  readonly sealedSecrets: SqliteSealedSecrets;

  constructor(db: Database.Database) {
    this.db = db;
    const ctx: SqliteContext = { db, pages: new PageStatements(db) };
    const lookup = new CachedTokenLookup(db);
    this.vaultEntries = new SqliteVaultEntries(ctx); // first: registers the keyhole_sealed_kid SQL function
    this.clients = new SqliteClients(ctx);
    this.dcrRegistrations = new SqliteDcrRegistrations(ctx);
    this.pending = new SqlitePending(ctx);
    this.grants = new SqliteGrants(ctx, lookup);
    this.tokens = new SqliteTokens(ctx, lookup);
    this.upstreamCredentials = new SqliteUpstreamCredentials(ctx);
    this.events = new SqliteEvents(ctx);
    this.upstreamRegistrations = new SqliteUpstreamRegistrations(ctx);
    this.signingKeys = new SqliteSigningKeys(ctx);
    this.sealedSecrets = new SqliteSealedSecrets(ctx);
  }

  /** Runs `fn` in a transaction (nested calls become savepoints). `fn` must be synchronous. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
