/**
 * The store contract (./store-contract.ts) against PostgreSQL: a real throw-away server for this file
 * (test/helpers/postgres.ts), one database migrated once by createPostgresStore, emptied before each test (rows deleted,
 * identities restarted: ~1 ms, where a new database per test costs ~200 ms).
 */
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { createPostgresStore, type PostgresStore } from '../../../src/store/postgres/postgres-store.js';
import { startPostgres, type PostgresServer } from '../../helpers/postgres.js';
import { runStoreContract } from './store-contract.js';

let server: PostgresServer;
let store: PostgresStore;
let admin: pg.Client;
let emptyAll = '';

beforeAll(async () => {
  server = await startPostgres();
  const url = await server.createDatabase({ name: 'keyhole_contract' });
  store = await createPostgresStore(url);
  admin = new pg.Client({ connectionString: url });
  await admin.connect();
  const tables = await admin.query<{ t: string }>(
    "SELECT quote_ident(tablename) AS t FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations'",
  );
  const sequences = await admin.query<{ s: string }>("SELECT quote_ident(sequencename) AS s FROM pg_sequences WHERE schemaname = 'public'");
  // The test server's role is a superuser: replica mode skips the foreign-key triggers, so the order does not matter.
  emptyAll = [
    'BEGIN',
    'SET LOCAL session_replication_role = replica',
    ...tables.rows.map((r) => `DELETE FROM ${r.t}`),
    ...sequences.rows.map((r) => `SELECT setval('${r.s}', 1, false)`),
    'COMMIT',
  ].join(';\n');
});

afterAll(async () => {
  await admin?.end();
  await store?.close();
  await server?.stop();
});

runStoreContract('PostgresStore', async () => {
  await admin.query(emptyAll);
  return { store, cleanup: async () => undefined };
});
