/**
 * The PostgreSQL connection pool of a keyhole instance (node-postgres `pg.Pool`).
 *
 * - Small: `max` 10 connections by default. keyhole's queries are point lookups and short writes; a transaction
 *   (`store.transaction`) holds one connection from BEGIN to COMMIT.
 * - Every statement has a timeout (`statement_timeout`, 10 s by default), so a stuck query fails instead of holding a
 *   connection forever; connecting has one too (5 s).
 * - `bigint` (int8) columns come back as JS numbers: they hold epoch seconds and counts, far below 2^53. This is set on
 *   this pool only (not on pg's global type registry).
 * - `openPostgresPool` checks the URL by connecting once: an unreachable or refused database is a
 *   PostgresConnectError naming the host, port, database and user (never the password), at startup.
 */
import pg from 'pg';

export interface PostgresPoolOptions {
  /** Most connections at once (default 10). */
  max?: number;
  /** Per-statement timeout in ms (default 10 000; 0 = none). */
  statementTimeoutMs?: number;
  /** How long to wait for a connection, new or pooled, in ms (default 5 000). */
  connectionTimeoutMs?: number;
  /** An idle pooled connection failed (server restart, network): the pool drops it and opens a new one when needed. */
  onIdleError?: (err: Error) => void;
}

/** The database at `url` cannot be reached or refused the connection. */
export class PostgresConnectError extends Error {
  override name = 'PostgresConnectError';
}

const INT8_OID = 20;

/** pg's default type parsers, except int8 as a JS number (see the file comment). */
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID && format !== 'binary') return (value: string) => Number(value);
    return format === 'binary' ? pg.types.getTypeParser(oid, 'binary') : pg.types.getTypeParser(oid, 'text');
  },
} as unknown as pg.CustomTypesConfig;

/** `postgres://user@host:port/db` of a connection URL, without its password (for messages). */
export function describePostgresUrl(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    u.search = '';
    return u.toString();
  } catch {
    return '(an unparsable PostgreSQL URL)';
  }
}

/** A pool for `url` (nothing is connected yet). */
export function createPostgresPool(url: string, options: PostgresPoolOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    statement_timeout: options.statementTimeoutMs ?? 10_000,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 5_000,
    idleTimeoutMillis: 30_000,
    application_name: 'keyhole',
    types,
  });
  // Without a listener, an idle client's error (e.g. the server restarting) would crash the process.
  pool.on('error', (err) => options.onIdleError?.(err));
  return pool;
}

/** A pool for `url` that has connected once (see the file comment); ends the pool and throws when it cannot. */
export async function openPostgresPool(url: string, options: PostgresPoolOptions = {}): Promise<pg.Pool> {
  let pool: pg.Pool;
  try {
    pool = createPostgresPool(url, options);
  } catch (err) {
    throw new PostgresConnectError(`invalid PostgreSQL URL ${describePostgresUrl(url)}: ${(err as Error).message}`);
  }
  try {
    await pool.query('SELECT 1');
    return pool;
  } catch (err) {
    await pool.end().catch(() => undefined);
    const e = err as NodeJS.ErrnoException;
    const reason = e.code ? `${e.code}: ${e.message}` : e.message;
    throw new PostgresConnectError(`cannot connect to PostgreSQL at ${describePostgresUrl(url)} (${reason})`, { cause: err });
  }
}
