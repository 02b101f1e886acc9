/**
 * Store contract, free-text search (issue 13 §5): `GrantFilter.q` and `PersonFilter.q` over person, email, upstream
 * subject, client name and server, case-insensitive, with LIKE wildcards taken literally. Called from
 * runStoreContract (store-contract.ts) for every store (SQLite file, SQLite memory, PostgreSQL).
 */
import { describe, expect, it } from 'vitest';
import type { Store } from '../../../src/store/types.js';
import { grantRecord as grant, personRecord as person, T0 } from './record-builders.js';

export function searchContract(get: () => Store): void {
  describe('free-text search (grants and people)', () => {
    async function seed(store: Store) {
      const alice = person({ email: 'alice@acme.example', name: 'Alice Archer', createdAt: T0 });
      const bob = person({ email: 'bob@acme.example', name: 'Bob 100% Builder', createdAt: T0 + 1 });
      await store.people.create(alice);
      await store.people.create(bob);
      await store.clients.create({ clientId: 'c_claude', kind: 'dcr', metadata: { client_name: 'Claude Desktop', redirect_uris: ['http://127.0.0.1/cb'] }, secretHash: null, createdAt: T0, blockedAt: null });
      await store.clients.create({ clientId: 'c_cursor', kind: 'dcr', metadata: { client_name: 'Cur_sor IDE' }, secretHash: null, createdAt: T0, blockedAt: null });
      const ga = grant({ clientId: 'c_claude', server: 'jira', subject: 'alice-jira-42', person: { id: alice.id, email: alice.email, name: alice.name, groups: [] }, createdAt: T0 });
      const gb = grant({ clientId: 'c_cursor', server: 'github', subject: 'octobob', subjectName: 'Bobby Tables', person: { id: bob.id, email: bob.email, name: bob.name, groups: [] }, createdAt: T0 + 1 });
      const gn = grant({ clientId: 'c_unknown', server: 'demo', subject: 'anon_user', createdAt: T0 + 2 });
      for (const g of [ga, gb, gn]) await store.grants.create(g);
      return { alice, bob, ga, gb, gn };
    }
    const grantIds = async (store: Store, q: string, extra: object = {}) => (await store.grants.list({ q, ...extra })).map((g) => g.id);
    const peopleIds = async (store: Store, q: string) => (await store.people.list({ q })).map((p) => p.id);

    it('grants: matches person email and name, upstream subject and its name, server and client name, case-insensitively', async () => {
      const store = get();
      const { ga, gb, gn } = await seed(store);
      expect(await grantIds(store, 'ALICE@')).toEqual([ga.id]);
      expect(await grantIds(store, 'archer')).toEqual([ga.id]);
      expect(await grantIds(store, 'jira-42')).toEqual([ga.id]);
      expect(await grantIds(store, 'bobby')).toEqual([gb.id]);
      expect(await grantIds(store, 'GitHub')).toEqual([gb.id]);
      expect(await grantIds(store, 'desktop')).toEqual([ga.id]);
      expect(await grantIds(store, 'acme.example')).toEqual([gb.id, ga.id]);
      expect(await grantIds(store, gn.id)).toEqual([gn.id]);
      expect(await grantIds(store, 'c_unknown')).toEqual([gn.id]);
      expect(await grantIds(store, 'nobody-at-all')).toEqual([]);
      expect(await store.grants.count({ q: 'acme' })).toBe(2);
      // Combined with the exact filters.
      expect(await grantIds(store, 'acme', { server: 'jira' })).toEqual([ga.id]);
      expect(await grantIds(store, '  archer  ')).toEqual([ga.id]);
    });

    it('grants: %, _ and \\ are literal, never wildcards', async () => {
      const store = get();
      const { gb, gn } = await seed(store);
      expect(await grantIds(store, '%')).toEqual([gb.id]); // only "Bob 100% Builder"
      expect(await grantIds(store, '100%')).toEqual([gb.id]);
      expect(await grantIds(store, 'r_s')).toEqual([gb.id]); // "Cur_sor": the client name
      expect(await grantIds(store, 'anon_')).toEqual([gn.id]);
      expect(await grantIds(store, 'anon%')).toEqual([]);
      expect(await grantIds(store, 'n_n')).toEqual([]); // "_" is not "any one character"
      expect(await grantIds(store, '\\')).toEqual([]);
    });

    it('people: matches their own fields and any of their grants (subject, server, client name)', async () => {
      const store = get();
      const { alice, bob } = await seed(store);
      expect(await peopleIds(store, 'jira')).toEqual([alice.id]);
      expect(await peopleIds(store, 'octobob')).toEqual([bob.id]);
      expect(await peopleIds(store, 'claude')).toEqual([alice.id]);
      expect(await peopleIds(store, 'cur_sor')).toEqual([bob.id]);
      expect(await peopleIds(store, 'curxsor')).toEqual([]);
      expect(await peopleIds(store, 'anon')).toEqual([]); // a grant without a person belongs to nobody here
      expect(await peopleIds(store, 'acme')).toEqual([bob.id, alice.id]);
      expect(await store.people.count({ q: 'github' })).toBe(1);
      expect(await peopleIds(store, '%')).toEqual([bob.id]);
    });

    it('people: `scim` keeps only SCIM-provisioned people (a userName), paginated in SQL', async () => {
      const store = get();
      const { alice } = await seed(store);
      const s1 = person({ userName: 'carol@acme.example', createdAt: T0 + 5 });
      const s2 = person({ userName: 'dave@acme.example', createdAt: T0 + 6 });
      await store.people.create(s1);
      await store.people.create(s2);
      expect((await store.people.list({ scim: true })).map((p) => p.id)).toEqual([s2.id, s1.id]);
      expect((await store.people.list({ scim: true, limit: 1, offset: 1 })).map((p) => p.id)).toEqual([s1.id]);
      expect(await store.people.count({ scim: true })).toBe(2);
      expect(await store.people.count({})).toBe(4);
      expect((await store.people.list({ scim: false })).map((p) => p.id)).toContain(alice.id);
    });
  });
}
