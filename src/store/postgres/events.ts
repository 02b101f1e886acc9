/**
 * PostgreSQL events repository over `events` (./migrations.ts; ../repositories/events.ts); `id` is an identity.
 *
 * `scan` is a cursor over ids: an event that commits after a scan has read past its id would be skipped. With several
 * connections (and instances) appending, identity values are handed out in call order but committed in any order, so
 * each append first takes a transaction-level advisory lock (EVENTS_APPEND_LOCK_KEY): appends run one at a time,
 * each id committing before the next is handed out. Inside `store.transaction` the lock is held until it commits.
 */
import type { EventFilter, EventRecord, EventRepository, NewEvent } from '../types.js';
import { eventFromRow, eventWhere, type EventRow } from '../rows/event-rows.js';
import { dynamicStatement, statement, type Executor } from './executor.js';
import { jsonText, objectOf, pageOf, whereOf } from './values.js';

/** The advisory lock key that orders event appends: "kh-evts" in ASCII, as a bigint. */
export const EVENTS_APPEND_LOCK_KEY = '30232366693119091';

const fromRow = (r: EventRow): EventRecord => eventFromRow(r, (d) => objectOf(d));

const APPEND = statement<{ id: number }>('events.append', `WITH appending AS (SELECT pg_advisory_xact_lock(@lockKey::bigint))
  INSERT INTO events (at, type, grant_id, client_id, server, subject, person_id, outcome, detail)
  SELECT @at::bigint, @type::text, @grantId::text, @clientId::text, @server::text, @subject::text, @personId::text, @outcome::text, @detail::json
  FROM appending RETURNING id`);

export class PostgresEvents implements EventRepository {
  constructor(private readonly ex: Executor) {}

  async append(e: NewEvent): Promise<number> {
    const row = await this.ex.one(APPEND, {
      lockKey: EVENTS_APPEND_LOCK_KEY,
      at: e.at,
      type: e.type,
      grantId: e.grantId,
      clientId: e.clientId,
      server: e.server,
      subject: e.subject,
      personId: e.personId ?? null,
      outcome: e.outcome,
      detail: jsonText(e.detail),
    });
    return row!.id;
  }

  /** Newest first (at, then id). */
  async list(filter: EventFilter): Promise<EventRecord[]> {
    const { clauses, params } = eventWhere(filter);
    const sql = `SELECT * FROM events ${whereOf(clauses)} ORDER BY at DESC, id DESC LIMIT @limit OFFSET @offset`;
    return (await this.ex.rows(dynamicStatement<EventRow>('events.list', sql), { ...params, ...pageOf(filter) })).map(fromRow);
  }

  async count(filter: EventFilter): Promise<number> {
    const { clauses, params } = eventWhere(filter);
    return (await this.ex.one(dynamicStatement<{ n: number }>('events.count', `SELECT count(*) AS n FROM events ${whereOf(clauses)}`), params))?.n ?? 0;
  }

  /** Oldest first by id, after the cursor; `limit` clamped to 1…500. */
  async scan(filter: EventFilter, afterId: number, limit: number): Promise<EventRecord[]> {
    const { clauses, params } = eventWhere(filter);
    const sql = `SELECT * FROM events ${whereOf([...clauses, 'id > @afterId'])} ORDER BY id ASC LIMIT @limit`;
    const after = Number.isFinite(afterId) ? Math.floor(afterId) : 0;
    const rows = await this.ex.rows(dynamicStatement<EventRow>('events.scan', sql), { ...params, afterId: after, limit: pageOf({ limit }).limit });
    return rows.map(fromRow);
  }
}
