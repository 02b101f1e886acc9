/**
 * What the PostgreSQL store adds to the contract (./store-contract.ts, run by ./postgres-contract.test.ts): several
 * connections at once. Single-use operations stay single-use under concurrent calls, a transaction is isolated from the
 * outer store, revocation and a late credential write cannot interleave, event ids commit in order, and what SQLite
 * would store (JSON with \u0000, any collation) PostgreSQL stores too. A real server (test/helpers/postgres.ts).
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../../src/store/crypto/hash.js';
import { createPostgresStore, type PostgresStore } from '../../../src/store/postgres/postgres-store.js';
import { PostgresConnectError } from '../../../src/store/postgres/pool.js';
import { startPostgres, type PostgresServer } from '../../helpers/postgres.js';
import { makeAccess, makeClient, makeCode, makeCredential, makeEvent, makeGrant, makePending, makeRefresh } from './store-contract.js';

const T0 = 1_700_000_000;
let server: PostgresServer;
let store: PostgresStore;
let other: PostgresStore; // a second keyhole instance on the same database

beforeAll(async () => {
  server = await startPostgres();
});
beforeEach(async () => {
  const url = await server.createDatabase();
  [store, other] = await Promise.all([createPostgresStore(url), createPostgresStore(url)]);
});
afterEach(async () => {
  await Promise.all([store?.close(), other?.close()]);
});
afterAll(async () => {
  await server?.stop();
});

describe('PostgresStore', () => {
  it('consumes a code exactly once when many calls race (from two instances)', async () => {
    const g = makeGrant();
    await store.grants.create(g);
    const code = makeCode(g);
    await store.tokens.createCode(code);
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 ? other : store).tokens.consumeCode(code.hash, T0 + 1)),
    );
    expect(results.filter((r) => r?.usedAt === null)).toHaveLength(1);
    expect(results.filter((r) => r?.usedAt === T0 + 1)).toHaveLength(9);
  });

  it('takes a pending authorization and marks a refresh token used exactly once under races', async () => {
    const g = makeGrant();
    await store.grants.create(g);
    const p = makePending();
    await store.pending.create(p);
    await store.pending.attachUpstream(p.id, sha256Hex('state'), 'sealed', ['openid']);
    const taken = await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 ? other : store).pending.takeByUpstreamState(sha256Hex('state'), T0)));
    expect(taken.filter(Boolean)).toHaveLength(1);
    const rt = makeRefresh(g, 'f_1');
    await store.tokens.createRefresh(rt);
    const marked = await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 ? other : store).tokens.markRefreshUsed(rt.hash, T0)));
    expect(marked.filter(Boolean)).toHaveLength(1);
  });

  it('isolates a transaction: the outer store does not see its rows until it commits, nor after a rollback', async () => {
    const g = makeGrant();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const tx = store.transaction(async (t) => {
      await t.grants.create(g);
      expect(await t.grants.find(g.id)).toEqual(g);
      await gate;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(await store.grants.find(g.id)).toBeUndefined(); // another connection, READ COMMITTED
    release();
    await tx;
    expect(await other.grants.find(g.id)).toEqual(g);

    const h = makeGrant();
    await expect(store.transaction(async (t) => {
      await t.grants.create(h);
      await t.events.append(makeEvent({ grantId: h.id }));
      throw new Error('boom');
    })).rejects.toThrow('boom');
    expect(await store.grants.find(h.id)).toBeUndefined();
    expect(await store.events.count({})).toBe(0);
  });

  it('refuses a transaction-scoped store kept after its transaction', async () => {
    let kept: Parameters<Parameters<PostgresStore['transaction']>[0]>[0] | undefined;
    await store.transaction(async (t) => void (kept = t));
    await expect(kept!.grants.find('g_x')).rejects.toThrow(/transaction has ended/);
    await expect(kept!.close()).rejects.toThrow();
  });

  it('never keeps a credential written while the grant is being revoked, whichever commits first', async () => {
    for (let round = 0; round < 30; round++) {
      const g = makeGrant();
      await store.grants.create(g);
      await Promise.all([
        other.upstreamCredentials.put(makeCredential(g, { updatedAt: T0 + round })),
        store.grants.revoke(g.id, 'admin_revoked', T0 + 1),
      ]);
      expect(await store.upstreamCredentials.find(g.id)).toBeUndefined();
    }
  });

  it('an offboarding never misses a grant completed for the person at that moment (people.lockActive FOR SHARE)', async () => {
    for (let round = 0; round < 30; round++) {
      const personId = `u_round${round}`;
      await store.people.create({
        id: personId, iss: null, sub: null, email: null, name: null, groups: [], status: 'active', offboardedAt: null, offboardedBy: null,
        offboardedVia: null, externalId: null, userName: null, scimActive: null, createdAt: T0, lastSeenAt: null,
      });
      const seenByOffboarding: string[] = [];
      await Promise.all([
        // complete-authorization: the person checked (and held) inside the grant's transaction
        store.transaction(async (tx) => {
          if (await tx.people.lockActive(personId)) await tx.grants.create(makeGrant({ person: { id: personId, email: null, name: null, groups: [] } }));
        }),
        // PeopleService.offboard: status first, then every grant of the person
        (async () => {
          await other.people.setStatus(personId, { status: 'offboarded', at: T0, by: 'admin:token', via: 'admin' });
          for (const g of await other.grants.listByPerson(personId)) seenByOffboarding.push(g.id);
        })(),
      ]);
      const grants = await store.grants.listByPerson(personId);
      expect(grants.filter((g) => !seenByOffboarding.includes(g.id))).toEqual([]);
    }
  });

  it('hands out event ids in commit order when appends race (a scan cursor skips nothing)', async () => {
    const seen: number[] = [];
    let cursor = 0;
    const appends = Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? other : store).events.append(makeEvent({ at: T0 + i }))));
    const scanning = (async () => {
      for (let i = 0; i < 20; i++) {
        for (const e of await store.events.scan({}, cursor, 500)) {
          seen.push(e.id);
          cursor = e.id;
        }
      }
    })();
    const ids = await appends;
    await scanning;
    for (const e of await store.events.scan({}, cursor, 500)) seen.push(e.id);
    expect(seen).toEqual([...ids].sort((a, b) => a - b));
  });

  it('stores what JSON.stringify writes, \\u0000 included, and returns it unchanged', async () => {
    const c = makeClient({ metadata: { client_name: 'nul\u0000byte', nested: { list: [1, 'two', null] } } });
    await store.clients.create(c);
    expect(await other.clients.find(c.clientId)).toEqual(c);
  });

  it('finds an access token joined with its grant, revocations visible to the other instance at once (no cache)', async () => {
    const g = makeGrant();
    await store.grants.create(g);
    const at = makeAccess(g, 'f_1');
    await store.tokens.createAccess(at);
    expect(await other.tokens.findAccess(at.hash)).toMatchObject({ grantStatus: 'active', revokedAt: null, server: g.server, subject: g.subject });
    await store.grants.revoke(g.id, 'admin_revoked', T0 + 5);
    expect(await other.tokens.findAccess(at.hash)).toMatchObject({ grantStatus: 'revoked', revokedAt: T0 + 5 });
  });

  it('refuses to open an unreachable database with a PostgresConnectError', async () => {
    await expect(createPostgresStore('postgres://keyhole@127.0.0.1:1/keyhole', { connectionTimeoutMs: 1_000 })).rejects.toBeInstanceOf(PostgresConnectError);
  });
});
