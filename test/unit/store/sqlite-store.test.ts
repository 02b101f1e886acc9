import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { randomId, sha256Hex } from '../../../src/store/crypto/hash.js';
import { MIGRATIONS, SchemaVersionError, migrate } from '../../../src/store/sqlite/migrations.js';
import { ACCESS_TOKEN_LOOKUP_SQL, openSqliteStore, type SqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import { makeAccess, makeCode, makeCredential, makeGrant, makeRefresh, runStoreContract } from './store-contract.js';
import { sqliteConnection } from '../../helpers/sqlite-engine.js';

runStoreContract('SqliteStore (file)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'keyhole-store-'));
  const store = openSqliteStore(join(dir, 'keyhole.db'));
  return {
    store,
    cleanup: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

runStoreContract('SqliteStore (:memory:)', async () => {
  const store = openSqliteStore(':memory:');
  return { store, cleanup: async () => await store.close() };
});

describe('SqliteStore', () => {
  let dir: string;
  let file: string;
  let store: SqliteStore | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'keyhole-sqlite-'));
    file = join(dir, 'keyhole.db');
  });
  afterEach(async () => {
    await store?.close();
    store = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('runs transactions one after the other on its one connection', async () => {
    store = openSqliteStore(file);
    const s = store;
    const order: string[] = [];
    const slow = s.transaction(async (tx) => {
      order.push('a:start');
      await new Promise((resolve) => setTimeout(resolve, 5));
      await tx.grants.create(makeGrant());
      order.push('a:end');
    });
    const fast = s.transaction(async (tx) => {
      order.push('b:start');
      await tx.grants.create(makeGrant());
      order.push('b:end');
    });
    await Promise.all([slow, fast]);
    expect(order).toEqual(['a:start', 'a:end', 'b:start', 'b:end']);
    expect(await s.grants.count({})).toBe(2);
  });

  it('turns on WAL, foreign keys, busy timeout and synchronous NORMAL', () => {
    store = openSqliteStore(file);
    expect(sqliteConnection(store).pragma('journal_mode', { simple: true })).toBe('wal');
    expect(sqliteConnection(store).pragma('foreign_keys', { simple: true })).toBe(1);
    expect(sqliteConnection(store).pragma('busy_timeout', { simple: true })).toBe(5000);
    expect(sqliteConnection(store).pragma('synchronous', { simple: true })).toBe(1); // NORMAL
    // WAL is persistent: another connection sees it too.
    const other = new Database(file, { readonly: true });
    try {
      expect(other.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      other.close();
    }
  });

  it('sets user_version to the number of migrations', () => {
    store = openSqliteStore(file);
    expect(sqliteConnection(store).pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
  });

  it('reopens a file idempotently and keeps its data', async () => {
    store = openSqliteStore(file);
    const g = makeGrant();
    await store.grants.create(g);
    await store.close();
    store = openSqliteStore(file);
    expect(sqliteConnection(store).pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    expect(await store.grants.find(g.id)).toEqual(g);
    expect(migrate(sqliteConnection(store))).toBe(MIGRATIONS.length);
  });

  it('creates the database file owner-only', async () => {
    store = openSqliteStore(file);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('migration 4 backfills clients.last_used_at from the client\'s grants (used clients are not taken for never-used ones)', () => {
    const db = new Database(':memory:');
    try {
      const v4 = MIGRATIONS.findIndex((m) => typeof m === 'string' && m.includes('ADD COLUMN last_used_at'));
      expect(v4).toBeGreaterThan(0);
      migrate(db, MIGRATIONS.slice(0, v4));
      const addClient = db.prepare("INSERT INTO clients (client_id, kind, created_at) VALUES (?, 'dcr', 100)");
      const addGrant = db.prepare("INSERT INTO grants (id, client_id, server, subject, status, created_at, last_used_at) VALUES (?, ?, 's', ?, 'active', ?, ?)");
      addClient.run('c_used');
      addClient.run('c_authorized');
      addClient.run('c_never');
      addGrant.run('g_1', 'c_used', 'u1', 200, 500);
      addGrant.run('g_2', 'c_used', 'u2', 300, null);
      addGrant.run('g_3', 'c_authorized', 'u1', 250, null);
      migrate(db, MIGRATIONS.slice(0, v4 + 1));
      const used = (id: string) => (db.prepare('SELECT last_used_at AS t FROM clients WHERE client_id = ?').get(id) as { t: number | null }).t;
      expect([used('c_used'), used('c_authorized'), used('c_never')]).toEqual([500, 250, null]);
    } finally {
      db.close();
    }
  });

  it('applies migrations in order, each with its version, and stops at a failing one', () => {
    const db = new Database(':memory:');
    try {
      const seen: number[] = [];
      const ms = [
        'CREATE TABLE a (x INTEGER)',
        (d: Database.Database) => {
          seen.push(d.pragma('user_version', { simple: true }) as number);
          d.exec('CREATE TABLE b (x INTEGER)');
        },
      ];
      expect(migrate(db, ms)).toBe(2);
      expect(seen).toEqual([1]);
      expect(db.pragma('user_version', { simple: true })).toBe(2);
      const failing = [...ms, 'CREATE TABLE c (x INTEGER); CREATE TABLE a (x INTEGER)'];
      expect(() => migrate(db, failing)).toThrow();
      expect(db.pragma('user_version', { simple: true })).toBe(2);
      expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'c'").get()).toBeUndefined();
    } finally {
      db.close();
    }
  });

  it('refuses a database from a newer keyhole', async () => {
    store = openSqliteStore(file);
    sqliteConnection(store).pragma(`user_version = ${MIGRATIONS.length + 1}`);
    await store.close();
    store = undefined;
    expect(() => openSqliteStore(file)).toThrow(SchemaVersionError);
  });

  it('refuses codes and tokens for an unknown grant (foreign keys)', async () => {
    store = openSqliteStore(':memory:');
    const ghost = makeGrant();
    await expect(store!.tokens.createCode(makeCode(ghost))).rejects.toThrow(/FOREIGN KEY/);
    await expect(store!.tokens.createAccess(makeAccess(ghost, randomId('f')))).rejects.toThrow(/FOREIGN KEY/);
    await expect(store!.tokens.createRefresh(makeRefresh(ghost, randomId('f')))).rejects.toThrow(/FOREIGN KEY/);
    await store.upstreamCredentials.put(makeCredential(ghost)); // no-op: the grant is not active
    expect(await store.upstreamCredentials.find(ghost.id)).toBeUndefined();
  });

  it('refuses a scope containing whitespace (scopes are stored space-separated)', async () => {
    store = openSqliteStore(':memory:');
    await expect(store!.grants.create(makeGrant({ scopes: ['a b'] }))).rejects.toThrow(TypeError);
    await expect(store!.grants.create(makeGrant({ scopes: [''] }))).rejects.toThrow(TypeError);
  });

  it('stores only what it is given: no token value reaches the database file', async () => {
    store = openSqliteStore(file);
    const g = makeGrant();
    await store.grants.create(g);
    const value = 'kh_at_' + randomId('secret');
    await store.tokens.createAccess(makeAccess(g, randomId('f'), { hash: sha256Hex(value) }));
    sqliteConnection(store).pragma('wal_checkpoint(TRUNCATE)');
    const { readFile } = await import('node:fs/promises');
    const bytes = await readFile(file);
    expect(bytes.includes(Buffer.from(value))).toBe(false);
    expect(bytes.includes(Buffer.from(sha256Hex(value)))).toBe(true);
  });

  it('answers the access-token lookup with primary-key searches only', () => {
    store = openSqliteStore(':memory:');
    const plan = sqliteConnection(store).prepare(`EXPLAIN QUERY PLAN ${ACCESS_TOKEN_LOOKUP_SQL}`).all({ hash: 'x' }) as { detail: string }[];
    expect(plan).toHaveLength(2);
    for (const row of plan) expect(row.detail).toMatch(/^SEARCH \w+ USING INDEX sqlite_autoindex_\w+ \((hash|id)=\?\)$/);
  });
});
