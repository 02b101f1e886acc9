/**
 * The SQLite implementation of the store interface (better-sqlite3, synchronous). Schema and id formats are
 * documented in ./migrations.ts. Semantics are pinned by test/unit/store/store-contract.ts.
 */
import { closeSync, openSync } from 'node:fs';
import Database from 'better-sqlite3';
import type {
  AccessTokenLookup,
  AccessTokenRecord,
  ClientKind,
  ClientRecord,
  CodeRecord,
  EventFilter,
  EventRecord,
  GrantFilter,
  GrantRecord,
  GrantStatus,
  NewEvent,
  PendingAuthorization,
  RefreshTokenRecord,
  Sealed,
  Store,
  TokenHash,
  UpstreamCredential,
} from '../types.js';
import { migrate } from './migrations.js';

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
}
interface PendingRow {
  id: string;
  client_id: string;
  request: string;
  upstream_state_hash: string | null;
  upstream_verifier: string | null;
  upstream_scopes: string;
  grant_id: string | null;
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
export class SqliteStore implements Store {
  readonly db: Database.Database;
  readonly #s;
  readonly #pageStatements = new Map<string, Database.Statement<[Params]>>();

  constructor(db: Database.Database) {
    this.db = db;
    const p = <Row = unknown>(sql: string) => db.prepare<[Params?], Row>(sql);
    this.#s = {
      // clients
      insertClient: p(`INSERT INTO clients (client_id, kind, metadata, secret_hash, created_at, blocked_at)
        VALUES (@clientId, @kind, @metadata, @secretHash, @createdAt, @blockedAt)`),
      getClient: p<ClientRow>('SELECT * FROM clients WHERE client_id = @clientId'),
      listClients: p<ClientRow>('SELECT * FROM clients ORDER BY created_at DESC, rowid DESC'),
      countClients: p<{ n: number }>('SELECT count(*) AS n FROM clients'),
      blockClient: p('UPDATE clients SET blocked_at = @at WHERE client_id = @clientId AND blocked_at IS NULL'),
      deleteClient: p('DELETE FROM clients WHERE client_id = @clientId'),
      deletePendingOfClient: p('DELETE FROM pending_authorizations WHERE client_id = @clientId'),

      // pending
      insertPending: p(`INSERT INTO pending_authorizations
        (id, client_id, request, upstream_state_hash, upstream_verifier, upstream_scopes, grant_id, created_at, expires_at)
        VALUES (@id, @clientId, @request, @upstreamStateHash, @upstreamVerifier, @upstreamScopes, @grantId, @createdAt, @expiresAt)`),
      getPending: p<PendingRow>('SELECT * FROM pending_authorizations WHERE id = @id'),
      getPendingByState: p<PendingRow>('SELECT * FROM pending_authorizations WHERE upstream_state_hash = @stateHash'),
      updatePendingUpstream: p(`UPDATE pending_authorizations
        SET upstream_state_hash = @stateHash, upstream_verifier = @verifier, upstream_scopes = @scopes WHERE id = @id`),
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
        (grant_id, access_token, access_expires_at, refresh_token, scopes, updated_at, refresh_failing_since)
        SELECT @grantId, @accessToken, @accessExpiresAt, @refreshToken, @scopes, @updatedAt, @refreshFailingSince
        WHERE EXISTS (SELECT 1 FROM grants WHERE id = @grantId AND status = 'active')
        ON CONFLICT (grant_id) DO UPDATE SET
          access_token = excluded.access_token, access_expires_at = excluded.access_expires_at,
          refresh_token = excluded.refresh_token, scopes = excluded.scopes, updated_at = excluded.updated_at,
          refresh_failing_since = excluded.refresh_failing_since`),
      getCredential: p<CredentialRow>('SELECT * FROM upstream_credentials WHERE grant_id = @grantId'),
      markRefreshFailing: p('UPDATE upstream_credentials SET refresh_failing_since = @since WHERE grant_id = @grantId'),

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
    this.#s.insertClient.run({
      clientId: client.clientId,
      kind: client.kind,
      metadata: toJson(client.metadata),
      secretHash: client.secretHash,
      createdAt: client.createdAt,
      blockedAt: client.blockedAt,
    });
  }

  getClient(clientId: string): ClientRecord | undefined {
    const row = this.#s.getClient.get({ clientId });
    return row && clientFromRow(row);
  }

  /** All clients, newest first. */
  listClients(): ClientRecord[] {
    return this.#s.listClients.all().map(clientFromRow);
  }

  countClients(): number {
    return this.#s.countClients.get()?.n ?? 0;
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
      upstreamScopes: joinScopes(pa.upstreamScopes),
      grantId: pa.grantId,
      createdAt: pa.createdAt,
      expiresAt: pa.expiresAt,
    });
  }

  getPending(id: string): PendingAuthorization | undefined {
    const row = this.#s.getPending.get({ id });
    return row && pendingFromRow(row);
  }

  updatePendingUpstream(id: string, upstreamStateHash: TokenHash, upstreamVerifier: Sealed, upstreamScopes: string[]): void {
    this.#s.updatePendingUpstream.run({
      id,
      stateHash: upstreamStateHash,
      verifier: upstreamVerifier,
      scopes: joinScopes(upstreamScopes),
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

  /** Inserts or replaces the grant's credential; a no-op unless the grant exists and is active. */
  putUpstreamCredential(c: UpstreamCredential): void {
    this.#s.putCredential.run({
      grantId: c.grantId,
      accessToken: c.accessToken,
      accessExpiresAt: c.accessExpiresAt,
      refreshToken: c.refreshToken,
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
    const row = this.#s.lookupAccess.get({ hash });
    if (!row) return undefined;
    return { ...accessFromRow(row), grantStatus: row.grant_status, server: row.grant_server, subject: row.grant_subject };
  }

  revokeAccessToken(hash: TokenHash, at: number): void {
    this.#s.revokeAccess.run({ hash, at });
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
