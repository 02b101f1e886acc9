/**
 * The `grants` row shape and its mapping to a GrantRecord, shared by the SQLite and PostgreSQL repositories
 * (../sqlite/grants.ts, ../postgres/grants.ts), which read the same columns.
 */
import type { GrantRecord, GrantStatus } from '../types.js';
import { splitScopes } from './sql-values.js';
import { stringArrayOf } from './person-rows.js';

export interface GrantRow {
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
  person_id: string | null;
  person_email: string | null;
  person_name: string | null;
  /** JSON array: text from SQLite, parsed from PostgreSQL. */
  person_groups: unknown;
}

/** Columns of grants.insert (both engines), with `@name` placeholders. */
export const GRANT_INSERT_SQL = `INSERT INTO grants
  (id, client_id, server, subject, subject_name, scopes, status, status_reason, created_at, last_used_at, revoked_at,
   person_id, person_email, person_name, person_groups)
  VALUES (@id, @clientId, @server, @subject, @subjectName, @scopes, @status, @statusReason, @createdAt, @lastUsedAt, @revokedAt,
   @personId, @personEmail, @personName, @personGroups)`;

/** The newest active grant of (client, server, subject, person); a NULL @personId matches grants without a person. */
export const GRANT_FIND_ACTIVE_WHERE = `client_id = @clientId AND server = @server AND subject = @subject AND status = 'active'
  AND (person_id = @personId OR (person_id IS NULL AND @personId IS NULL))`;

/** The person parameters of grants.insert. */
export function grantPersonParams(g: GrantRecord): { personId: string | null; personEmail: string | null; personName: string | null; personGroups: string | null } {
  const p = g.person;
  return { personId: p?.id ?? null, personEmail: p?.email ?? null, personName: p?.name ?? null, personGroups: p ? JSON.stringify(p.groups) : null };
}

export function grantFromRow(r: GrantRow): GrantRecord {
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
    person: r.person_id === null ? null : { id: r.person_id, email: r.person_email, name: r.person_name, groups: stringArrayOf(r.person_groups) },
  };
}
