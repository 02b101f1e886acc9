/**
 * PostgreSQL schema migrations (src/store/postgres/migrations.ts) and the pool (src/store/postgres/pool.ts), against a
 * real throw-away server (test/helpers/postgres.ts), one fresh database per test.
 */
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  MIGRATION_LOCK_KEY,
  POSTGRES_MIGRATIONS,
  PostgresSchemaVersionError,
  migratePostgres,
} from '../../../src/store/postgres/migrations.js';
import { PostgresConnectError, createPostgresPool, openPostgresPool } from '../../../src/store/postgres/pool.js';
import { MIGRATIONS as SQLITE_MIGRATIONS } from '../../../src/store/sqlite/migrations.js';
import { freePort } from '../../helpers/free-port.js';
import { startPostgres, type PostgresServer } from '../../helpers/postgres.js';

let server: PostgresServer;
const pools: pg.Pool[] = [];

beforeAll(async () => {
  server = await startPostgres();
});
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.end()));
});
afterAll(async () => {
  await server?.stop();
});

async function pool(url: string): Promise<pg.Pool> {
  const p = await openPostgresPool(url);
  pools.push(p);
  return p;
}

async function columns(p: pg.Pool): Promise<string[]> {
  const { rows } = await p.query<{ c: string }>(`SELECT table_name || '.' || column_name || ':' || data_type AS c
    FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1`);
  return rows.map((r) => r.c);
}

describe('PostgreSQL migrations', () => {
  it('has one migration for each SQLite migration (schema version N means the same on both engines)', () => {
    expect(POSTGRES_MIGRATIONS).toHaveLength(SQLITE_MIGRATIONS.length);
  });

  it('applies every migration once, records each version, and is idempotent', async () => {
    const p = await pool(await server.createDatabase());
    expect(await migratePostgres(p)).toBe(POSTGRES_MIGRATIONS.length);
    const before = await columns(p);
    expect(await migratePostgres(p)).toBe(POSTGRES_MIGRATIONS.length);
    expect(await columns(p)).toEqual(before);
    const { rows } = await p.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
    expect(rows.map((r) => r.version)).toEqual(POSTGRES_MIGRATIONS.map((_, i) => i + 1));
    expect(before).toContain('upstream_credentials.refresh_in_keychain:boolean');
    expect(before).toContain('events.detail:json');
    expect(before).toContain('grants.created_at:bigint');
  });

  it('two migrate() calls racing on one database both succeed and the schema is applied once', async () => {
    const url = await server.createDatabase();
    const [a, b] = [await pool(url), await pool(url)];
    // A slow first migration widens the race window; each migration logs itself in a table.
    const logged = (n: number) => `INSERT INTO applied (n) VALUES (${n})`;
    const migrations = [
      `CREATE TABLE applied (n integer NOT NULL); SELECT pg_sleep(0.3); ${logged(1)}`,
      async (client: pg.ClientBase) => void (await client.query(logged(2))),
      ...POSTGRES_MIGRATIONS.slice(0, 1),
    ];
    expect(await Promise.all([migratePostgres(a, migrations), migratePostgres(b, migrations)])).toEqual([3, 3]);
    const applied = await a.query<{ n: number }>('SELECT n FROM applied ORDER BY n');
    expect(applied.rows.map((r) => r.n)).toEqual([1, 2]);
    expect((await a.query('SELECT version FROM schema_migrations')).rowCount).toBe(3);
  });

  it('two keyhole instances migrating a new database with the real migrations at once both succeed', async () => {
    const url = await server.createDatabase();
    const racers = await Promise.all([pool(url), pool(url), pool(url)]);
    expect(await Promise.all(racers.map((p) => migratePostgres(p)))).toEqual(racers.map(() => POSTGRES_MIGRATIONS.length));
    expect((await racers[0]!.query('SELECT version FROM schema_migrations')).rowCount).toBe(POSTGRES_MIGRATIONS.length);
  });

  it('rolls a failing migration back and leaves the database at the previous version', async () => {
    const p = await pool(await server.createDatabase());
    const migrations = ['CREATE TABLE first_table (x integer)', 'CREATE TABLE second_table (x integer); SELECT no_such_function()'];
    await expect(migratePostgres(p, migrations)).rejects.toThrow(/no_such_function/);
    expect((await p.query('SELECT max(version) AS v FROM schema_migrations')).rows[0].v).toBe(1);
    expect((await p.query("SELECT to_regclass('second_table') AS t")).rows[0].t).toBeNull();
    // The lock was released and the connection is usable: the fixed list applies.
    expect(await migratePostgres(p, [migrations[0]!, 'CREATE TABLE second_table (x integer)'])).toBe(2);
  });

  it('refuses a database migrated by a newer keyhole', async () => {
    const p = await pool(await server.createDatabase());
    await migratePostgres(p);
    await p.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, 0)', [POSTGRES_MIGRATIONS.length + 1]);
    await expect(migratePostgres(p)).rejects.toThrow(PostgresSchemaVersionError);
  });

  it('releases the advisory lock after migrating (another session can take it at once)', async () => {
    const p = await pool(await server.createDatabase());
    await migratePostgres(p);
    const other = await pool(server.url.replace(/\/postgres$/, `/${new URL(p.options.connectionString!).pathname.slice(1)}`));
    expect((await other.query('SELECT pg_try_advisory_lock($1) AS ok', [MIGRATION_LOCK_KEY])).rows[0].ok).toBe(true);
  });

  it('orders ids bytewise whatever the database collation (the test server defaults to ICU en-US)', async () => {
    const p = await pool(await server.createDatabase());
    await migratePostgres(p);
    expect((await p.query("SELECT 'a' < 'B' AS linguistic")).rows[0].linguistic).toBe(true);
    for (const id of ['g_b', 'g_B', 'g_a', 'g_-', 'g__']) {
      await p.query("INSERT INTO grants (id, client_id, server, subject, status, created_at) VALUES ($1, 'c', 's', 'u', 'active', 0)", [id]);
    }
    const { rows } = await p.query<{ id: string }>('SELECT id FROM grants ORDER BY id');
    expect(rows.map((r) => r.id)).toEqual(['g_-', 'g_B', 'g__', 'g_a', 'g_b']);
  });
});

describe('PostgreSQL pool', () => {
  it('refuses an unreachable URL at open with a clear error, without the password', async () => {
    const port = await freePort(); // nothing listens there
    const url = `postgres://keyhole:s3cret-pw@127.0.0.1:${port}/keyhole`;
    const err = await openPostgresPool(url, { connectionTimeoutMs: 2_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PostgresConnectError);
    expect((err as Error).message).toMatch(new RegExp(`cannot connect to PostgreSQL at postgres://keyhole@127\\.0\\.0\\.1:${port}/keyhole .*ECONNREFUSED`));
    expect((err as Error).message).not.toContain('s3cret-pw');
  });

  it('refuses a database that does not exist, naming it', async () => {
    const err = await openPostgresPool(server.url.replace(/\/postgres$/, '/no_such_db')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PostgresConnectError);
    expect((err as Error).message).toMatch(/no_such_db/);
  });

  it('returns bigint columns as numbers and times out a long statement', async () => {
    const p = createPostgresPool(server.url, { statementTimeoutMs: 200, max: 2 });
    pools.push(p);
    expect((await p.query('SELECT 1700000000::bigint AS t, count(*) AS n FROM pg_database')).rows[0]).toEqual({
      t: 1_700_000_000,
      n: expect.any(Number),
    });
    await expect(p.query('SELECT pg_sleep(2)')).rejects.toThrow(/statement timeout/);
    expect(p.options.max).toBe(2);
  });
});
