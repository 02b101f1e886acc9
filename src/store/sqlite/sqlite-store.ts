/**
 * The SQLite implementation of the store interface (better-sqlite3, synchronous). Schema and id formats are
 * documented in ./migrations.ts. Semantics are pinned by test/unit/store/store-contract.ts.
 */
import { closeSync, openSync } from 'node:fs';
import Database from 'better-sqlite3';
import type {
  AccessTokenLookup,
  AccessTokenRecord,
  ClientExpiryReason,
  ClientFilter,
  ClientGrantStats,
  ClientKind,
  ClientListEntry,
  ClientRecord,
  CodeRecord,
  EventFilter,
  EventRecord,
  GrantFilter,
  GrantRecord,
  GrantStatus,
  NewEvent,
  PendingAuthorization,
  RefreshLocationCounts,
  RefreshTokenRecord,
  Sealed,
  SealedEntry,
  SealedEntryFilter,
  SealedField,
  SealedKidCount,
  Store,
  TokenHash,
  UpstreamCredential,
  UpstreamCredentialWrite,
} from '../types.js';
import type { SigningKeyRecord, UpstreamRegistration } from '../types.js';
import { UpstreamKindsTables } from './upstream-kinds-tables.js';
import { ClientTables, clientEntryFromRow, clientPageSql, clientWhere, type ClientListRow } from './client-tables.js';
import { migrate } from './migrations.js';
import { sealedKid } from './sealed-kid.js';

/** The request hot path: a primary-key point query on access_tokens joined to grants by primary key. */
export const ACCESS_TOKEN_LOOKUP_SQL = `SELECT a.*, g.status AS grant_status, g.server AS grant_server,
    g.subject AS grant_subject
  FROM access_tokens a JOIN grants g ON g.id = a.grant_id WHERE a.hash = @hash`;

/** Page size used when a filter gives no `limit`. */
export const DEFAULT_PAGE_SIZE = 50;
/** Largest page a filter may ask for. */
export const MAX_PAGE_SIZE = 500;

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

// ---------------------------------------------------------------------------------------------------------------
// rows and mapping

interface ClientRow {
  client_id: string;
  kind: ClientKind;
  metadata: string;
  secret_hash: string | null;
  created_at: number;
  blocked_at: number | null;
  last_used_at: number | null;
}
interface PendingRow {
  id: string;
  client_id: string;
  request: string;
  upstream_state_hash: string | null;
  upstream_verifier: string | null;
  upstream_scopes: string;
  grant_id: string | null;
  browser_binding_hash: string | null;
  created_at: number;
  expires_at: number;
}
interface GrantRow {
  id: string;
  client_id: string;
  server: string;
  subject: string;
  subject_name: string | null;
  scopes: string;
  status: GrantStatus;
  status_reason: string | null;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}
interface CredentialRow {
  grant_id: string;
  access_token: string;
  access_expires_at: number | null;
  refresh_token: string | null;
  scopes: string;
  updated_at: number;
  refresh_failing_since: number | null;
  refresh_in_keychain: number;
}
interface CodeRow {
  hash: string;
  grant_id: string;
  family_id: string;
  client_id: string;
  redirect_uri: string;
  code_challenge: string;
  resource: string;
  scopes: string;
  expires_at: number;
  used_at: number | null;
}
interface AccessTokenRow {
  hash: string;
  grant_id: string;
  family_id: string;
  client_id: string;
  resource: string;
  scopes: string;
  expires_at: number;
  revoked_at: number | null;
}
interface AccessLookupRow extends AccessTokenRow {
  grant_status: GrantStatus;
  grant_server: string;
  grant_subject: string;
}
interface RefreshTokenRow extends AccessTokenRow {
  used_at: number | null;
}
interface EventRow {
  id: number;
  at: number;
  type: string;
  grant_id: string | null;
  client_id: string | null;
  server: string | null;
  subject: string | null;
  outcome: 'success' | 'failure';
  detail: string;
}

/** Scopes are stored space-separated; a scope-token cannot contain whitespace (RFC 6749 §3.3). */
function joinScopes(scopes: readonly string[]): string {
  for (const s of scopes) {
    if (typeof s !== 'string' || s.length === 0 || /\s/.test(s)) {
      throw new TypeError(`invalid scope token ${JSON.stringify(s)}: scopes are non-empty and contain no whitespace`);
    }
  }
  return scopes.join(' ');
}
function splitScopes(value: string): string[] {
  return value === '' ? [] : value.split(' ');
}
function toJson(value: Record<string, unknown> | undefined | null): string {
  return JSON.stringify(value ?? {});
}
function fromJson(value: string): Record<string, unknown> {
  const parsed: unknown = JSON.parse(value);
  return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
}

function clientFromRow(r: ClientRow): ClientRecord {
  return {
    clientId: r.client_id,
    kind: r.kind,
    metadata: fromJson(r.metadata),
    secretHash: r.secret_hash,
    createdAt: r.created_at,
    blockedAt: r.blocked_at,
    lastUsedAt: r.last_used_at,
  };
}
function pendingFromRow(r: PendingRow): PendingAuthorization {
  return {
    id: r.id,
    request: JSON.parse(r.request) as PendingAuthorization['request'],
    upstreamStateHash: r.upstream_state_hash,
    upstreamVerifier: r.upstream_verifier,
    upstreamScopes: splitScopes(r.upstream_scopes),
    grantId: r.grant_id,
    browserBindingHash: r.browser_binding_hash,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
  };
}
function grantFromRow(r: GrantRow): GrantRecord {
  return {
    id: r.id,
    clientId: r.client_id,
    server: r.server,
    subject: r.subject,
    subjectName: r.subject_name,
    scopes: splitScopes(r.scopes),
    status: r.status,
    statusReason: r.status_reason,
    createdAt: r.created_at,
    lastUsedAt: r.last_used_at,
    revokedAt: r.revoked_at,
  };
}
function credentialFromRow(r: CredentialRow): UpstreamCredential {
  return {
    grantId: r.grant_id,
    accessToken: r.access_token,
    accessExpiresAt: r.access_expires_at,
    refreshToken: r.refresh_token,
    scopes: splitScopes(r.scopes),
    updatedAt: r.updated_at,
    refreshFailingSince: r.refresh_failing_since,
    refreshInKeychain: r.refresh_in_keychain === 1,
  };
}
function codeFromRow(r: CodeRow): CodeRecord {
  return {
    hash: r.hash,
    grantId: r.grant_id,
    familyId: r.family_id,
    clientId: r.client_id,
    redirectUri: r.redirect_uri,
    codeChallenge: r.code_challenge,
    resource: r.resource,
    scopes: splitScopes(r.scopes),
    expiresAt: r.expires_at,
    usedAt: r.used_at,
  };
}
function accessFromRow(r: AccessTokenRow): AccessTokenRecord {
  return {
    hash: r.hash,
    grantId: r.grant_id,
    familyId: r.family_id,
    clientId: r.client_id,
    resource: r.resource,
    scopes: splitScopes(r.scopes),
    expiresAt: r.expires_at,
    revokedAt: r.revoked_at,
  };
}
function refreshFromRow(r: RefreshTokenRow): RefreshTokenRecord {
  return {
    hash: r.hash,
    grantId: r.grant_id,
    familyId: r.family_id,
    clientId: r.client_id,
    resource: r.resource,
    scopes: splitScopes(r.scopes),
    expiresAt: r.expires_at,
    usedAt: r.used_at,
    revokedAt: r.revoked_at,
  };
}
function eventFromRow(r: EventRow): EventRecord {
  return {
    id: r.id,
    at: r.at,
    type: r.type,
    grantId: r.grant_id,
    clientId: r.client_id,
    server: r.server,
    subject: r.subject,
    outcome: r.outcome,
    detail: fromJson(r.detail),
  };
}

/** Clamps a page: limit defaults to 50, at most 500, at least 1; offset at least 0. */
export function pageOf(filter: { limit?: number; offset?: number }): { limit: number; offset: number } {
  const rawLimit = filter.limit;
  const limit =
    typeof rawLimit === 'number' && Number.isFinite(rawLimit)
      ? Math.min(MAX_PAGE_SIZE, Math.max(1, Math.floor(rawLimit)))
      : DEFAULT_PAGE_SIZE;
  const rawOffset = filter.offset;
  const offset = typeof rawOffset === 'number' && Number.isFinite(rawOffset) ? Math.max(0, Math.floor(rawOffset)) : 0;
  return { limit, offset };
}

type Params = Record<string, string | number | null>;

/**
 * The sealed values of the small tables (migration 3), as (field, id, kid, sealed) rows; the kid is read from the
 * ciphertext's header by the `keyhole_sealed_kid` SQL function each connection registers.
 */
const SMALL_SEALED_SQL = `
  SELECT 'registration_client_secret' AS field, json_array(server, issuer) AS id,
    keyhole_sealed_kid(client_secret) AS kid, client_secret AS sealed FROM upstream_registrations WHERE client_secret IS NOT NULL
  UNION ALL SELECT 'registration_token', json_array(server, issuer), keyhole_sealed_kid(registration_access_token),
    registration_access_token FROM upstream_registrations WHERE registration_access_token IS NOT NULL
  UNION ALL SELECT 'signing_key', kid, keyhole_sealed_kid(private_key), private_key FROM signing_keys
  UNION ALL SELECT 'sealed_secret', name, keyhole_sealed_kid(sealed), sealed FROM sealed_secrets`;

/** Batch sizes for the rotation/migration scans: 1…1000. */
function clampBatch(limit: number): number {
  return Number.isFinite(limit) ? Math.min(1000, Math.max(1, Math.floor(limit))) : 100;
}

function grantWhere(filter: GrantFilter): { where: string; params: Params } {
  const clauses: string[] = [];
  const params: Params = {};
  if (filter.clientId != null) {
    clauses.push('client_id = @clientId');
    params.clientId = filter.clientId;
  }
  if (filter.server != null) {
    clauses.push('server = @server');
    params.server = filter.server;
  }
  if (filter.subject != null) {
    clauses.push('subject = @subject');
    params.subject = filter.subject;
  }
  if (filter.status != null) {
    clauses.push('status = @status');
    params.status = filter.status;
  }
  return { where: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
}

/** `since` and `until` are both inclusive bounds on `at`. */
function eventWhere(filter: EventFilter): { where: string; params: Params } {
  const clauses: string[] = [];
  const params: Params = {};
  if (filter.type != null) {
    clauses.push('type = @type');
    params.type = filter.type;
  }
  if (filter.grantId != null) {
    clauses.push('grant_id = @grantId');
    params.grantId = filter.grantId;
  }
  if (filter.clientId != null) {
    clauses.push('client_id = @clientId');
    params.clientId = filter.clientId;
  }
  if (filter.server != null) {
    clauses.push('server = @server');
    params.server = filter.server;
  }
  if (filter.since != null) {
    clauses.push('at >= @since');
    params.since = filter.since;
  }
  if (filter.until != null) {
    clauses.push('at <= @until');
    params.until = filter.until;
  }
  return { where: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
}

// ---------------------------------------------------------------------------------------------------------------

/**
 * Decisions beyond the interface text:
 * - Grants are never deleted. `deleteClient` removes the client row and its pending authorizations only; the client's
 *   grants, tokens and events stay (there is no FK from grants to clients). Callers that delete a client should
 *   revoke its grants first (so the upstream tokens get revoked and events written).
 * - Codes and tokens have a FK to their grant: creating one for an unknown grant throws.
 * - `putUpstreamCredential` writes only while the grant is active: a refresh that finishes after the grant was
 *   revoked cannot bring a credential back (revocation deleted it). It is then a no-op.
 * - Revocation timestamps keep the first revocation (`revoked_at` is set only where NULL).
 * - A pending authorization is expired when `expiresAt <= now`.
 */
/** The row parameters of a client, shared by insert and upsert. */
function clientParams(client: ClientRecord): Params {
  return {
    clientId: client.clientId,
    kind: client.kind,
    metadata: toJson(client.metadata),
    secretHash: client.secretHash,
    createdAt: client.createdAt,
    blockedAt: client.blockedAt,
    lastUsedAt: client.lastUsedAt ?? null,
  };
}

/** Upper bound of the access-token lookup cache (entries). */
const LOOKUP_CACHE_MAX = 10_000;

export class SqliteStore implements Store {
  readonly db: Database.Database;
  readonly #s;
  readonly #pageStatements = new Map<string, Database.Statement<[Params]>>();
  readonly #kinds: UpstreamKindsTables;
  readonly #clients: ClientTables;
  /**
   * Hot-path cache of access-token lookups (hash → result), the largest cost keyhole adds per MCP request (bench/).
   * It never outlives a revocation: every revoking write of this store clears it, and so does any commit by another
   * connection or process (`PRAGMA data_version` changes then; it does not for this connection's own commits).
   * Misses and reads inside a transaction are not cached. Bounded, oldest entry evicted first.
   */
  readonly #lookupCache = new Map<TokenHash, AccessTokenLookup>();
  readonly #dataVersion: Database.Statement<[], number>;
  #seenDataVersion = -1;

  constructor(db: Database.Database) {
    this.db = db;
    this.#dataVersion = db.prepare<[], number>('PRAGMA data_version').pluck();
    db.function('keyhole_sealed_kid', { deterministic: true }, (sealed: unknown) => sealedKid(typeof sealed === 'string' ? sealed : null));
    this.#kinds = new UpstreamKindsTables(db);
    this.#clients = new ClientTables(db);
    const p = <Row = unknown>(sql: string) => db.prepare<[Params?], Row>(sql);
    this.#s = {
      // clients
      insertClient: p(`INSERT INTO clients (client_id, kind, metadata, secret_hash, created_at, blocked_at, last_used_at)
        VALUES (@clientId, @kind, @metadata, @secretHash, @createdAt, @blockedAt, @lastUsedAt)`),
      getClient: p<ClientRow>('SELECT * FROM clients WHERE client_id = @clientId'),
      upsertClient: p(`INSERT INTO clients (client_id, kind, metadata, secret_hash, created_at, blocked_at, last_used_at)
        VALUES (@clientId, @kind, @metadata, @secretHash, @createdAt, @blockedAt, @lastUsedAt)
        ON CONFLICT (client_id) DO UPDATE SET kind = excluded.kind, metadata = excluded.metadata, secret_hash = excluded.secret_hash`),
      listClients: p<ClientRow>('SELECT * FROM clients ORDER BY created_at DESC, rowid DESC'),
      countClients: p<{ n: number }>('SELECT count(*) AS n FROM clients'),
      blockClient: p('UPDATE clients SET blocked_at = @at WHERE client_id = @clientId AND blocked_at IS NULL'),
      deleteClient: p('DELETE FROM clients WHERE client_id = @clientId'),
      deletePendingOfClient: p('DELETE FROM pending_authorizations WHERE client_id = @clientId'),

      // pending
      insertPending: p(`INSERT INTO pending_authorizations
        (id, client_id, request, upstream_state_hash, upstream_verifier, verifier_kid, upstream_scopes, grant_id, browser_binding_hash, created_at, expires_at)
        VALUES (@id, @clientId, @request, @upstreamStateHash, @upstreamVerifier, @verifierKid, @upstreamScopes, @grantId, @browserBindingHash, @createdAt, @expiresAt)`),
      getPending: p<PendingRow>('SELECT * FROM pending_authorizations WHERE id = @id'),
      getPendingByState: p<PendingRow>('SELECT * FROM pending_authorizations WHERE upstream_state_hash = @stateHash'),
      updatePendingUpstream: p(`UPDATE pending_authorizations
        SET upstream_state_hash = @stateHash, upstream_verifier = @verifier, verifier_kid = @verifierKid, upstream_scopes = @scopes,
          browser_binding_hash = @bindingHash
        WHERE id = @id`),
      deletePending: p('DELETE FROM pending_authorizations WHERE id = @id'),
      deleteExpiredPending: p('DELETE FROM pending_authorizations WHERE expires_at <= @now'),

      // grants
      insertGrant: p(`INSERT INTO grants
        (id, client_id, server, subject, subject_name, scopes, status, status_reason, created_at, last_used_at, revoked_at)
        VALUES (@id, @clientId, @server, @subject, @subjectName, @scopes, @status, @statusReason, @createdAt, @lastUsedAt, @revokedAt)`),
      getGrant: p<GrantRow>('SELECT * FROM grants WHERE id = @id'),
      findActiveGrant: p<GrantRow>(`SELECT * FROM grants
        WHERE client_id = @clientId AND server = @server AND subject = @subject AND status = 'active'
        ORDER BY created_at DESC, rowid DESC LIMIT 1`),
      updateGrantScopes: p('UPDATE grants SET scopes = @scopes WHERE id = @id'),
      touchGrant: p('UPDATE grants SET last_used_at = @at WHERE id = @id AND (last_used_at IS NULL OR last_used_at < @at)'),
      revokeGrantRow: p(`UPDATE grants SET status = 'revoked', status_reason = @reason, revoked_at = @at
        WHERE id = @id AND status = 'active'`),
      revokeGrantAccess: p('UPDATE access_tokens SET revoked_at = @at WHERE grant_id = @id AND revoked_at IS NULL'),
      revokeGrantRefresh: p('UPDATE refresh_tokens SET revoked_at = @at WHERE grant_id = @id AND revoked_at IS NULL'),
      useGrantCodes: p('UPDATE codes SET used_at = @at WHERE grant_id = @id AND used_at IS NULL'),
      deleteCredential: p('DELETE FROM upstream_credentials WHERE grant_id = @id'),

      // upstream credentials
      putCredential: p(`INSERT INTO upstream_credentials
        (grant_id, access_token, access_kid, access_expires_at, refresh_token, refresh_kid, refresh_in_keychain, scopes,
         updated_at, refresh_failing_since)
        SELECT @grantId, @accessToken, @accessKid, @accessExpiresAt, @refreshToken, @refreshKid, @refreshInKeychain, @scopes,
          @updatedAt, @refreshFailingSince
        WHERE EXISTS (SELECT 1 FROM grants WHERE id = @grantId AND status = 'active')
        ON CONFLICT (grant_id) DO UPDATE SET
          access_token = excluded.access_token, access_kid = excluded.access_kid, access_expires_at = excluded.access_expires_at,
          refresh_token = excluded.refresh_token, refresh_kid = excluded.refresh_kid,
          refresh_in_keychain = excluded.refresh_in_keychain, scopes = excluded.scopes, updated_at = excluded.updated_at,
          refresh_failing_since = excluded.refresh_failing_since`),
      getCredential: p<CredentialRow>('SELECT * FROM upstream_credentials WHERE grant_id = @grantId'),
      markRefreshFailing: p('UPDATE upstream_credentials SET refresh_failing_since = @since WHERE grant_id = @grantId'),

      // vault ciphertexts by kid (rotation) and refresh-token location (vault migration)
      // The big tables keep the kid in a column; the small ones (a few rows per server) read it from the header.
      countSealedByKid: p<{ field: SealedField; kid: string | null; n: number }>(`
        SELECT 'pending_verifier' AS field, verifier_kid AS kid, count(*) AS n FROM pending_authorizations
          WHERE upstream_verifier IS NOT NULL GROUP BY verifier_kid
        UNION ALL SELECT 'upstream_access', access_kid, count(*) FROM upstream_credentials GROUP BY access_kid
        UNION ALL SELECT 'upstream_refresh', refresh_kid, count(*) FROM upstream_credentials
          WHERE refresh_token IS NOT NULL GROUP BY refresh_kid
        UNION ALL SELECT field, kid, count(*) FROM (${SMALL_SEALED_SQL}) GROUP BY field, kid`),
      listSealed: p<SealedEntry>(`SELECT field, id, kid, sealed FROM (
          SELECT 'pending_verifier' AS field, id, verifier_kid AS kid, upstream_verifier AS sealed FROM pending_authorizations
            WHERE upstream_verifier IS NOT NULL
          UNION ALL SELECT 'upstream_access', grant_id, access_kid, access_token FROM upstream_credentials
          UNION ALL SELECT 'upstream_refresh', grant_id, refresh_kid, refresh_token FROM upstream_credentials
            WHERE refresh_token IS NOT NULL
          UNION ALL ${SMALL_SEALED_SQL})
        WHERE (@kid IS NULL OR kid = @kid) AND (@notKid IS NULL OR kid IS NULL OR kid <> @notKid)
          AND (@afterField IS NULL OR (field, id) > (@afterField, @afterId))
        ORDER BY field, id LIMIT @limit`),
      replaceVerifier: p(`UPDATE pending_authorizations SET upstream_verifier = @next, verifier_kid = @kid
        WHERE id = @id AND upstream_verifier = @expected`),
      replaceAccess: p(`UPDATE upstream_credentials SET access_token = @next, access_kid = @kid
        WHERE grant_id = @id AND access_token = @expected`),
      replaceRefresh: p(`UPDATE upstream_credentials SET refresh_token = @next, refresh_kid = @kid
        WHERE grant_id = @id AND refresh_token = @expected`),
      replaceRegistrationSecret: p(`UPDATE upstream_registrations SET client_secret = @next
        WHERE server = json_extract(@id, '$[0]') AND issuer = json_extract(@id, '$[1]') AND client_secret = @expected`),
      replaceRegistrationToken: p(`UPDATE upstream_registrations SET registration_access_token = @next
        WHERE server = json_extract(@id, '$[0]') AND issuer = json_extract(@id, '$[1]') AND registration_access_token = @expected`),
      replaceSigningKey: p('UPDATE signing_keys SET private_key = @next WHERE kid = @id AND private_key = @expected'),
      replaceSealedSecret: p('UPDATE sealed_secrets SET sealed = @next WHERE name = @id AND sealed = @expected'),
      countRefreshLocations: p<{ sqlite: number | null; keychain: number | null; none: number | null }>(`SELECT
          sum(CASE WHEN refresh_token IS NOT NULL THEN 1 ELSE 0 END) AS sqlite,
          sum(CASE WHEN refresh_in_keychain = 1 THEN 1 ELSE 0 END) AS keychain,
          sum(CASE WHEN refresh_token IS NULL AND refresh_in_keychain = 0 THEN 1 ELSE 0 END) AS none
        FROM upstream_credentials`),
      listRefreshInStore: p<{ grant_id: string }>(`SELECT grant_id FROM upstream_credentials
        WHERE refresh_token IS NOT NULL AND grant_id > @after ORDER BY grant_id LIMIT @limit`),
      listRefreshInKeychain: p<{ grant_id: string }>(`SELECT grant_id FROM upstream_credentials
        WHERE refresh_in_keychain = 1 AND grant_id > @after ORDER BY grant_id LIMIT @limit`),
      markRefreshInKeychain: p(`UPDATE upstream_credentials SET refresh_token = NULL, refresh_kid = NULL, refresh_in_keychain = 1
        WHERE grant_id = @grantId AND refresh_token = @expected`),
      markRefreshInStore: p(`UPDATE upstream_credentials SET refresh_token = @sealed, refresh_kid = @kid, refresh_in_keychain = 0
        WHERE grant_id = @grantId AND refresh_in_keychain = 1`),

      // codes
      insertCode: p(`INSERT INTO codes
        (hash, grant_id, family_id, client_id, redirect_uri, code_challenge, resource, scopes, expires_at, used_at)
        VALUES (@hash, @grantId, @familyId, @clientId, @redirectUri, @codeChallenge, @resource, @scopes, @expiresAt, @usedAt)`),
      getCode: p<CodeRow>('SELECT * FROM codes WHERE hash = @hash'),
      useCode: p('UPDATE codes SET used_at = @now WHERE hash = @hash AND used_at IS NULL'),

      // tokens
      insertAccess: p(`INSERT INTO access_tokens
        (hash, grant_id, family_id, client_id, resource, scopes, expires_at, revoked_at)
        VALUES (@hash, @grantId, @familyId, @clientId, @resource, @scopes, @expiresAt, @revokedAt)`),
      lookupAccess: p<AccessLookupRow>(ACCESS_TOKEN_LOOKUP_SQL),
      revokeAccess: p('UPDATE access_tokens SET revoked_at = @at WHERE hash = @hash AND revoked_at IS NULL'),
      insertRefresh: p(`INSERT INTO refresh_tokens
        (hash, grant_id, family_id, client_id, resource, scopes, expires_at, used_at, revoked_at)
        VALUES (@hash, @grantId, @familyId, @clientId, @resource, @scopes, @expiresAt, @usedAt, @revokedAt)`),
      getRefresh: p<RefreshTokenRow>('SELECT * FROM refresh_tokens WHERE hash = @hash'),
      markRefreshUsed: p('UPDATE refresh_tokens SET used_at = @at WHERE hash = @hash AND used_at IS NULL'),
      revokeFamilyCodes: p('UPDATE codes SET used_at = @at WHERE family_id = @familyId AND used_at IS NULL'),
      revokeFamilyAccess: p('UPDATE access_tokens SET revoked_at = @at WHERE family_id = @familyId AND revoked_at IS NULL'),
      revokeFamilyRefresh: p(
        'UPDATE refresh_tokens SET revoked_at = @at WHERE family_id = @familyId AND revoked_at IS NULL',
      ),

      // events
      insertEvent: p(`INSERT INTO events (at, type, grant_id, client_id, server, subject, outcome, detail)
        VALUES (@at, @type, @grantId, @clientId, @server, @subject, @outcome, @detail)`),
    };
  }

  // ---- clients ------------------------------------------------------------------------------------------------

  createClient(client: ClientRecord): void {
    this.#s.insertClient.run(clientParams(client));
  }

  upsertClient(client: ClientRecord): void {
    this.#s.upsertClient.run(clientParams(client));
  }

  getClient(clientId: string): ClientRecord | undefined {
    const row = this.#s.getClient.get({ clientId });
    return row && clientFromRow(row);
  }

  /** All clients, newest first. */
  listClients(): ClientRecord[] {
    return this.#s.listClients.all().map(clientFromRow);
  }

  countClients(filter: ClientFilter = {}): number {
    const { where, params } = clientWhere(filter);
    if (!where) return this.#s.countClients.get()?.n ?? 0;
    return (this.#page(`SELECT count(*) AS n FROM clients ${where}`).get(params) as { n: number }).n;
  }

  /** Newest first (created_at, then insertion order); the page is cut in SQL, grant stats for its rows only. */
  listClientPage(filter: ClientFilter): ClientListEntry[] {
    const { where, params } = clientWhere(filter);
    const { limit, offset } = pageOf(filter);
    const rows = this.#page(clientPageSql(where)).all({ ...params, limit, offset }) as ClientListRow[];
    return rows.map((r) => clientEntryFromRow(r, fromJson(r.metadata)));
  }

  touchClient(clientId: string, at: number): void {
    this.#clients.touch(clientId, at);
  }

  dcrRegistrationsSince(since: number): { count: number; oldest: number | null } {
    return this.#clients.registrationsSince(since);
  }

  listExpiredDcrClients(neverUsedCreatedBefore: number, usedBefore: number, limit: number): Array<{ clientId: string; reason: ClientExpiryReason }> {
    return this.#clients.expired(neverUsedCreatedBefore, usedBefore, limit);
  }

  blockClient(clientId: string, at: number): void {
    this.#s.blockClient.run({ clientId, at });
  }

  /** Deletes the client and its pending authorizations. Its grants stay as history (see the class comment). */
  deleteClient(clientId: string): void {
    this.transaction(() => {
      this.#s.deletePendingOfClient.run({ clientId });
      this.#s.deleteClient.run({ clientId });
    });
  }

  // ---- pending authorizations -----------------------------------------------------------------------------

  createPending(pa: PendingAuthorization): void {
    this.#s.insertPending.run({
      id: pa.id,
      clientId: pa.request.clientId,
      request: JSON.stringify(pa.request),
      upstreamStateHash: pa.upstreamStateHash,
      upstreamVerifier: pa.upstreamVerifier,
      verifierKid: sealedKid(pa.upstreamVerifier),
      upstreamScopes: joinScopes(pa.upstreamScopes),
      grantId: pa.grantId,
      browserBindingHash: pa.browserBindingHash ?? null,
      createdAt: pa.createdAt,
      expiresAt: pa.expiresAt,
    });
  }

  getPending(id: string): PendingAuthorization | undefined {
    const row = this.#s.getPending.get({ id });
    return row && pendingFromRow(row);
  }

  updatePendingUpstream(id: string, upstreamStateHash: TokenHash, upstreamVerifier: Sealed, upstreamScopes: string[], browserBindingHash?: TokenHash): void {
    this.#s.updatePendingUpstream.run({
      id,
      stateHash: upstreamStateHash,
      verifier: upstreamVerifier,
      verifierKid: sealedKid(upstreamVerifier),
      scopes: joinScopes(upstreamScopes),
      bindingHash: browserBindingHash ?? null,
    });
  }

  /** Fetches and deletes in one transaction; an expired one (`expiresAt <= now`) is deleted and not returned. */
  takePendingByUpstreamState(stateHash: TokenHash, now: number): PendingAuthorization | undefined {
    return this.transaction(() => {
      const row = this.#s.getPendingByState.get({ stateHash });
      if (!row) return undefined;
      this.#s.deletePending.run({ id: row.id });
      return row.expires_at <= now ? undefined : pendingFromRow(row);
    });
  }

  deletePending(id: string): void {
    this.#s.deletePending.run({ id });
  }

  deleteExpiredPending(now: number): number {
    return this.#s.deleteExpiredPending.run({ now }).changes;
  }

  // ---- grants ---------------------------------------------------------------------------------------------

  createGrant(g: GrantRecord): void {
    this.#s.insertGrant.run({
      id: g.id,
      clientId: g.clientId,
      server: g.server,
      subject: g.subject,
      subjectName: g.subjectName,
      scopes: joinScopes(g.scopes),
      status: g.status,
      statusReason: g.statusReason,
      createdAt: g.createdAt,
      lastUsedAt: g.lastUsedAt,
      revokedAt: g.revokedAt,
    });
  }

  getGrant(id: string): GrantRecord | undefined {
    const row = this.#s.getGrant.get({ id });
    return row && grantFromRow(row);
  }

  /** The newest active grant for (client, server, subject). */
  findActiveGrant(clientId: string, server: string, subject: string): GrantRecord | undefined {
    const row = this.#s.findActiveGrant.get({ clientId, server, subject });
    return row && grantFromRow(row);
  }

  updateGrantScopes(id: string, scopes: string[]): void {
    this.#s.updateGrantScopes.run({ id, scopes: joinScopes(scopes) });
  }

  /** Sets last_used_at, never moving it backwards. */
  touchGrant(id: string, at: number): void {
    this.#s.touchGrant.run({ id, at });
  }

  revokeGrant(id: string, reason: string, at: number): boolean {
    this.#lookupCache.clear();
    return this.transaction(() => {
      if (this.#s.revokeGrantRow.run({ id, reason, at }).changes === 0) return false; // unknown or already revoked
      this.#s.revokeGrantAccess.run({ id, at });
      this.#s.revokeGrantRefresh.run({ id, at });
      this.#s.useGrantCodes.run({ id, at });
      this.#s.deleteCredential.run({ id });
      return true;
    });
  }

  /** Newest first (created_at, then insertion order). */
  listGrants(filter: GrantFilter): GrantRecord[] {
    const { where, params } = grantWhere(filter);
    const { limit, offset } = pageOf(filter);
    const sql = `SELECT * FROM grants ${where} ORDER BY created_at DESC, rowid DESC LIMIT @limit OFFSET @offset`;
    return (this.#page(sql).all({ ...params, limit, offset }) as GrantRow[]).map(grantFromRow);
  }

  countGrants(filter: GrantFilter): number {
    const { where, params } = grantWhere(filter);
    return (this.#page(`SELECT count(*) AS n FROM grants ${where}`).get(params) as { n: number }).n;
  }

  // ---- upstream credentials -------------------------------------------------------------------------------

  /**
   * Inserts or replaces the grant's credential; a no-op unless the grant exists and is active.
   * A refresh token both sealed here and marked as in the keychain is refused (TypeError).
   */
  putUpstreamCredential(c: UpstreamCredentialWrite): void {
    const inKeychain = c.refreshInKeychain === true;
    if (inKeychain && c.refreshToken !== null) {
      throw new TypeError('refreshToken must be null when the refresh token is in the keychain (refreshInKeychain)');
    }
    this.#s.putCredential.run({
      grantId: c.grantId,
      accessToken: c.accessToken,
      accessKid: sealedKid(c.accessToken),
      accessExpiresAt: c.accessExpiresAt,
      refreshToken: c.refreshToken,
      refreshKid: sealedKid(c.refreshToken),
      refreshInKeychain: inKeychain ? 1 : 0,
      scopes: joinScopes(c.scopes),
      updatedAt: c.updatedAt,
      refreshFailingSince: c.refreshFailingSince,
    });
  }

  getUpstreamCredential(grantId: string): UpstreamCredential | undefined {
    const row = this.#s.getCredential.get({ grantId });
    return row && credentialFromRow(row);
  }

  markUpstreamRefreshFailing(grantId: string, since: number | null): void {
    this.#s.markRefreshFailing.run({ grantId, since });
  }

  // ---- vault ciphertexts by kid (rotation), refresh-token location (vault migration) -------------------------

  /** Per field, per kid (null = not a readable vault ciphertext), ordered by field then kid. */
  countSealedByKid(): SealedKidCount[] {
    return this.#s.countSealedByKid
      .all()
      .map((r) => ({ field: r.field, kid: r.kid, count: r.n }))
      .sort((a, b) => (a.field === b.field ? String(a.kid).localeCompare(String(b.kid)) : a.field.localeCompare(b.field)));
  }

  listSealedEntries(filter: SealedEntryFilter): SealedEntry[] {
    return this.#s.listSealed.all({
      kid: filter.kid ?? null,
      notKid: filter.notKid ?? null,
      afterField: filter.after?.field ?? null,
      afterId: filter.after?.id ?? null,
      limit: clampBatch(filter.limit),
    });
  }

  replaceSealed(field: SealedField, id: string, expected: Sealed, next: Sealed): boolean {
    const params = { id, expected, next, kid: sealedKid(next) };
    const plain = { id, expected, next }; // tables without a kid column
    switch (field) {
      case 'pending_verifier':
        return this.#s.replaceVerifier.run(params).changes === 1;
      case 'upstream_access':
        return this.#s.replaceAccess.run(params).changes === 1;
      case 'upstream_refresh':
        return this.#s.replaceRefresh.run(params).changes === 1;
      case 'registration_client_secret':
        return this.#s.replaceRegistrationSecret.run(plain).changes === 1;
      case 'registration_token':
        return this.#s.replaceRegistrationToken.run(plain).changes === 1;
      case 'signing_key':
        return this.#s.replaceSigningKey.run(plain).changes === 1;
      case 'sealed_secret':
        return this.#s.replaceSealedSecret.run(plain).changes === 1;
      default:
        throw new TypeError(`unknown sealed field ${JSON.stringify(field)}`);
    }
  }

  countRefreshLocations(): RefreshLocationCounts {
    const r = this.#s.countRefreshLocations.get();
    return { sqlite: r?.sqlite ?? 0, keychain: r?.keychain ?? 0, none: r?.none ?? 0 };
  }

  listRefreshIdsIn(location: 'sqlite' | 'keychain', afterId: string | null, limit: number): string[] {
    const stmt = location === 'keychain' ? this.#s.listRefreshInKeychain : this.#s.listRefreshInStore;
    return stmt.all({ after: afterId ?? '', limit: clampBatch(limit) }).map((r) => r.grant_id);
  }

  markRefreshInKeychain(grantId: string, expected: Sealed): boolean {
    return this.#s.markRefreshInKeychain.run({ grantId, expected }).changes === 1;
  }

  markRefreshInStore(grantId: string, sealed: Sealed): boolean {
    return this.#s.markRefreshInStore.run({ grantId, sealed, kid: sealedKid(sealed) }).changes === 1;
  }

  // ---- codes ----------------------------------------------------------------------------------------------

  createCode(c: CodeRecord): void {
    this.#s.insertCode.run({
      hash: c.hash,
      grantId: c.grantId,
      familyId: c.familyId,
      clientId: c.clientId,
      redirectUri: c.redirectUri,
      codeChallenge: c.codeChallenge,
      resource: c.resource,
      scopes: joinScopes(c.scopes),
      expiresAt: c.expiresAt,
      usedAt: c.usedAt,
    });
  }

  getCode(hash: TokenHash): CodeRecord | undefined {
    const row = this.#s.getCode.get({ hash });
    return row && codeFromRow(row);
  }

  consumeCode(hash: TokenHash, now: number): CodeRecord | undefined {
    return this.transaction(() => {
      const row = this.#s.getCode.get({ hash });
      if (!row) return undefined;
      if (row.used_at === null) this.#s.useCode.run({ hash, now });
      return codeFromRow(row); // with the usedAt it had before this call
    });
  }

  // ---- tokens ---------------------------------------------------------------------------------------------

  createAccessToken(t: AccessTokenRecord): void {
    this.#s.insertAccess.run({
      hash: t.hash,
      grantId: t.grantId,
      familyId: t.familyId,
      clientId: t.clientId,
      resource: t.resource,
      scopes: joinScopes(t.scopes),
      expiresAt: t.expiresAt,
      revokedAt: t.revokedAt,
    });
  }

  lookupAccessToken(hash: TokenHash): AccessTokenLookup | undefined {
    const cacheable = !this.db.inTransaction;
    if (cacheable) {
      const version = this.#dataVersion.get()!;
      if (version !== this.#seenDataVersion) {
        this.#lookupCache.clear(); // another connection committed: it may have revoked something
        this.#seenDataVersion = version;
      }
      const hit = this.#lookupCache.get(hash);
      if (hit) return hit;
    }
    const row = this.#s.lookupAccess.get({ hash });
    if (!row) return undefined;
    const result: AccessTokenLookup = Object.freeze({ ...accessFromRow(row), grantStatus: row.grant_status, server: row.grant_server, subject: row.grant_subject });
    if (cacheable) {
      if (this.#lookupCache.size >= LOOKUP_CACHE_MAX) this.#lookupCache.delete(this.#lookupCache.keys().next().value!);
      this.#lookupCache.set(hash, result);
    }
    return result;
  }

  revokeAccessToken(hash: TokenHash, at: number): void {
    this.#s.revokeAccess.run({ hash, at });
    this.#lookupCache.clear();
  }

  createRefreshToken(t: RefreshTokenRecord): void {
    this.#s.insertRefresh.run({
      hash: t.hash,
      grantId: t.grantId,
      familyId: t.familyId,
      clientId: t.clientId,
      resource: t.resource,
      scopes: joinScopes(t.scopes),
      expiresAt: t.expiresAt,
      usedAt: t.usedAt,
      revokedAt: t.revokedAt,
    });
  }

  getRefreshToken(hash: TokenHash): RefreshTokenRecord | undefined {
    const row = this.#s.getRefresh.get({ hash });
    return row && refreshFromRow(row);
  }

  /** Compare-and-set: true only for the one call that moved used_at from NULL. */
  markRefreshTokenUsed(hash: TokenHash, at: number): boolean {
    return this.#s.markRefreshUsed.run({ hash, at }).changes === 1;
  }

  /** Unused codes of the family are marked used; access and refresh tokens get revoked_at. */
  revokeFamily(familyId: string, at: number): void {
    this.#lookupCache.clear();
    this.transaction(() => {
      this.#s.revokeFamilyCodes.run({ familyId, at });
      this.#s.revokeFamilyAccess.run({ familyId, at });
      this.#s.revokeFamilyRefresh.run({ familyId, at });
    });
  }

  // ---- events ---------------------------------------------------------------------------------------------

  appendEvent(e: NewEvent): number {
    const result = this.#s.insertEvent.run({
      at: e.at,
      type: e.type,
      grantId: e.grantId,
      clientId: e.clientId,
      server: e.server,
      subject: e.subject,
      outcome: e.outcome,
      detail: toJson(e.detail),
    });
    return Number(result.lastInsertRowid);
  }

  /** Newest first (at, then id). `since`/`until` are inclusive. */
  listEvents(filter: EventFilter): EventRecord[] {
    const { where, params } = eventWhere(filter);
    const { limit, offset } = pageOf(filter);
    const sql = `SELECT * FROM events ${where} ORDER BY at DESC, id DESC LIMIT @limit OFFSET @offset`;
    return (this.#page(sql).all({ ...params, limit, offset }) as EventRow[]).map(eventFromRow);
  }

  countEvents(filter: EventFilter): number {
    const { where, params } = eventWhere(filter);
    return (this.#page(`SELECT count(*) AS n FROM events ${where}`).get(params) as { n: number }).n;
  }

  // ---- admin views ----------------------------------------------------------------------------------------

  /** One row per client id found in `grants` (grants of deleted clients included), by client id. */
  clientGrantStats(): ClientGrantStats[] {
    const sql = `SELECT client_id, count(*) AS n, sum(CASE WHEN status = 'active' THEN 1 ELSE 0 END) AS active,
      max(last_used_at) AS last_used FROM grants GROUP BY client_id ORDER BY client_id`;
    const rows = this.#page(sql).all({}) as Array<{ client_id: string; n: number; active: number; last_used: number | null }>;
    return rows.map((r) => ({ clientId: r.client_id, grantCount: r.n, activeGrantCount: r.active, lastUsedAt: r.last_used }));
  }

  /** Oldest first by id, after the cursor; `limit` clamped to 1…500. */
  scanEvents(filter: EventFilter, afterId: number, limit: number): EventRecord[] {
    const { where, params } = eventWhere(filter);
    const cursor = where ? `${where} AND id > @afterId` : 'WHERE id > @afterId';
    const sql = `SELECT * FROM events ${cursor} ORDER BY id ASC LIMIT @limit`;
    const page = pageOf({ limit });
    const after = Number.isFinite(afterId) ? Math.floor(afterId) : 0;
    return (this.#page(sql).all({ ...params, afterId: after, limit: page.limit }) as EventRow[]).map(eventFromRow);
  }

  // ---- upstream kinds: registrations, signing keys, sealed secrets (./upstream-kinds-tables.ts) ----------------

  putUpstreamRegistration(r: UpstreamRegistration): void { this.#kinds.putUpstreamRegistration(r); }
  getUpstreamRegistration(server: string, issuer: string): UpstreamRegistration | undefined { return this.#kinds.getUpstreamRegistration(server, issuer); }
  deleteUpstreamRegistration(server: string, issuer: string): void { this.#kinds.deleteUpstreamRegistration(server, issuer); }
  createSigningKey(k: SigningKeyRecord): void { this.#kinds.createSigningKey(k); }
  listSigningKeys(): SigningKeyRecord[] { return this.#kinds.listSigningKeys(); }
  activateSigningKey(kid: string, at: number): void { this.#kinds.activateSigningKey(kid, at); }
  retireSigningKey(kid: string, at: number): void { this.#kinds.retireSigningKey(kid, at); }
  deleteSigningKeysRetiredBefore(before: number): number { return this.#kinds.deleteSigningKeysRetiredBefore(before); }
  putSealedSecret(name: string, sealed: Sealed, at: number): void { this.#kinds.putSealedSecret(name, sealed, at); }
  getSealedSecret(name: string): Sealed | undefined { return this.#kinds.getSealedSecret(name); }
  deleteSealedSecret(name: string): void { this.#kinds.deleteSealedSecret(name); }

  // ---- plumbing -------------------------------------------------------------------------------------------

  /** Runs `fn` in a transaction (nested calls become savepoints). `fn` must be synchronous. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** Filtered list/count statements: one per filter shape (at most 16 for grants, 64 for events), prepared once. */
  #page(sql: string): Database.Statement<[Params]> {
    let stmt = this.#pageStatements.get(sql);
    if (!stmt) {
      stmt = this.db.prepare<[Params]>(sql);
      this.#pageStatements.set(sql, stmt);
    }
    return stmt;
  }
}
