/**
 * The store: every read and write of keyhole's state goes through it, one repository per aggregate
 * (./repositories/*.ts, each documenting its table(s) and id formats), so that another engine can be added and run
 * the same contract suite (test/unit/store/store-contract.ts).
 *
 * Ids are opaque strings: grants `g_<22 base64url>`, families `f_<22>`, pending `p_<22>`, people `u_<22>`, clients `c_<22>`
 * for DCR (a CIMD client's id is its https URL; a static client's id is its configured name).
 */
import type { AdminSessionRepository } from './repositories/admin-sessions.js';
import type { ApprovedToolsRepository } from './repositories/approved-tools.js';
import type { ChangeFeed } from './changes/change-feed.js';
import type { AuditLogRepository } from './repositories/audit-log.js';
import type { ClientRepository, DcrRegistrationCounter } from './repositories/clients.js';
import type { EventRepository } from './repositories/events.js';
import type { GrantRepository } from './repositories/grants.js';
import type { McpSessionRepository } from './repositories/mcp-sessions.js';
import type { PendingAuthorizationRepository } from './repositories/pending.js';
import type { PersonRepository } from './repositories/people.js';
import type { PersonSessionRepository } from './repositories/person-sessions.js';
import type { SealedSecretRepository } from './repositories/sealed-secrets.js';
import type { SigningKeyRepository } from './repositories/signing-keys.js';
import type { TokenRepository } from './repositories/tokens.js';
import type { UpstreamCredentialRepository } from './repositories/upstream-credentials.js';
import type { UpstreamRegistrationRepository } from './repositories/upstream-registrations.js';
import type { VaultEntryRepository } from './repositories/vault-entries.js';
import type { RefreshLocks } from './refresh-locks/refresh-locks.js';

export type * from './repositories/values.js';
export type * from './repositories/clients.js';
export type * from './repositories/pending.js';
export type * from './repositories/grants.js';
export type * from './repositories/tokens.js';
export type * from './repositories/upstream-credentials.js';
export type * from './repositories/vault-entries.js';
export type * from './repositories/events.js';
export type * from './repositories/upstream-registrations.js';
export type * from './repositories/signing-keys.js';
export type * from './repositories/sealed-secrets.js';
export type * from './repositories/approved-tools.js';
export type * from './repositories/audit-log.js';
export type * from './repositories/people.js';
export type * from './repositories/person-sessions.js';
export type * from './refresh-locks/refresh-locks.js';
export type * from './repositories/admin-sessions.js';
export type * from './repositories/mcp-sessions.js';
export type * from './changes/change-feed.js';

/** The repositories, as one facade. */
export interface Store {
  readonly clients: ClientRepository;
  readonly dcrRegistrations: DcrRegistrationCounter;
  readonly pending: PendingAuthorizationRepository;
  readonly grants: GrantRepository;
  readonly tokens: TokenRepository;
  readonly upstreamCredentials: UpstreamCredentialRepository;
  readonly vaultEntries: VaultEntryRepository;
  readonly events: EventRepository;
  readonly upstreamRegistrations: UpstreamRegistrationRepository;
  readonly signingKeys: SigningKeyRepository;
  readonly sealedSecrets: SealedSecretRepository;
  /** The approved tool lists of the servers with `pinTools`. */
  readonly approvedTools: ApprovedToolsRepository;
  /** The audit log (one row per MCP request), the retention purges and the grant count (issue 14). */
  readonly auditLog: AuditLogRepository;
  /** People (issue 13): the person behind grants, from the organization's IdP and SCIM. */
  readonly people: PersonRepository;
  /** keyhole's sessions of signed-in people (the person-session cookie), by hash. */
  readonly personSessions: PersonSessionRepository;
  /**
   * One upstream refresh per grant at a time, across every keyhole on this database (./refresh-locks/): in-process on
   * SQLite (one process per file), a session-level advisory lock on PostgreSQL. The same object on a transaction.
   */
  readonly refreshLocks: RefreshLocks;
  /** Admin sessions, shared by every instance (issue 12 §2). */
  readonly adminSessions: AdminSessionRepository;
  /** Which grant an upstream's MCP session id was handed to, shared by every instance (src/proxy/session-binding.ts). */
  readonly mcpSessions: McpSessionRepository;
  /**
   * Cross-instance change notices (./changes/change-feed.ts): PostgreSQL LISTEN/NOTIFY with a polled fallback, SQLite
   * an in-process emitter. A transaction-scoped store has the same feed (publish after the transaction commits).
   */
  readonly changes: ChangeFeed;

  /**
   * Runs `fn` in one transaction: committed when the promise `fn` returns resolves, rolled back when it rejects (the
   * error is rethrown). `fn` receives a transaction-scoped store; every operation of the transaction goes through it.
   * Operations on the outer store never join an open transaction: they wait until it ends (SQLite has one
   * connection) or run on another connection (PostgreSQL). `tx.transaction(fn)` runs `fn(tx)` in the same transaction.
   */
  transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T>;
  /** Closes the store (idempotent). Not available on a transaction-scoped store. */
  close(): Promise<void>;
}
