/**
 * The `people` and `person_sessions` row shapes, their mapping and the SQL both engines share
 * (../sqlite/people.ts, ../postgres/people.ts; the repositories are documented in ../repositories/people.ts).
 * JSON arrives as text from SQLite and parsed from PostgreSQL (`json`); booleans as 0/1 from SQLite.
 */
import type { OffboardVia, PersonFilter, PersonRecord, PersonStatus, ScimFields, SignInClaims } from '../repositories/people.js';
import type { PersonSessionRecord } from '../repositories/person-sessions.js';

type Params = Record<string, string | number | null>;

export interface PersonRow {
  id: string;
  iss: string | null;
  sub: string | null;
  email: string | null;
  name: string | null;
  idp_groups: unknown;
  status: PersonStatus;
  offboarded_at: number | null;
  offboarded_by: string | null;
  offboarded_via: OffboardVia | null;
  external_id: string | null;
  user_name: string | null;
  scim_active: number | boolean | null;
  created_at: number;
  last_seen_at: number | null;
}

/** A JSON array of strings, from text or already parsed; anything else is []. */
export function stringArrayOf(v: unknown): string[] {
  const parsed: unknown = typeof v === 'string' ? JSON.parse(v) : v;
  return Array.isArray(parsed) ? parsed.filter((g): g is string => typeof g === 'string') : [];
}

export function personFromRow(r: PersonRow): PersonRecord {
  return {
    id: r.id,
    iss: r.iss,
    sub: r.sub,
    email: r.email,
    name: r.name,
    groups: stringArrayOf(r.idp_groups),
    status: r.status,
    offboardedAt: r.offboarded_at,
    offboardedBy: r.offboarded_by,
    offboardedVia: r.offboarded_via,
    externalId: r.external_id,
    userName: r.user_name,
    scimActive: r.scim_active == null ? null : Boolean(r.scim_active),
    createdAt: r.created_at,
    lastSeenAt: r.last_seen_at,
  };
}

/** Insert parameters of a person (booleans as the engine wants them). */
export function personParams(p: PersonRecord, bool: (b: boolean) => number | boolean): Record<string, unknown> {
  return {
    id: p.id, iss: p.iss, sub: p.sub, email: p.email, name: p.name, groups: JSON.stringify(p.groups), status: p.status,
    offboardedAt: p.offboardedAt, offboardedBy: p.offboardedBy, offboardedVia: p.offboardedVia, externalId: p.externalId,
    userName: p.userName, scimActive: p.scimActive == null ? null : bool(p.scimActive), createdAt: p.createdAt, lastSeenAt: p.lastSeenAt,
  };
}

/** The parameters of PERSON_SQL.updateAtSignIn, linkAtSignIn and insertAtSignIn (one sign-in's claims). */
export function signInParams(claims: SignInClaims, id: string, now: number): Params {
  return { id, iss: claims.iss, sub: claims.sub, email: claims.email, name: claims.name, groups: JSON.stringify(claims.groups), now };
}

export const PERSON_SQL = {
  insert: `INSERT INTO people (id, iss, sub, email, name, idp_groups, status, offboarded_at, offboarded_by, offboarded_via,
      external_id, user_name, scim_active, created_at, last_seen_at)
    VALUES (@id, @iss, @sub, @email, @name, @groups, @status, @offboardedAt, @offboardedBy, @offboardedVia,
      @externalId, @userName, @scimActive, @createdAt, @lastSeenAt)`,
  get: 'SELECT * FROM people WHERE id = @id',
  byIssSub: 'SELECT * FROM people WHERE iss = @iss AND sub = @sub',
  byEmail: 'SELECT * FROM people WHERE lower(email) = lower(@email) ORDER BY created_at, id LIMIT 1',
  byUserName: 'SELECT * FROM people WHERE lower(user_name) = lower(@userName)',
  byExternalId: 'SELECT * FROM people WHERE external_id = @externalId ORDER BY created_at, id LIMIT 1',
  /** Step 1 of upsertAtSignIn: the row with this (iss, sub). */
  updateAtSignIn: `UPDATE people SET email = coalesce(@email, email), name = coalesce(@name, name), idp_groups = @groups,
      last_seen_at = CASE WHEN status = 'active' THEN @now ELSE last_seen_at END
    WHERE iss = @iss AND sub = @sub RETURNING *`,
  /** Step 2: link a row not yet signed in (SCIM), the externalId match first. */
  linkAtSignIn: `UPDATE people SET iss = @iss, sub = @sub, email = coalesce(@email, email), name = coalesce(@name, name),
      idp_groups = @groups, last_seen_at = CASE WHEN status = 'active' THEN @now ELSE last_seen_at END
    WHERE iss IS NULL AND id = (SELECT id FROM people WHERE iss IS NULL
      AND (external_id = @sub OR lower(email) = lower(@email) OR lower(user_name) = lower(@email))
      ORDER BY CASE WHEN external_id = @sub THEN 0 ELSE 1 END, created_at, id LIMIT 1)
    RETURNING *`,
  /** Step 3: a new person (a concurrent first sign-in of the same person updates instead). */
  insertAtSignIn: `INSERT INTO people (id, iss, sub, email, name, idp_groups, status, created_at, last_seen_at)
    VALUES (@id, @iss, @sub, @email, @name, @groups, 'active', @now, @now)
    ON CONFLICT (iss, sub) DO UPDATE SET email = coalesce(excluded.email, people.email), name = coalesce(excluded.name, people.name),
      idp_groups = excluded.idp_groups,
      last_seen_at = CASE WHEN people.status = 'active' THEN excluded.last_seen_at ELSE people.last_seen_at END
    RETURNING *`,
  offboard: `UPDATE people SET status = 'offboarded', offboarded_at = @at, offboarded_by = @by, offboarded_via = @via
    WHERE id = @id AND status = 'active'`,
  reinstate: `UPDATE people SET status = 'active', offboarded_at = NULL, offboarded_by = NULL, offboarded_via = NULL
    WHERE id = @id AND status = 'offboarded'`,
  isActive: "SELECT 1 AS one FROM people WHERE id = @id AND status = 'active'",
  touch: 'UPDATE people SET last_seen_at = @at WHERE id = @id AND (last_seen_at IS NULL OR last_seen_at < @at)',
} as const;

const SCIM_COLUMNS: ReadonlyArray<[keyof ScimFields, string]> = [
  ['userName', 'user_name'], ['externalId', 'external_id'], ['scimActive', 'scim_active'], ['email', 'email'], ['name', 'name'],
];

/** `UPDATE people SET … WHERE id = @id` for the SCIM fields present; undefined when none is. */
export function scimUpdate(id: string, fields: ScimFields, bool: (b: boolean) => number | boolean): { sql: string; params: Record<string, unknown> } | undefined {
  const sets: string[] = [];
  const params: Record<string, unknown> = { id };
  for (const [field, column] of SCIM_COLUMNS) {
    if (!(field in fields) || fields[field] === undefined) continue;
    const v = fields[field];
    sets.push(`${column} = @${field}`);
    params[field] = typeof v === 'boolean' ? bool(v) : v;
  }
  return sets.length ? { sql: `UPDATE people SET ${sets.join(', ')} WHERE id = @id`, params } : undefined;
}

/** A LIKE pattern for a free-text query: lowercase, `%`, `_` and `\` escaped (ESCAPE '\'). */
export function likePattern(q: string): string {
  return `%${q.toLowerCase().replace(/[\\%_]/g, (m) => `\\${m}`)}%`;
}

/** The engine's expression for a client's `client_name` in `clients.metadata` (alias `c`). */
export type ClientNameExpr = string;
export const SQLITE_CLIENT_NAME: ClientNameExpr = "json_extract(c.metadata, '$.client_name')";
export const POSTGRES_CLIENT_NAME: ClientNameExpr = "(c.metadata->>'client_name')";

/**
 * The free-text search over grants (issue 13 §5), one SQL clause for both engines: a case-insensitive substring
 * (LIKE with `%`, `_` and `\` escaped, ESCAPE '\') of the person's email or name (the sign-in snapshot), the upstream
 * subject or its display name, the server, or the client's `client_name`; or exactly the grant, person or client id.
 * `alias` names the grants table in the surrounding query.
 */
export function grantSearchClause(alias: string, clientName: ClientNameExpr): string {
  const like = (col: string) => `lower(${col}) LIKE @q ESCAPE '\\'`;
  return `(${like(`${alias}.person_email`)} OR ${like(`${alias}.person_name`)} OR ${like(`${alias}.subject`)}
    OR ${like(`${alias}.subject_name`)} OR ${like(`${alias}.server`)} OR ${alias}.id = @qExact OR ${alias}.person_id = @qExact
    OR ${alias}.client_id = @qExact
    OR EXISTS (SELECT 1 FROM clients c WHERE c.client_id = ${alias}.client_id AND ${like(clientName)}))`;
}

/** The parameters of {@link grantSearchClause} (and of a person search); undefined for an empty query. */
export function searchParams(q: string | undefined): { q: string; qExact: string } | undefined {
  const t = q?.trim();
  return t ? { q: likePattern(t), qExact: t } : undefined;
}

/**
 * WHERE clause and parameters of a person list (every value bound). The free text `q` matches the person (email,
 * name, SCIM userName, exact id) or any of their grants ({@link grantSearchClause}: upstream subject, server, client).
 */
export function personWhere(filter: PersonFilter, clientName: ClientNameExpr): { where: string; params: Params } {
  const clauses: string[] = [];
  const params: Params = {};
  if (filter.status) {
    clauses.push('people.status = @status');
    params.status = filter.status;
  }
  if (filter.scim) clauses.push('people.user_name IS NOT NULL');
  const search = searchParams(filter.q);
  if (search) {
    clauses.push(`(lower(people.email) LIKE @q ESCAPE '\\' OR lower(people.name) LIKE @q ESCAPE '\\' OR lower(people.user_name) LIKE @q ESCAPE '\\'
      OR people.id = @qExact OR EXISTS (SELECT 1 FROM grants g WHERE g.person_id = people.id AND ${grantSearchClause('g', clientName)}))`);
    Object.assign(params, search);
  }
  return { where: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
}

export interface PersonSessionRow {
  hash: string;
  person_id: string;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
}

export function personSessionFromRow(r: PersonSessionRow): PersonSessionRecord {
  return { hash: r.hash, personId: r.person_id, createdAt: r.created_at, expiresAt: r.expires_at, revokedAt: r.revoked_at };
}

/** The parameters of PERSON_SESSION_SQL.insert. */
export function personSessionParams(s: PersonSessionRecord): Params {
  return { hash: s.hash, personId: s.personId, createdAt: s.createdAt, expiresAt: s.expiresAt, revokedAt: s.revokedAt };
}

export const PERSON_SESSION_SQL = {
  insert: `INSERT INTO person_sessions (hash, person_id, created_at, expires_at, revoked_at)
    VALUES (@hash, @personId, @createdAt, @expiresAt, @revokedAt)`,
  findValid: 'SELECT * FROM person_sessions WHERE hash = @hash AND revoked_at IS NULL AND expires_at > @now',
  revoke: 'UPDATE person_sessions SET revoked_at = @at WHERE hash = @hash AND revoked_at IS NULL',
  deleteByPerson: 'DELETE FROM person_sessions WHERE person_id = @personId',
  deleteExpired: 'DELETE FROM person_sessions WHERE expires_at <= @now OR revoked_at IS NOT NULL',
} as const;
