/**
 * The `events` row shape, its mapping to an EventRecord and the list filter, shared by the SQLite and PostgreSQL
 * repositories (../sqlite/events.ts, ../postgres/events.ts), which read the same columns.
 */
import type { EventFilter, EventRecord } from '../types.js';
import { equalsWhere, type Params } from './sql-values.js';

export interface EventRow {
  id: number;
  at: number;
  type: string;
  grant_id: string | null;
  client_id: string | null;
  server: string | null;
  subject: string | null;
  person_id: string | null;
  outcome: 'success' | 'failure';
  /** JSON object: text from SQLite, parsed from PostgreSQL. */
  detail: unknown;
}

/** `detailOf` turns the engine's `detail` column into the object. */
export function eventFromRow(r: EventRow, detailOf: (detail: unknown) => Record<string, unknown>): EventRecord {
  return {
    id: r.id,
    at: r.at,
    type: r.type,
    grantId: r.grant_id,
    clientId: r.client_id,
    server: r.server,
    subject: r.subject,
    outcome: r.outcome,
    detail: detailOf(r.detail),
    ...(r.person_id !== null ? { personId: r.person_id } : {}),
  };
}

/** `since` and `until` are both inclusive bounds on `at`. */
export function eventWhere(filter: EventFilter): { clauses: string[]; params: Params } {
  const { clauses, params } = equalsWhere({ type: filter.type, grant_id: filter.grantId, client_id: filter.clientId, server: filter.server, person_id: filter.personId });
  if (filter.since != null) {
    clauses.push('at >= @since');
    params.since = filter.since;
  }
  if (filter.until != null) {
    clauses.push('at <= @until');
    params.until = filter.until;
  }
  return { clauses, params };
}
