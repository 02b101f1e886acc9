/**
 * The cross-instance change feed (src/store/changes/): two stores on one real PostgreSQL see each other's notices
 * through LISTEN/NOTIFY, and through the polled change_log when the LISTEN connection is gone or a notification is
 * lost; never their own. SQLite: stores of the same file in this process reach each other; :memory: stays private.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Change } from '../../../src/store/types.js';
import { createPostgresStore, type PostgresStore } from '../../../src/store/postgres/postgres-store.js';
import { PostgresChangeFeed } from '../../../src/store/postgres/change-feed.js';
import { openSqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import { startPostgres, type PostgresServer } from '../../helpers/postgres.js';

/** Resolves with the changes `received` holds once it has `n` (or rejects after `ms`). */
async function waitFor(received: Change[], n: number, ms = 3_000): Promise<Change[]> {
  const until = Date.now() + ms;
  while (received.length < n) {
    if (Date.now() > until) throw new Error(`only ${received.length} of ${n} changes after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return received;
}

describe('PostgreSQL change feed', () => {
  let server: PostgresServer;
  let url: string;
  const stores: PostgresStore[] = [];
  beforeAll(async () => {
    server = await startPostgres();
    url = await server.createDatabase();
  });
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
  });
  afterAll(async () => {
    await server?.stop();
  });

  async function store(options: { pollMs?: number } = {}): Promise<PostgresStore> {
    const s = await createPostgresStore(url, options.pollMs !== undefined ? { changePollMs: options.pollMs } : {});
    stores.push(s);
    return s;
  }

  it('delivers a change published by one instance to every other instance, not to itself, by notification', async () => {
    // Polls once a minute: within this test only a notification can deliver.
    const [a, b, c] = [await store({ pollMs: 60_000 }), await store({ pollMs: 60_000 }), await store({ pollMs: 60_000 })];
    const got: Record<string, Change[]> = { a: [], b: [], c: [] };
    a.changes.subscribe((ch) => got.a!.push(ch));
    b.changes.subscribe((ch) => got.b!.push(ch));
    c.changes.subscribe((ch) => got.c!.push(ch));
    await Promise.all([a, b, c].map((s) => (s.changes as PostgresChangeFeed).ready()));
    await a.changes.publish('grant-revoked', 'g_1');
    expect(await waitFor(got.b!, 1)).toEqual([{ kind: 'grant-revoked', id: 'g_1' }]);
    expect(await waitFor(got.c!, 1)).toEqual([{ kind: 'grant-revoked', id: 'g_1' }]);
    await (b.changes as PostgresChangeFeed).poll(); // a poll re-reads the row: still delivered exactly once, never to a
    await (a.changes as PostgresChangeFeed).poll();
    expect(got.b).toHaveLength(1);
    expect(got.c).toHaveLength(1);
    expect(got.a).toEqual([]);
  });

  it('converges through the polled change_log when the LISTEN connection is killed (and reconnects)', async () => {
    const a = await store();
    const b = await store({ pollMs: 200 });
    const got: Change[] = [];
    b.changes.subscribe((ch) => got.push(ch));
    const feed = b.changes as PostgresChangeFeed;
    await feed.ready();
    expect(feed.listening).toBe(true);
    // Kill b's LISTEN session from outside (as a database restart or a network cut would).
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN keyhole_changes%' AND pid <> pg_backend_pid()`);
    } finally {
      await admin.end();
    }
    await a.changes.publish('grant-revoked', 'g_while_down');
    expect(await waitFor(got, 1)).toEqual([{ kind: 'grant-revoked', id: 'g_while_down' }]);
    // It listens again (backoff from 100 ms), and notifications flow again.
    const until = Date.now() + 5_000;
    while (!feed.listening && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    expect(feed.listening).toBe(true);
    await a.changes.publish('signing-keys', 'kid_2');
    expect((await waitFor(got, 2))[1]).toEqual({ kind: 'signing-keys', id: 'kid_2' });
  });

  it('delivers a change whose notification never came (written to change_log only) by the next poll', async () => {
    const b = await store({ pollMs: 100 });
    const got: Change[] = [];
    b.changes.subscribe((ch) => got.push(ch));
    await (b.changes as PostgresChangeFeed).ready();
    await b.pool.query("INSERT INTO change_log (kind, id, origin) VALUES ('grant-revoked', 'g_lost', 'another-instance')");
    expect(await waitFor(got, 1)).toEqual([{ kind: 'grant-revoked', id: 'g_lost' }]);
    await new Promise((r) => setTimeout(r, 400));
    expect(got).toHaveLength(1); // re-read by later polls (5 s window), delivered once
  });

  it('ignores unknown kinds and malformed notifications', async () => {
    const b = await store({ pollMs: 100 });
    const got: Change[] = [];
    b.changes.subscribe((ch) => got.push(ch));
    await (b.changes as PostgresChangeFeed).ready();
    await b.pool.query("INSERT INTO change_log (kind, id, origin) VALUES ('no-such-kind', 'x', 'other')");
    await b.pool.query("SELECT pg_notify('keyhole_changes', 'not json')");
    await b.pool.query("SELECT pg_notify('keyhole_changes', '{\"seq\":\"x\"}')");
    await new Promise((r) => setTimeout(r, 400));
    expect(got).toEqual([]);
  });

  it('opens no LISTEN connection for a store nobody subscribes to, and closes cleanly', async () => {
    const a = await store();
    await a.changes.publish('grant-revoked', 'g_x');
    expect((a.changes as PostgresChangeFeed).listening).toBe(false);
    await a.close();
    await a.close();
  });
});

describe('SQLite change feed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kh-feed-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reaches the other stores of the same file in this process, not itself, and not other files', async () => {
    const path = join(dir, 'a.db');
    const a = openSqliteStore(path);
    const b = openSqliteStore(path);
    const other = openSqliteStore(join(dir, 'b.db'));
    const got = { a: [] as Change[], b: [] as Change[], other: [] as Change[] };
    a.changes.subscribe((c) => got.a.push(c));
    b.changes.subscribe((c) => got.b.push(c));
    other.changes.subscribe((c) => got.other.push(c));
    await a.changes.publish('grant-revoked', 'g_1');
    expect(got).toEqual({ a: [], b: [{ kind: 'grant-revoked', id: 'g_1' }], other: [] });
    await b.close();
    await a.changes.publish('grant-revoked', 'g_2'); // a closed peer hears nothing
    expect(got.b).toHaveLength(1);
    await a.close();
    await other.close();
  });

  it('keeps :memory: stores private', async () => {
    const a = openSqliteStore(':memory:');
    const b = openSqliteStore(':memory:');
    const got: Change[] = [];
    b.changes.subscribe((c) => got.push(c));
    await a.changes.publish('grant-revoked', 'g_1');
    expect(got).toEqual([]);
    await a.close();
    await b.close();
  });
});
