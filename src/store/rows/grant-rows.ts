/**
 * The `grants` row shape and its mapping to a GrantRecord, shared by the SQLite and PostgreSQL repositories
 * (../sqlite/grants.ts, ../postgres/grants.ts), which read the same columns.
 */
import type { GrantRecord, GrantStatus } from '../types.js';
import { splitScopes } from '../sqlite/shared.js';

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
  };
}
