/**
 * The PostgreSQL change feed (see ../changes/change-feed.ts): how one instance's change reaches every other.
 *
 * - publish: one statement appends a row to `change_log` and calls `pg_notify('keyhole_changes', …)` with it; the
 *   notification is delivered when that statement's transaction commits, to every session that LISTENs.
 *   https://www.postgresql.org/docs/current/sql-notify.html ("if a NOTIFY is executed inside a transaction, the notify
 *   events are not delivered until and unless the transaction is committed"; the payload must be under 8000 bytes).
 * - listen: a dedicated connection (not a pooled one: LISTEN belongs to a session, and a pooled connection goes back
 *   to the pool) runs `LISTEN keyhole_changes`; when it breaks it reconnects with exponential backoff (100 ms … 5 s).
 *   https://www.postgresql.org/docs/current/sql-listen.html
 * - the bounded fallback: every `pollMs` (default 1 s) the feed also reads `change_log` rows newer than the highest
 *   sequence it has seen, plus every row of the last 5 s (a row whose sequence was taken before another's may commit
 *   after it). Each sequence is delivered once (a seen-set of the last minute). So a lost notification, or a LISTEN
 *   connection that is down, delays a change by at most one poll. Rows older than an hour are deleted by the poller.
 *
 * Nothing is started until the first `subscribe` (CLI commands that only publish open no extra connection).
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { deliver, isChangeKind, type Change, type ChangeFeed, type ChangeKind, type ChangeListener } from '../changes/change-feed.js';
import { PoolExecutor, statement } from './executor.js';

export const CHANGE_CHANNEL = 'keyhole_changes';

const PUBLISH = statement<{ seq: number }>('changes.publish', `WITH c AS (
    INSERT INTO change_log (kind, id, origin) VALUES (@kind::text, @id::text, @origin::text) RETURNING seq
  )
  SELECT seq, pg_notify('${CHANGE_CHANNEL}', json_build_object('seq', seq, 'kind', @kind::text, 'id', @id::text, 'origin', @origin::text)::text)
  FROM c`);
const HIGHEST = statement<{ seq: number }>('changes.highest', 'SELECT coalesce(max(seq), 0) AS seq FROM change_log');
const SINCE = statement<ChangeRow>('changes.since', `SELECT seq, kind, id, origin FROM change_log
  WHERE seq > @floor AND (seq > @after OR at > now() - interval '5 seconds') ORDER BY seq LIMIT 10000`);
const PRUNE = statement('changes.prune', `DELETE FROM change_log WHERE at < now() - interval '1 hour'`);

interface ChangeRow {
  seq: number;
  kind: string;
  id: string;
  origin: string;
}

export interface PostgresChangeFeedOptions {
  pool: pg.Pool;
  /** A new, unconnected client for the LISTEN session. */
  connect: () => pg.Client;
  /** Fallback poll period (ms). Default 1000. */
  pollMs?: number;
  /** A failure of the LISTEN connection or of a poll (they are retried; this only reports). */
  onError?: (err: Error) => void;
}

/** How long a delivered sequence is remembered (must exceed the 5 s re-read window of a poll). */
const SEEN_MS = 60_000;
const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 5_000;

export class PostgresChangeFeed implements ChangeFeed {
  /** This instance, to skip its own notices. */
  readonly origin = randomBytes(9).toString('base64url');
  readonly #ex: PoolExecutor;
  readonly #opts: PostgresChangeFeedOptions;
  readonly #listeners = new Set<ChangeListener>();
  /** Delivered (or own) sequences → when first seen. */
  readonly #seen = new Map<number, number>();
  #highest = 0;
  /** The highest sequence when this feed started: older changes are not this instance's business. */
  #floor = 0;
  #started: Promise<void> | undefined;
  #closed = false;
  #client: pg.Client | undefined;
  #pollTimer: NodeJS.Timeout | undefined;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #backoff = BACKOFF_MIN_MS;
  #polls = 0;
  #polling: Promise<void> | undefined;

  constructor(opts: PostgresChangeFeedOptions) {
    this.#opts = opts;
    this.#ex = new PoolExecutor(opts.pool);
  }

  /** True while the LISTEN connection is up (the poll runs either way). */
  get listening(): boolean {
    return this.#client !== undefined;
  }

  async publish(kind: ChangeKind, id: string): Promise<void> {
    const row = await this.#ex.one(PUBLISH, { kind, id, origin: this.origin });
    if (row) this.#remember(row.seq);
  }

  subscribe(listener: ChangeListener): () => void {
    this.#listeners.add(listener);
    this.#started ??= this.#start();
    return () => this.#listeners.delete(listener);
  }

  /** Resolves once listening and polling have started (tests; subscribe does not wait). */
  ready(): Promise<void> {
    return this.#started ?? Promise.resolve();
  }

  /** Runs one fallback poll now (tests, and after a reconnect). */
  poll(): Promise<void> {
    this.#polling ??= this.#poll().finally(() => (this.#polling = undefined));
    return this.#polling;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#listeners.clear();
    clearInterval(this.#pollTimer);
    clearTimeout(this.#reconnectTimer);
    await this.#started?.catch(() => undefined);
    await this.#polling?.catch(() => undefined);
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => undefined);
  }

  async #start(): Promise<void> {
    try {
      this.#highest = this.#floor = (await this.#ex.one(HIGHEST))?.seq ?? 0;
    } catch (e) {
      this.#report(e); // the first poll starts from 0 then: old rows are delivered once, which is harmless
    }
    if (this.#closed) return;
    this.#pollTimer = setInterval(() => void this.poll(), this.#opts.pollMs ?? 1_000);
    this.#pollTimer.unref();
    await this.#listen();
  }

  async #listen(): Promise<void> {
    if (this.#closed) return;
    const client = this.#opts.connect();
    let failed = false;
    const fail = (err: Error) => {
      if (failed) return;
      failed = true;
      this.#report(err);
      if (this.#client === client) this.#client = undefined;
      client.removeAllListeners('notification');
      void client.end().catch(() => undefined);
      this.#scheduleReconnect();
    };
    client.on('error', fail);
    client.on('end', () => fail(new Error('the LISTEN connection ended')));
    client.on('notification', (n) => this.#onNotification(n));
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANGE_CHANNEL}`);
    } catch (e) {
      fail(e instanceof Error ? e : new Error(String(e)));
      return;
    }
    if (this.#closed || failed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.#client = client;
    this.#backoff = BACKOFF_MIN_MS;
    void this.poll(); // whatever was published while the connection was down
  }

  #scheduleReconnect(): void {
    if (this.#closed) return;
    clearTimeout(this.#reconnectTimer);
    const wait = this.#backoff;
    this.#backoff = Math.min(BACKOFF_MAX_MS, this.#backoff * 2);
    this.#reconnectTimer = setTimeout(() => void this.#listen(), wait);
    this.#reconnectTimer.unref();
  }

  #onNotification(n: pg.Notification): void {
    if (n.channel !== CHANGE_CHANNEL || !n.payload) return;
    let row: unknown;
    try {
      row = JSON.parse(n.payload);
    } catch {
      return;
    }
    const r = row as Partial<ChangeRow>;
    if (typeof r.seq !== 'number' || typeof r.id !== 'string' || typeof r.origin !== 'string') return;
    this.#accept(r as ChangeRow);
  }

  async #poll(): Promise<void> {
    if (this.#closed) return;
    try {
      for (const row of await this.#ex.rows(SINCE, { after: this.#highest, floor: this.#floor })) this.#accept(row);
      if (++this.#polls % 60 === 0) await this.#ex.run(PRUNE);
    } catch (e) {
      this.#report(e);
    }
    const horizon = Date.now() - SEEN_MS;
    for (const [seq, at] of this.#seen) {
      if (at >= horizon) break; // insertion order = time order
      this.#seen.delete(seq);
    }
  }

  #accept(row: ChangeRow): void {
    if (this.#seen.has(row.seq) || row.seq <= this.#floor) return;
    this.#remember(row.seq);
    if (row.origin === this.origin || this.#closed || !isChangeKind(row.kind)) return;
    const change: Change = { kind: row.kind, id: row.id };
    deliver([...this.#listeners], change, (e) => this.#report(e));
  }

  #remember(seq: number): void {
    this.#seen.set(seq, Date.now());
    if (seq > this.#highest) this.#highest = seq;
  }

  #report(e: unknown): void {
    if (this.#closed) return;
    this.#opts.onError?.(e instanceof Error ? e : new Error(String(e)));
  }
}
