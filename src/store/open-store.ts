/**
 * Opens the store the config names (`storage.sqlite` or `storage.postgres`, exactly one; src/config/storage-schema.ts):
 * SQLite through openSqliteStore, PostgreSQL through createPostgresStore (connects, migrates under an advisory lock).
 */
import { createPostgresStore } from './postgres/postgres-store.js';
import type { PostgresPoolOptions } from './postgres/pool.js';
import { openSqliteStore } from './sqlite/sqlite-store.js';
import type { Store } from './types.js';

export async function openStore(storage: { sqlite?: string; postgres?: string }, postgres: PostgresPoolOptions = {}): Promise<Store> {
  if (storage.postgres !== undefined) return createPostgresStore(storage.postgres, postgres);
  return openSqliteStore(storage.sqlite ?? './keyhole.db');
}
