/**
 * Opens the store the config names (`storage.sqlite` or `storage.postgres`, exactly one; src/config/storage-schema.ts):
 * SQLite through openSqliteStore, PostgreSQL through createPostgresStore (connects, migrates under an advisory lock).
 */
import { createPostgresStore } from './postgres/postgres-store.js';
import type { PostgresPoolOptions } from './postgres/pool.js';
import { openSqliteStore, type SqliteStoreOptions } from './sqlite/sqlite-store.js';
import type { Store } from './types.js';

export async function openStore(storage: { sqlite?: string; postgres?: string }, options: PostgresPoolOptions & SqliteStoreOptions = {}): Promise<Store> {
  const { lock, checkpointEveryMs, ...postgres } = options;
  if (storage.postgres !== undefined) return createPostgresStore(storage.postgres, postgres);
  return openSqliteStore(storage.sqlite ?? './keyhole.db', { ...(lock !== undefined ? { lock } : {}), ...(checkpointEveryMs !== undefined ? { checkpointEveryMs } : {}) });
}
