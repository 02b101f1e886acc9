/**
 * `keyhole storage copy --from <sqlite file> --to <postgres url>` (issue 12 §1): moves an installation from SQLite
 * to PostgreSQL, with keyhole stopped.
 * - The target is migrated first (the same versioned migrations, under the advisory lock); then both schema
 *   versions must be equal (version N means the same tables on both engines), else the copy is refused.
 * - Every table of the source (./source-tables.ts: discovered from its schema, parents before children) is copied
 *   in rowid order (PostgreSQL's `seq` identity columns then keep SQLite's insertion order), in batches, each batch
 *   one `INSERT … ON CONFLICT DO NOTHING`: a re-run skips what is there, so the copy is idempotent and resumable
 *   (a copy killed halfway finishes when run again).
 * - Values move as they are: vault ciphertexts are bound to their ids (the seal context), not to the engine, so the
 *   same master key opens them. Only types are mapped: SQLite's 0/1 to `boolean`, JSON text to `json`. Kept ids
 *   (events.id, audit_log.seq) are inserted with OVERRIDING SYSTEM VALUE and the identity moved past them.
 * - Refresh tokens that live in the OS keychain (storage.vault "keychain") are not in the file: refused, naming the
 *   command that moves them into the database first.
 * - At the end the rows of every table are counted on both sides; any difference is an error.
 */
import Database from 'better-sqlite3';
import type pg from 'pg';
import { MIGRATIONS } from '../sqlite/migrations.js';
import { migratePostgres, POSTGRES_MIGRATIONS } from '../postgres/migrations.js';
import { openPostgresPool } from '../postgres/pool.js';
import { sourceTables, type SourceTable } from './source-tables.js';

export interface CopyOptions {
  /** Rows per INSERT (default 500). */
  batchSize?: number;
  /** Told as the copy goes (one line per table). */
  progress?: (line: string) => void;
  /** Test hook: wait this long after each batch (a copy slow enough to be killed halfway). */
  delayAfterBatchMs?: number;
}

export interface TableCount {
  table: string;
  source: number;
  target: number;
}

export interface CopyResult {
  schemaVersion: number;
  tables: TableCount[];
  /** False when some table's counts differ. */
  verified: boolean;
}

/** The copy cannot start: what is wrong and what to do. */
export class StorageCopyError extends Error {
  override name = 'StorageCopyError';
}

interface TargetColumn {
  name: string;
  dataType: string;
  identity: boolean;
}

export async function copySqliteToPostgres(sqliteFile: string, postgresUrl: string, opts: CopyOptions = {}): Promise<CopyResult> {
  const batchSize = opts.batchSize ?? 500;
  const progress = opts.progress ?? (() => undefined);
  let db: Database.Database;
  try {
    db = new Database(sqliteFile, { readonly: true, fileMustExist: true });
  } catch (e) {
    throw new StorageCopyError(`cannot open the SQLite file ${sqliteFile}: ${(e as Error).message}`);
  }
  let pool: pg.Pool | undefined;
  try {
    const sourceVersion = db.pragma('user_version', { simple: true }) as number;
    if (sourceVersion !== MIGRATIONS.length) {
      throw new StorageCopyError(`${sqliteFile} is at schema version ${sourceVersion}, this keyhole at ${MIGRATIONS.length}: start this keyhole on it once (it migrates at startup), stop it, then copy`);
    }
    const inKeychain = (db.prepare('SELECT count(*) AS n FROM upstream_credentials WHERE refresh_in_keychain = 1').get() as { n: number }).n;
    if (inKeychain > 0) {
      throw new StorageCopyError(`${inKeychain} upstream refresh tokens live in the OS keychain, not in ${sqliteFile}: move them into the database first with: keyhole vault migrate --to database --config FILE`);
    }
    pool = await openPostgresPool(postgresUrl, { max: 2, statementTimeoutMs: 0 });
    await migratePostgres(pool);
    const targetVersion = (await pool.query<{ v: number | null }>('SELECT max(version) AS v FROM schema_migrations')).rows[0]?.v ?? 0;
    if (targetVersion !== sourceVersion || POSTGRES_MIGRATIONS.length !== MIGRATIONS.length) {
      throw new StorageCopyError(`schema versions differ after migrating the target: SQLite ${sourceVersion}, PostgreSQL ${targetVersion}; copy with the keyhole version that wrote both`);
    }

    // One read transaction: every table is read from the same snapshot of the file.
    db.exec('BEGIN');
    const tables = sourceTables(db);
    const targetColumns = await describeTarget(pool);
    for (const table of tables) {
      const columns = targetColumns.get(table.name);
      if (!columns) throw new StorageCopyError(`table ${table.name} of the SQLite file is missing in PostgreSQL (schema version ${targetVersion})`);
      const copied = await copyTable(db, pool, table, columns, batchSize, opts.delayAfterBatchMs ?? 0);
      progress(`${table.name}: ${copied} rows read`);
    }
    const counts: TableCount[] = [];
    for (const table of tables) {
      const source = (db.prepare(`SELECT count(*) AS n FROM ${quote(table.name)}`).get() as { n: number }).n;
      const target = Number((await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${quote(table.name)}`)).rows[0]!.n);
      counts.push({ table: table.name, source, target });
    }
    db.exec('COMMIT');
    return { schemaVersion: sourceVersion, tables: counts, verified: counts.every((c) => c.source === c.target) };
  } finally {
    db.close();
    await pool?.end();
  }
}

async function describeTarget(pool: pg.Pool): Promise<Map<string, Map<string, TargetColumn>>> {
  const { rows } = await pool.query<{ table_name: string; column_name: string; data_type: string; is_identity: string }>(
    "SELECT table_name, column_name, data_type, is_identity FROM information_schema.columns WHERE table_schema = current_schema()",
  );
  const out = new Map<string, Map<string, TargetColumn>>();
  for (const r of rows) {
    let t = out.get(r.table_name);
    if (!t) out.set(r.table_name, (t = new Map()));
    t.set(r.column_name, { name: r.column_name, dataType: r.data_type, identity: r.is_identity === 'YES' });
  }
  return out;
}

/** Copies one table in rowid order, `batchSize` rows per INSERT … ON CONFLICT DO NOTHING. Returns the rows read. */
async function copyTable(db: Database.Database, pool: pg.Pool, table: SourceTable, target: Map<string, TargetColumn>, batchSize: number, delayMs: number): Promise<number> {
  const columns = table.columns.filter((c) => target.has(c));
  const missing = table.columns.filter((c) => !target.has(c));
  if (missing.length) throw new StorageCopyError(`columns ${missing.join(', ')} of ${table.name} are missing in PostgreSQL`);
  const kinds = columns.map((c) => target.get(c)!);
  const keepsIdentity = kinds.some((k) => k.identity);
  const select = db.prepare(`SELECT rowid AS "__rowid", ${columns.map(quote).join(', ')} FROM ${quote(table.name)} WHERE rowid > ? ORDER BY rowid LIMIT ?`);
  let after = -Infinity;
  let read = 0;
  for (;;) {
    const rows = select.all(after === -Infinity ? Number.MIN_SAFE_INTEGER : after, batchSize) as Array<Record<string, unknown>>;
    if (rows.length === 0) break;
    const params: unknown[] = [];
    const tuples = rows.map((row) => `(${kinds.map((k) => {
      params.push(toTarget(row[k.name], k.dataType));
      return `$${params.length}`;
    }).join(', ')})`);
    await pool.query(
      `INSERT INTO ${quote(table.name)} (${columns.map(quote).join(', ')})${keepsIdentity ? ' OVERRIDING SYSTEM VALUE' : ''} VALUES ${tuples.join(', ')} ON CONFLICT DO NOTHING`,
      params,
    );
    read += rows.length;
    after = rows[rows.length - 1]!.__rowid as number;
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
  }
  // Kept identity values: the next generated one must come after them.
  for (const k of kinds.filter((c) => c.identity)) {
    await pool.query(
      `SELECT setval(pg_get_serial_sequence($1, $2), greatest((SELECT coalesce(max(${quote(k.name)}), 0) FROM ${quote(table.name)}), 1))`,
      [quote(table.name), k.name],
    );
  }
  return read;
}

/** SQLite value → the parameter for a PostgreSQL column of `dataType`. */
function toTarget(value: unknown, dataType: string): unknown {
  if (value === null || value === undefined) return null;
  if (dataType === 'boolean') return value === 1 || value === 1n || value === true;
  if (typeof value === 'bigint') return value.toString();
  return value;
}

function quote(identifier: string): string {
  return `"${identifier.replace(/"/g, '""')}"`;
}
