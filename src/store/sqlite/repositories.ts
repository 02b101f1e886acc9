/**
 * The SQLite repositories of one connection, built once: synchronous (./clients.ts, …) and, through a Runner,
 * as the asynchronous repositories of the store interface.
 */
import type Database from 'better-sqlite3';
import type {
  AdminSessionRepository,
  ApprovedToolsRepository,
  AuditLogRepository,
  ClientRepository,
  DcrRegistrationCounter,
  EventRepository,
  McpSessionRepository,
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
import { SqliteAdminSessions } from './admin-sessions.js';
import { SqliteApprovedTools } from './approved-tools.js';
import { SqliteAuditLog } from './audit-log.js';
import { asyncRepository, type Runner } from './async-repositories.js';
import { CachedTokenLookup } from './cached-token-lookup.js';
import { SqliteClients, SqliteDcrRegistrations } from './clients.js';
import { SqliteEvents } from './events.js';
import { SqliteGrants } from './grants.js';
import { SqliteMcpSessions } from './mcp-sessions.js';
import { SqlitePending } from './pending.js';
import { SqlitePeople, SqlitePersonSessions } from './people.js';
import { SqliteSealedSecrets } from './sealed-secrets.js';
import { PageStatements, type SqliteContext } from './shared.js';
import { SqliteSigningKeys } from './signing-keys.js';
import { SqliteTokens } from './tokens.js';
import { SqliteUpstreamCredentials } from './upstream-credentials.js';
import { SqliteUpstreamRegistrations } from './upstream-registrations.js';
import { SqliteVaultEntries } from './vault-entries.js';

/** The repositories of the store interface, without transaction() and close(). */
export type Repositories = Omit<Store, 'transaction' | 'close' | 'refreshLocks' | 'changes'>;

export interface SqliteRepositories {
  vaultEntries: SqliteVaultEntries;
  clients: SqliteClients;
  dcrRegistrations: SqliteDcrRegistrations;
  pending: SqlitePending;
  grants: SqliteGrants;
  tokens: SqliteTokens;
  upstreamCredentials: SqliteUpstreamCredentials;
  events: SqliteEvents;
  upstreamRegistrations: SqliteUpstreamRegistrations;
  signingKeys: SqliteSigningKeys;
  sealedSecrets: SqliteSealedSecrets;
  approvedTools: SqliteApprovedTools;
  auditLog: SqliteAuditLog;
  people: SqlitePeople;
  personSessions: SqlitePersonSessions;
  adminSessions: SqliteAdminSessions;
  mcpSessions: SqliteMcpSessions;
}

export function sqliteRepositories(db: Database.Database): SqliteRepositories {
  const ctx: SqliteContext = { db, pages: new PageStatements(db) };
  const lookup = new CachedTokenLookup(db);
  return {
    vaultEntries: new SqliteVaultEntries(ctx), // first: registers the keyhole_sealed_kid SQL function
    clients: new SqliteClients(ctx),
    dcrRegistrations: new SqliteDcrRegistrations(ctx),
    pending: new SqlitePending(ctx),
    grants: new SqliteGrants(ctx, lookup),
    tokens: new SqliteTokens(ctx, lookup),
    upstreamCredentials: new SqliteUpstreamCredentials(ctx),
    events: new SqliteEvents(ctx),
    upstreamRegistrations: new SqliteUpstreamRegistrations(ctx),
    signingKeys: new SqliteSigningKeys(ctx),
    sealedSecrets: new SqliteSealedSecrets(ctx),
    approvedTools: new SqliteApprovedTools(ctx),
    auditLog: new SqliteAuditLog(ctx),
    people: new SqlitePeople(ctx),
    personSessions: new SqlitePersonSessions(ctx),
    adminSessions: new SqliteAdminSessions(ctx),
    mcpSessions: new SqliteMcpSessions(ctx),
  };
}

/** Every repository of `r`, each call run through `run`. */
export function asyncRepositories(r: SqliteRepositories, run: Runner): Repositories {
  return {
    vaultEntries: asyncRepository<VaultEntryRepository>(r.vaultEntries, run),
    clients: asyncRepository<ClientRepository>(r.clients, run),
    dcrRegistrations: asyncRepository<DcrRegistrationCounter>(r.dcrRegistrations, run),
    pending: asyncRepository<PendingAuthorizationRepository>(r.pending, run),
    grants: asyncRepository<GrantRepository>(r.grants, run),
    tokens: asyncRepository<TokenRepository>(r.tokens, run),
    upstreamCredentials: asyncRepository<UpstreamCredentialRepository>(r.upstreamCredentials, run),
    events: asyncRepository<EventRepository>(r.events, run),
    upstreamRegistrations: asyncRepository<UpstreamRegistrationRepository>(r.upstreamRegistrations, run),
    signingKeys: asyncRepository<SigningKeyRepository>(r.signingKeys, run),
    sealedSecrets: asyncRepository<SealedSecretRepository>(r.sealedSecrets, run),
    approvedTools: asyncRepository<ApprovedToolsRepository>(r.approvedTools, run),
    auditLog: asyncRepository<AuditLogRepository>(r.auditLog, run),
    people: asyncRepository<PersonRepository>(r.people, run),
    personSessions: asyncRepository<PersonSessionRepository>(r.personSessions, run),
    adminSessions: asyncRepository<AdminSessionRepository>(r.adminSessions, run),
    mcpSessions: asyncRepository<McpSessionRepository>(r.mcpSessions, run),
  };
}
