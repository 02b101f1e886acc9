/**
 * Refresh locks across keyhole instances on one PostgreSQL database: a session-level advisory lock per grant
 * (`pg_try_advisory_lock(namespace, hash(grant id))`), taken and released on ONE dedicated connection of a pool of
 * its own (never the store's pool: a holder must be able to write through the store while it holds the lock).
 *
 * - Session-level, not transaction-level: the lock is held across the upstream HTTP exchange, with no transaction
 *   open. A keyhole that dies (SIGKILL, crash, lost network) ends its session and PostgreSQL releases its locks.
 * - Waiting polls `pg_try_advisory_lock` with a short growing pause (20 ms … 250 ms, jittered) instead of blocking
 *   in `pg_advisory_lock`: one connection serves every grant of the instance, and a waiter can give up on time.
 * - Advisory locks are re-entrant within a session, and one session serves the whole instance: callers of the same
 *   instance first queue in-process (./in-process-refresh-locks.ts), so only one of them at a time asks PostgreSQL.
 * - The two-key form keeps keyhole's locks apart from the single-bigint migration lock (./migrations.ts). Two grants
 *   whose 32-bit hashes collide only serialize their refreshes.
 * - The connection is checked out while at least one lock is held or awaited, and given back when none is. When it
 *   fails, the locks it held are gone (the compare-and-swap on the credential's version still refuses a write based
 *   on a stale credential): new callers get a new connection, and the failed one is destroyed once unused.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import { InProcessRefreshLocks } from './in-process-refresh-locks.js';
import { DEFAULT_REFRESH_LOCK_WAIT_MS, RefreshLockTimeoutError, type RefreshLockOptions, type RefreshLocks } from './refresh-locks.js';

/** 'khrf': the first key of every keyhole refresh lock. */
export const REFRESH_LOCK_NAMESPACE = 0x6b68_7266;

/** The second key of a grant's lock: the first 4 bytes of SHA-256(grant id), as a signed int4. */
export function refreshLockKey(grantId: string): number {
  return createHash('sha256').update(grantId).digest().readInt32BE(0);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref?.());

/** One connection holding this instance's locks, and how many callers use it. */
interface Session {
  client: Promise<pg.PoolClient>;
  users: number;
  /** The connection failed: its locks are gone; new callers get a new session, this one is destroyed when unused. */
  broken?: Error;
}

export class PostgresRefreshLocks implements RefreshLocks {
  readonly #pool: pg.Pool;
  #current: Session | undefined;
  readonly #local = new InProcessRefreshLocks();

  /**
   * @param options the store pool's options (connection string, timeouts, type parsers). This pool holds one session
   *   at a time, plus one to replace a failed session while the failed one is still in use.
   */
  constructor(options: pg.PoolConfig) {
    this.#pool = new pg.Pool({ ...options, max: 2, application_name: 'keyhole-refresh-locks' });
    this.#pool.on('error', () => undefined); // an idle connection that fails is dropped by the pool
  }

  #session(): Session {
    let s = this.#current;
    if (!s || s.broken) {
      const fresh: Session = { users: 0, client: Promise.resolve(undefined as unknown as pg.PoolClient) };
      fresh.client = this.#pool.connect().then((c) => {
        c.on('error', (err: Error) => (fresh.broken = err));
        return c;
      }, (err: Error) => {
        fresh.broken = err;
        throw err;
      });
      fresh.client.catch(() => undefined);
      this.#current = s = fresh;
    }
    s.users += 1;
    return s;
  }

  #done(s: Session): void {
    s.users -= 1;
    if (s.users > 0) return;
    if (this.#current === s) this.#current = undefined;
    void s.client.then((c) => c.release(s.broken ?? false), () => undefined);
  }

  async withLock<T>(grantId: string, fn: () => Promise<T>, options: RefreshLockOptions = {}): Promise<T> {
    const waitMs = options.waitMs ?? DEFAULT_REFRESH_LOCK_WAIT_MS;
    const deadline = Date.now() + waitMs;
    return this.#local.withLock(grantId, () => this.#advisory(grantId, fn, deadline, waitMs), { waitMs });
  }

  async #advisory<T>(grantId: string, fn: () => Promise<T>, deadline: number, waitMs: number): Promise<T> {
    const values = [REFRESH_LOCK_NAMESPACE, refreshLockKey(grantId)];
    const session = this.#session();
    try {
      const client = await session.client;
      for (let pause = 20; ; pause = Math.min(250, pause * 2)) {
        const r = await client.query<{ ok: boolean }>({ name: 'keyhole.refresh-lock.try', text: 'SELECT pg_try_advisory_lock($1, $2) AS ok', values })
          .catch((err: Error) => {
            session.broken = err;
            throw err;
          });
        if (r.rows[0]?.ok) break;
        if (Date.now() >= deadline) throw new RefreshLockTimeoutError(grantId, waitMs);
        await sleep(Math.max(1, Math.min(deadline - Date.now(), pause / 2 + Math.random() * (pause / 2))));
      }
      try {
        return await fn();
      } finally {
        await client.query({ name: 'keyhole.refresh-lock.release', text: 'SELECT pg_advisory_unlock($1, $2)', values })
          .catch((err: Error) => (session.broken = err));
      }
    } finally {
      this.#done(session);
    }
  }

  /** Ends the dedicated pool (after the store's last lock was released). */
  close(): Promise<void> {
    return this.#pool.end();
  }
}
