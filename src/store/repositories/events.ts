/**
 * Events: the lifecycle audit log (src/events writes it).
 *
 * Table `events` (SQLite: ../sqlite/events.ts), id an increasing integer assigned on append. Never a token value.
 */

export interface EventRecord {
  id: number;
  at: number;
  type: string;
  grantId: string | null;
  clientId: string | null;
  server: string | null;
  subject: string | null;
  /** The person the event is about (issue 13; column `person_id`); absent when it names none. */
  personId?: string | null;
  outcome: 'success' | 'failure';
  /** Ids, fingerprints, reasons. Never a token value. */
  detail: Record<string, unknown>;
}
export type NewEvent = Omit<EventRecord, 'id'>;

/** All conditions ANDed; `since` and `until` are inclusive bounds on `at`. */
export interface EventFilter {
  type?: string;
  grantId?: string;
  clientId?: string;
  server?: string;
  personId?: string;
  since?: number;
  until?: number;
  limit?: number;
  offset?: number;
}

export interface EventRepository {
  /** Returns the new event's id. */
  append(e: NewEvent): Promise<number>;
  /** Newest first (at, then id). */
  list(filter: EventFilter): Promise<EventRecord[]>;
  count(filter: EventFilter): Promise<number>;
  /**
   * Events matching `filter` with `id > afterId`, oldest first (id order), at most `limit` (1…500) rows.
   * `filter.limit`/`offset` are ignored. A cursor for exports: rows appended meanwhile are neither skipped nor repeated.
   */
  scan(filter: EventFilter, afterId: number, limit: number): Promise<EventRecord[]>;
}
