/**
 * Store contract, client part added for registration hygiene (issue 9 F2/F7, issue 11 §3): client use, the admin
 * client page (filtered and paginated in the store), the DCR registration count and the expiry scan.
 * Called from runStoreContract (store-contract.ts) for every store.
 */
import { describe, expect, it } from 'vitest';
import { randomId } from '../../../src/store/crypto/hash.js';
import type { ClientRecord, GrantRecord, Store } from '../../../src/store/types.js';

const T0 = 1_700_000_000;
const DAY = 86_400;

function client(over: Partial<ClientRecord> = {}): ClientRecord {
  return { clientId: randomId('c'), kind: 'dcr', metadata: { client_name: 'C' }, secretHash: null, createdAt: T0, blockedAt: null, lastUsedAt: null, ...over };
}

function grant(clientId: string, over: Partial<GrantRecord> = {}): GrantRecord {
  return {
    id: randomId('g'), clientId, server: 'demo', subject: randomId('u'), subjectName: null, scopes: [], status: 'active',
    statusReason: null, createdAt: T0, lastUsedAt: null, revokedAt: null, person: null, ...over,
  };
}

export function clientUseContract(get: () => Store): void {
  describe('client use and client pages', () => {
    it('stores lastUsedAt on create (null when absent) and keeps it on upsert', async () => {
      const store = get();
      const a = client({ lastUsedAt: T0 + 5 });
      const { lastUsedAt: _omit, ...b } = client();
      await store.clients.create(a);
      await store.clients.create(b);
      expect((await store.clients.find(a.clientId))?.lastUsedAt).toBe(T0 + 5);
      expect((await store.clients.find(b.clientId))?.lastUsedAt).toBeNull();
      await store.clients.upsert({ ...a, metadata: { client_name: 'v2' }, lastUsedAt: null });
      expect(await store.clients.find(a.clientId)).toMatchObject({ lastUsedAt: T0 + 5, metadata: { client_name: 'v2' } });
    });

    it('touchClient moves lastUsedAt forward only and ignores unknown ids', async () => {
      const store = get();
      const c = client();
      await store.clients.create(c);
      await store.clients.touch(c.clientId, T0 + 100);
      await store.clients.touch(c.clientId, T0 + 50);
      expect((await store.clients.find(c.clientId))?.lastUsedAt).toBe(T0 + 100);
      await expect(store.clients.touch('c_unknown', T0)).resolves.toBeUndefined();
    });

    it('listClientPage pages newest first with grant statistics of each row', async () => {
      const store = get();
      const cs = [0, 1, 2, 3, 4].map((i) => client({ createdAt: T0 + i }));
      for (const c of cs) await store.clients.create(c);
      await store.grants.create(grant(cs[3]!.clientId, { lastUsedAt: T0 + 70 }));
      const revoked = grant(cs[3]!.clientId, { lastUsedAt: T0 + 90 });
      await store.grants.create(revoked);
      await store.grants.revoke(revoked.id, 'admin_revoked', T0 + 91);
      const page = await store.clients.listPage({ limit: 2, offset: 1 });
      expect(page.map((e) => e.clientId)).toEqual([cs[3]!.clientId, cs[2]!.clientId]);
      expect(page[0]).toMatchObject({ grantCount: 2, activeGrantCount: 1, grantLastUsedAt: T0 + 90, lastUsedAt: null, metadata: { client_name: 'C' } });
      expect(page[1]).toMatchObject({ grantCount: 0, activeGrantCount: 0, grantLastUsedAt: null });
      expect(await store.clients.count()).toBe(5);
    });

    it('filters by kind, by last use (unusedSince counts never-used clients from registration) and by never used', async () => {
      const store = get();
      const fresh = client({ createdAt: T0 });
      const oldNever = client({ createdAt: T0 - 40 * DAY });
      const oldUsed = client({ createdAt: T0 - 100 * DAY, lastUsedAt: T0 - 35 * DAY });
      const recentUsed = client({ createdAt: T0 - 100 * DAY, lastUsedAt: T0 - DAY });
      const cimd = client({ kind: 'cimd', clientId: 'https://app.example.com/c.json', createdAt: T0 - 50 * DAY });
      for (const c of [fresh, oldNever, oldUsed, recentUsed, cimd]) await store.clients.create(c);
      const ids = async (f: Parameters<Store['clients']['listPage']>[0]) => (await store.clients.listPage(f)).map((e) => e.clientId).sort();
      const since = T0 - 30 * DAY;
      expect(await ids({ unusedSince: since })).toEqual([oldNever.clientId, oldUsed.clientId, cimd.clientId].sort());
      expect(await ids({ unusedSince: since, kind: 'dcr' })).toEqual([oldNever.clientId, oldUsed.clientId].sort());
      expect(await ids({ kind: 'cimd' })).toEqual([cimd.clientId]);
      expect(await ids({ neverUsed: true, kind: 'dcr' })).toEqual([fresh.clientId, oldNever.clientId].sort());
      expect(await ids({ neverUsed: false })).toEqual([oldUsed.clientId, recentUsed.clientId].sort());
      expect(await store.clients.count({ unusedSince: since, kind: 'dcr' })).toBe(2);
      expect(await store.clients.count({ kind: 'static' })).toBe(0);
    });

    it('returns only `limit` rows out of 3,000 clients and caps the limit at 500', async () => {
      const store = get();
      await store.transaction(async (tx) => {
        for (let i = 0; i < 3_000; i++) await tx.clients.create(client({ createdAt: T0 + i }));
      });
      const page = await store.clients.listPage({ limit: 1 });
      expect(page).toHaveLength(1);
      expect(page[0]!.createdAt).toBe(T0 + 2_999);
      expect(await store.clients.listPage({ limit: 10, offset: 2_995 })).toHaveLength(5);
      expect(await store.clients.listPage({ limit: 100_000 })).toHaveLength(500);
      expect(await store.clients.count({ kind: 'dcr' })).toBe(3_000);
    });

    it('dcrRegistrationsSince counts DCR clients registered since a time (inclusive) and gives the oldest', async () => {
      const store = get();
      for (const at of [T0 - 10, T0, T0 + 5]) await store.clients.create(client({ createdAt: at }));
      await store.clients.create(client({ kind: 'static', clientId: 'ci', createdAt: T0 + 1 }));
      expect(await store.dcrRegistrations.countSince(T0)).toEqual({ count: 2, oldest: T0 });
      expect(await store.dcrRegistrations.countSince(T0 + 6)).toEqual({ count: 0, oldest: null });
    });

    it('listExpiredDcrClients finds never-used DCR clients registered before one bound and used ones idle before another', async () => {
      const store = get();
      const neverOld = client({ createdAt: T0 - 2 * DAY });
      const neverNew = client({ createdAt: T0 - 60 });
      const idle = client({ createdAt: T0 - 200 * DAY, lastUsedAt: T0 - 100 * DAY });
      const active = client({ createdAt: T0 - 200 * DAY, lastUsedAt: T0 - DAY });
      const staticOld = client({ kind: 'static', clientId: 'static-old', createdAt: T0 - 300 * DAY });
      const cimdOld = client({ kind: 'cimd', clientId: 'https://app.example.com/old.json', createdAt: T0 - 300 * DAY });
      for (const c of [neverOld, neverNew, idle, active, staticOld, cimdOld]) await store.clients.create(c);
      expect(await store.clients.listExpiredDcr(T0 - DAY, T0 - 90 * DAY, 10)).toEqual([
        { clientId: neverOld.clientId, reason: 'never_authorized' },
        { clientId: idle.clientId, reason: 'unused' },
      ]);
      expect(await store.clients.listExpiredDcr(T0 - DAY, T0 - 90 * DAY, 1)).toEqual([{ clientId: neverOld.clientId, reason: 'never_authorized' }]);
    });
  });
}
