/**
 * The token manager's storage guarantees on both engines, SQLite (a file) and a real PostgreSQL
 * (test/helpers/postgres.ts), with a fake upstream client that counts every refresh token it is sent:
 * - invariant 8: the rotated refresh token is committed before the caller receives the new access token;
 * - two instances on one database (two stores, two token managers) refresh a grant once: the loser of the refresh
 *   lock re-reads the credential and uses the winner's token, never spending the old refresh token again;
 * - a credential rewritten while a refresh is in flight (the compare-and-swap on its version fails) still ends
 *   with the rotated refresh token stored, since the row still held the spent one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../../src/store/types.js';
import { openSqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import { createPostgresStore } from '../../../src/store/postgres/postgres-store.js';
import { UpstreamVault } from '../../../src/vault/upstream-vault.js';
import { bearerHeader } from '../../../src/upstream/credential-source.js';
import { startPostgres, type PostgresServer } from '../../helpers/postgres.js';
import { createHarness, T0, type Harness } from './token-manager-harness.js';

interface Engine {
  /** Two views of one fresh database (two keyhole instances), and how to drop it. */
  open(): Promise<{ a: Store; b: Store; cleanup(): Promise<void> }>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function suite(name: string, engine: () => Engine): void {
  describe(`UpstreamTokenManager on ${name}`, () => {
    let h: Harness;
    let other: Store;
    let cleanup: () => Promise<void>;
    beforeEach(async () => {
      const db = await engine().open();
      other = db.b;
      cleanup = db.cleanup;
      h = await createHarness(db.a);
    });
    afterEach(async () => {
      await cleanup();
    });

    it('commits the rotated refresh token before the caller receives the new access token (invariant 8)', async () => {
      const order: string[] = [];
      const vault = {
        get: (id: string) => h.vault.get(id),
        put: async (...args: Parameters<Harness['vault']['put']>) => {
          const stored = await h.vault.put(...args);
          // Read back through the OTHER instance's connection: committed, not merely written in a transaction.
          const seen = await new UpstreamVault({ store: other, cipher: h.cipher, backend: 'sqlite', keychain: undefined }).get(args[0]);
          order.push(`database holds ${await seen!.openRefreshToken()}`);
          return stored;
        },
      };
      const m = h.manager({ vault });
      await h.seed(m, 15);
      order.length = 0;
      h.now.t = T0 + 16;
      h.upstream.onIssue = (t) => order.push(`upstream issued ${t.refreshToken}`);
      const credential = await m.getCredential(h.grant, false);
      order.push(`caller received ${credential.value}`);
      expect(order).toEqual(['upstream issued rt-1', 'database holds rt-1', 'caller received Bearer at-1']);
    });

    it('two instances refresh a grant once; the loser uses the winner\'s token (refresh lock + re-read)', async () => {
      const a = h.manager();
      const b = h.manager({ store: other, vault: new UpstreamVault({ store: other, cipher: h.cipher, backend: 'sqlite', keychain: undefined }) });
      await h.seed(a, 15);
      h.now.t = T0 + 16;
      let answer!: () => void;
      h.upstream.gate = new Promise<void>((r) => (answer = r));
      const calls = Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).getCredential(h.grant, false));
      await sleep(100);
      answer();
      const results = await Promise.all(calls);
      expect(new Set(results.map((r) => r.value))).toEqual(new Set(['Bearer at-1']));
      expect(h.upstream.refreshes).toEqual(['rt-0']);
      expect((await other.upstreamCredentials.find(h.grant.id))!.version).toBe(2);
    });

    it('a refresh whose compare-and-swap finds the row rewritten (still holding the spent token) writes its rotation anyway', async () => {
      const m = h.manager();
      await h.seed(m, 15);
      h.now.t = T0 + 16;
      let answer!: () => void;
      h.upstream.gate = new Promise<void>((r) => (answer = r));
      const call = m.getCredential(h.grant, false);
      await sleep(50);
      await other.upstreamCredentials.markRefreshFailing(h.grant.id, T0 + 1); // another writer: version 1 → 2
      answer();
      expect(await call).toEqual(bearerHeader('at-1'));
      const stored = (await h.vault.get(h.grant.id))!;
      expect(await stored.openRefreshToken()).toBe('rt-1');
      expect(stored.credential.version).toBe(3);
      expect(h.upstream.refreshes).toEqual(['rt-0']);
    });
  });
}

let pg: PostgresServer | undefined;
beforeAll(async () => {
  pg = await startPostgres();
});
afterAll(async () => {
  await pg?.stop();
});

suite('SQLite (file)', () => ({
  async open() {
    const dir = mkdtempSync(join(tmpdir(), 'keyhole-tm-'));
    const a = openSqliteStore(join(dir, 'keyhole.db'));
    // One process per SQLite file: the second "instance" is the same store (its locks are in-process).
    return { a, b: a, cleanup: async () => { await a.close(); rmSync(dir, { recursive: true, force: true }); } };
  },
}));

suite('PostgreSQL', () => ({
  async open() {
    const url = await pg!.createDatabase();
    const [a, b] = await Promise.all([createPostgresStore(url), createPostgresStore(url)]);
    return { a, b, cleanup: async () => { await Promise.all([a.close(), b.close()]); } };
  },
}));
