/**
 * SQLite-only test helper: for tests about the SQLite engine itself (migrations, pragmas, WAL, query plans) and about
 * what reaches its files (raw rows: no secret stored in clear). Engine-neutral tests use the repositories, or the
 * state builders of test/fixtures/store-builders.ts.
 */
import type Database from 'better-sqlite3';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { Store } from '../../src/store/types.js';

/** keyhole's tables (src/store/sqlite/migrations.ts). */
export type SqliteTable =
  | 'clients'
  | 'pending_authorizations'
  | 'grants'
  | 'codes'
  | 'access_tokens'
  | 'refresh_tokens'
  | 'upstream_credentials'
  | 'events'
  | 'upstream_registrations'
  | 'signing_keys'
  | 'sealed_secrets';

/** The connection of a SQLite store; throws for another engine. */
export function sqliteConnection(store: Store): Database.Database {
  if (!(store instanceof SqliteStore)) throw new TypeError('a SQLite-only test helper was given another store');
  return SqliteStore.connectionOf(store);
}

/** Every row of a table as stored, in insertion order. */
export function sqliteRows(store: Store, table: SqliteTable): Array<Record<string, unknown>> {
  return sqliteConnection(store).prepare(`SELECT * FROM ${table} ORDER BY rowid`).all() as Array<Record<string, unknown>>;
}

/** How many rows a table holds. */
export function sqliteCount(store: Store, table: SqliteTable): number {
  return (sqliteConnection(store).prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
}

/** A pragma's value (`simple`: the first column of the first row). */
export function sqlitePragma(store: Store, pragma: string): unknown {
  return sqliteConnection(store).pragma(pragma, { simple: true });
}
