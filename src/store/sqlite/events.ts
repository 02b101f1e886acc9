/** SQLite events repository over `events` (./migrations.ts); `id` is the integer rowid. */
import type { EventFilter, EventRecord, EventRepository, NewEvent } from '../types.js';
import { eventFromRow, eventWhere, type EventRow } from '../rows/event-rows.js';
import type { Synchronous } from './async-repositories.js';
import { fromJson, pageOf, preparer, toJson, whereOf, type SqliteContext } from './shared.js';

const fromRow = (r: EventRow): EventRecord => eventFromRow(r, (d) => fromJson(d as string));

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
    return (this.ctx.pages.get(sql).all({ ...params, limit, offset }) as EventRow[]).map(fromRow);
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
    return (this.ctx.pages.get(sql).all({ ...params, afterId: after, limit: page.limit }) as EventRow[]).map(fromRow);
  }
}
