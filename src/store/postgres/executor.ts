/**
 * How the PostgreSQL repositories run SQL: named prepared statements, written with `@name` parameters like the SQLite
 * ones (compiled once to `$1…`), run by an Executor: the pool outside a transaction (any connection, each statement on
 * its own), or the one connection of an open transaction.
 *
 * node-postgres prepares a named statement once per connection and reuses it afterwards. Queries whose text depends
 * on a filter (lists, counts) get a name derived from their text (`dynamicStatement`), so that each shape is prepared
 * once per connection too (a bounded number: one per combination of filter fields).
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';

export type Params = Record<string, unknown>;

/** A named prepared statement; `Row` is the shape of its result rows. */
export interface Statement<Row = Record<string, unknown>> {
  readonly name: string;
  readonly text: string;
  /** The parameter name of each `$n`, in order. */
  readonly keys: readonly string[];
  /** Phantom: the row type. */
  readonly row?: Row;
}

/** Compiles `sql` with `@name` parameters into a named statement (`$n` in order of first use). */
export function statement<Row = Record<string, unknown>>(name: string, sql: string): Statement<Row> {
  const keys: string[] = [];
  const text = sql.replace(/@([A-Za-z][A-Za-z0-9]*)/g, (_, key: string) => {
    let i = keys.indexOf(key);
    if (i < 0) i = keys.push(key) - 1;
    return `$${i + 1}`;
  });
  return { name: `keyhole.${name}`, text, keys };
}

const dynamic = new Map<string, Statement>();

/** A statement whose text is built at run time (filters): named after its text, compiled once per text. */
export function dynamicStatement<Row = Record<string, unknown>>(prefix: string, sql: string): Statement<Row> {
  let s = dynamic.get(sql);
  if (!s) {
    s = statement(`${prefix}.${createHash('sha256').update(sql).digest('hex').slice(0, 16)}`, sql);
    dynamic.set(sql, s);
  }
  return s as Statement<Row>;
}

/** Runs statements; see the file comment. */
export interface Executor {
  rows<Row>(s: Statement<Row>, params?: Params): Promise<Row[]>;
  one<Row>(s: Statement<Row>, params?: Params): Promise<Row | undefined>;
  /** Runs a write; returns how many rows it changed. */
  run(s: Statement<unknown>, params?: Params): Promise<number>;
  /**
   * Runs `fn` atomically: in a transaction of its own on one pooled connection (pool executor), or as part of the
   * open transaction (transaction executor; its statements commit or roll back with it).
   */
  atomic<T>(fn: (ex: Executor) => Promise<T>): Promise<T>;
}

interface Queryable {
  query<R extends pg.QueryResultRow>(config: pg.QueryConfig): Promise<pg.QueryResult<R>>;
}

function config(s: Statement<unknown>, params: Params = {}): pg.QueryConfig {
  return { name: s.name, text: s.text, values: s.keys.map((k) => params[k] ?? null) };
}

abstract class BaseExecutor implements Executor {
  protected abstract target(): Queryable;

  async rows<Row>(s: Statement<Row>, params?: Params): Promise<Row[]> {
    return (await this.target().query<pg.QueryResultRow>(config(s, params))).rows as Row[];
  }

  async one<Row>(s: Statement<Row>, params?: Params): Promise<Row | undefined> {
    return (await this.rows(s, params))[0];
  }

  async run(s: Statement<unknown>, params?: Params): Promise<number> {
    return (await this.target().query(config(s, params))).rowCount ?? 0;
  }

  abstract atomic<T>(fn: (ex: Executor) => Promise<T>): Promise<T>;
}

/**
 * Runs `fn` between BEGIN and COMMIT on `client` (ROLLBACK when anything rejects, the error rethrown), then releases
 * the client; a client whose ROLLBACK failed (a lost connection) is destroyed rather than given back to the pool.
 */
export async function inTransaction<T>(client: pg.PoolClient, fn: (ex: TransactionExecutor) => Promise<T>): Promise<T> {
  const ex = new TransactionExecutor(client);
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await fn(ex);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch((e: Error) => (broken = e));
    throw err;
  } finally {
    ex.end();
    client.release(broken ?? false);
  }
}

/** Outside a transaction: each statement on any pooled connection. */
export class PoolExecutor extends BaseExecutor {
  constructor(private readonly pool: pg.Pool) {
    super();
  }

  protected target(): Queryable {
    return this.pool;
  }

  async atomic<T>(fn: (ex: Executor) => Promise<T>): Promise<T> {
    return inTransaction(await this.pool.connect(), fn);
  }
}

/** Inside a transaction: every statement on its connection, until the transaction ends. */
export class TransactionExecutor extends BaseExecutor {
  #client: pg.PoolClient | undefined;

  constructor(client: pg.PoolClient) {
    super();
    this.#client = client;
  }

  protected target(): Queryable {
    if (!this.#client) throw new Error('this transaction has ended: use the store, not a transaction-scoped store kept after it');
    return this.#client;
  }

  async atomic<T>(fn: (ex: Executor) => Promise<T>): Promise<T> {
    return fn(this);
  }

  /** The transaction committed or rolled back: later calls throw. */
  end(): void {
    this.#client = undefined;
  }
}
