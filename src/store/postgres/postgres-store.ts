/**
 * The PostgreSQL implementation of the store (node-postgres): one repository per aggregate (./clients.ts, ./grants.ts,
 * …) over a small pool (./pool.ts), the schema migrated at open under an advisory lock (./migrations.ts). Semantics
 * are pinned by the same contract suite as SQLite's (test/unit/store/store-contract.ts).
 *
 * Transactions: `transaction(fn)` checks out one pooled connection, runs BEGIN, passes `fn` a transaction-scoped store
 * whose every statement runs on that connection, and COMMITs when `fn` resolves (ROLLBACK when it rejects). The outer
 * store keeps using the pool meanwhile: its operations run on other connections, never join the open transaction and
 * do not see its uncommitted rows (READ COMMITTED). A transaction-scoped store kept after its transaction throws.
 *
 * Cross-instance single-flight of upstream refreshes: `refreshLocks` (session-level advisory locks on a dedicated
 * connection) plus the compare-and-swap on `upstream_credentials.version` (./upstream-credentials.ts). That
 * compare-and-swap (the write of a refresh's result: a rotated upstream refresh token) runs on a small pool of its own
 * (`credentialWrites`, 2 connections kept open; an idle one never keeps the process alive), so that it never queues for a connection behind other work: a
 * rotation the upstream committed is at risk until it is written (docs/invariants.md #8).
 * Cross-instance change notices: `changes` (./change-feed.ts, LISTEN/NOTIFY plus a polled `change_log`). There is no
 * cache of access-token lookups: every lookup is a primary-key query, so a revocation committed by any instance is
 * seen by the next lookup on every instance.
 */
import pg from 'pg';
import type { ChangeFeed } from '../changes/change-feed.js';
import { PostgresAdminSessions } from './admin-sessions.js';
import { PostgresMcpSessions } from './mcp-sessions.js';
import { PostgresChangeFeed } from './change-feed.js';
import type { Store } from '../types.js';
import { PostgresApprovedTools } from './approved-tools.js';
import { PostgresAuditLog } from './audit-log.js';
import { PostgresClients, PostgresDcrRegistrations } from './clients.js';
import { PostgresEvents } from './events.js';
import { PoolExecutor, inTransaction, type Executor } from './executor.js';
import { PostgresGrants } from './grants.js';
import { migratePostgres } from './migrations.js';
import { PostgresPending } from './pending.js';
import { PostgresPeople, PostgresPersonSessions } from './people.js';
import { openPostgresPool, type PostgresPoolOptions } from './pool.js';
import { PostgresSealedSecrets } from './sealed-secrets.js';
import { PostgresSigningKeys } from './signing-keys.js';
import { PostgresTokens } from './tokens.js';
import { PostgresRefreshLocks } from '../refresh-locks/postgres-refresh-locks.js';
import { PostgresUpstreamCredentials } from './upstream-credentials.js';
import { PostgresUpstreamRegistrations } from './upstream-registrations.js';
import { PostgresVaultEntries } from './vault-entries.js';

/** The repositories of the store interface over one executor. */
function repositories(ex: Executor, credentialWrites: Executor = ex): Omit<Store, 'transaction' | 'close' | 'refreshLocks' | 'changes'> {
  return {
    clients: new PostgresClients(ex),
    dcrRegistrations: new PostgresDcrRegistrations(ex),
    pending: new PostgresPending(ex),
    grants: new PostgresGrants(ex),
    tokens: new PostgresTokens(ex),
    upstreamCredentials: new PostgresUpstreamCredentials(ex, credentialWrites),
    vaultEntries: new PostgresVaultEntries(ex),
    events: new PostgresEvents(ex),
    upstreamRegistrations: new PostgresUpstreamRegistrations(ex),
    signingKeys: new PostgresSigningKeys(ex),
    sealedSecrets: new PostgresSealedSecrets(ex),
    approvedTools: new PostgresApprovedTools(ex),
    auditLog: new PostgresAuditLog(ex),
    people: new PostgresPeople(ex),
    personSessions: new PostgresPersonSessions(ex),
    adminSessions: new PostgresAdminSessions(ex),
    mcpSessions: new PostgresMcpSessions(ex),
  };
}

export interface PostgresStoreOptions {
  /** A failure of the change feed's LISTEN connection or poll (retried; reported only). */
  onChangeFeedError?: (err: Error) => void;
  /** The change feed's fallback poll period, ms (default 1000). */
  changePollMs?: number;
}

export class PostgresStore implements Store {
  readonly clients;
  readonly dcrRegistrations;
  readonly pending;
  readonly grants;
  readonly tokens;
  readonly upstreamCredentials;
  readonly vaultEntries;
  readonly events;
  readonly upstreamRegistrations;
  readonly signingKeys;
  readonly sealedSecrets;
  readonly approvedTools;
  readonly auditLog;
  readonly people;
  readonly personSessions;
  /** Session-level advisory locks on a dedicated connection (../refresh-locks/postgres-refresh-locks.ts). */
  readonly refreshLocks: PostgresRefreshLocks;
  readonly adminSessions;
  readonly mcpSessions;
  readonly changes: ChangeFeed;
  /** Only the compare-and-swap writes of refresh results (see the file comment). */
  readonly #credentialWrites: pg.Pool;
  #closed: Promise<void> | undefined;

  constructor(readonly pool: pg.Pool, options: PostgresStoreOptions = {}) {
    this.#credentialWrites = new pg.Pool({ ...pool.options, max: 2, idleTimeoutMillis: 0, allowExitOnIdle: true, application_name: 'keyhole-credential-writes' });
    this.#credentialWrites.on('error', () => undefined); // an idle connection that fails is dropped by the pool
    // Connected now, not at the first refresh (a restarted instance's first rotation must not wait for a connect).
    this.#credentialWrites.query('SELECT 1').catch(() => undefined);
    const r = repositories(new PoolExecutor(pool), new PoolExecutor(this.#credentialWrites));
    this.changes = new PostgresChangeFeed({
      pool, connect: () => new pg.Client({ ...pool.options }),
      ...(options.onChangeFeedError ? { onError: options.onChangeFeedError } : {}),
      ...(options.changePollMs !== undefined ? { pollMs: options.changePollMs } : {}),
    });
    this.clients = r.clients;
    this.dcrRegistrations = r.dcrRegistrations;
    this.pending = r.pending;
    this.grants = r.grants;
    this.tokens = r.tokens;
    this.upstreamCredentials = r.upstreamCredentials;
    this.vaultEntries = r.vaultEntries;
    this.events = r.events;
    this.upstreamRegistrations = r.upstreamRegistrations;
    this.signingKeys = r.signingKeys;
    this.sealedSecrets = r.sealedSecrets;
    this.approvedTools = r.approvedTools;
    this.auditLog = r.auditLog;
    this.people = r.people;
    this.personSessions = r.personSessions;
    this.refreshLocks = new PostgresRefreshLocks(pool.options);
    this.adminSessions = r.adminSessions;
    this.mcpSessions = r.mcpSessions;
  }

  async transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T> {
    return inTransaction(await this.pool.connect(), (ex) => {
      const tx: Store = {
        ...repositories(ex),
        refreshLocks: this.refreshLocks,
        changes: this.changes,
        transaction: (inner) => inner(tx), // nested: the same transaction
        close: () => Promise.reject(new Error('close the store, not its transaction')),
      };
      return fn(tx);
    });
  }

  /** Ends the pool (idempotent); waits for checked-out connections to be released. */
  close(): Promise<void> {
    this.#closed ??= Promise.all([this.changes.close(), this.refreshLocks.close(), this.#credentialWrites.end()]).then(() => this.pool.end());
    return this.#closed;
  }
}

/**
 * Connects to the PostgreSQL database at `url` (a clear PostgresConnectError when it cannot), applies the migrations
 * it has not seen (under an advisory lock: instances starting at once are safe) and returns the store.
 */
export async function createPostgresStore(url: string, options: PostgresPoolOptions & { changePollMs?: number } = {}): Promise<PostgresStore> {
  const { changePollMs, ...poolOptions } = options;
  const pool = await openPostgresPool(url, poolOptions);
  try {
    await migratePostgres(pool);
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw err;
  }
  return new PostgresStore(pool, { ...(options.onIdleError ? { onChangeFeedError: options.onIdleError } : {}), ...(changePollMs !== undefined ? { changePollMs } : {}) });
}
