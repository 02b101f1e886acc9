/** SQLite events repository over `events` (./migrations.ts); `id` is the integer rowid. */
import type { EventFilter, EventRecord, EventRepository, NewEvent } from '../types.js';
import type { Synchronous } from './async-repositories.js';
import { equalsWhere, fromJson, pageOf, preparer, toJson, whereOf, type Params, type SqliteContext } from './shared.js';

interface EventRow {
  id: number;
  at: number;
  type: string;
  grant_id: string | null;
  client_id: string | null;
  server: string | null;
  subject: string | null;
  person_id: string | null;
  outcome: 'success' | 'failure';
  detail: string;
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
    ...(r.person_id !== null ? { personId: r.person_id } : {}),
  };
}

/** `since` and `until` are both inclusive bounds on `at`. */
function eventWhere(filter: EventFilter): { clauses: string[]; params: Params } {
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

export class SqliteEvents implements Synchronous<EventRepository> {
  readonly #insert;

  constructor(private readonly ctx: SqliteContext) {
    this.#insert = preparer(ctx.db)(`INSERT INTO events (at, type, grant_id, client_id, server, subject, person_id, outcome, detail)
      VALUES (@at, @type, @grantId, @clientId, @server, @subject, @personId, @outcome, @detail)`);
  }

  append(e: NewEvent): number {
    const result = this.#insert.run({
      at: e.at,
      type: e.type,
      grantId: e.grantId,
      clientId: e.clientId,
      server: e.server,
      subject: e.subject,
      personId: e.personId ?? null,
      outcome: e.outcome,
      detail: toJson(e.detail),
    });
    return Number(result.lastInsertRowid);
  }

  /** Newest first (at, then id). `since`/`until` are inclusive. */
  list(filter: EventFilter): EventRecord[] {
    const { clauses, params } = eventWhere(filter);
    const { limit, offset } = pageOf(filter);
    const sql = `SELECT * FROM events ${whereOf(clauses)} ORDER BY at DESC, id DESC LIMIT @limit OFFSET @offset`;
    return (this.ctx.pages.get(sql).all({ ...params, limit, offset }) as EventRow[]).map(eventFromRow);
  }

  count(filter: EventFilter): number {
    const { clauses, params } = eventWhere(filter);
    return (this.ctx.pages.get(`SELECT count(*) AS n FROM events ${whereOf(clauses)}`).get(params) as { n: number }).n;
  }

  /** Oldest first by id, after the cursor; `limit` clamped to 1…500. */
  scan(filter: EventFilter, afterId: number, limit: number): EventRecord[] {
    const { clauses, params } = eventWhere(filter);
    const sql = `SELECT * FROM events ${whereOf([...clauses, 'id > @afterId'])} ORDER BY id ASC LIMIT @limit`;
    const page = pageOf({ limit });
    const after = Number.isFinite(afterId) ? Math.floor(afterId) : 0;
    return (this.ctx.pages.get(sql).all({ ...params, afterId: after, limit: page.limit }) as EventRow[]).map(eventFromRow);
  }
}
