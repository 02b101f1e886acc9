/**
 * The store contract: one suite every Store implementation must pass (node-oidc-provider adapter tests,
 * oauth2-proxy `RunSessionStoreTests`). Usage, in a `*.test.ts`:
 *
 *   runStoreContract('SqliteStore', async () => { const store = …; return { store, cleanup: async () => … }; });
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { randomId, sha256Hex } from '../../../src/store/crypto/hash.js';
import type {
  AccessTokenRecord,
  ClientRecord,
  CodeRecord,
  GrantRecord,
  NewEvent,
  PendingAuthorization,
  RefreshTokenRecord,
  SealedField,
  Store,
  UpstreamCredential,
} from '../../../src/store/types.js';
import { upstreamKindsContract } from './upstream-kinds-contract.js';
import { clientUseContract } from './client-use-contract.js';
import { auditLogContract } from './audit-log-contract.js';
import { peopleContract } from './people-contract.js';
import { adminSessionsContract } from './admin-sessions-contract.js';
import { mcpSessionsContract } from './mcp-sessions-contract.js';
import { searchContract } from './search-contract.js';

export interface StoreHandle {
  store: Store;
  cleanup(): Promise<void>;
}

const T0 = 1_700_000_000;
const RESOURCE = 'http://127.0.0.1:8787/mcp/demo';

export function makeClient(over: Partial<ClientRecord> = {}): ClientRecord {
  return {
    clientId: randomId('c'),
    kind: 'dcr',
    metadata: { client_name: 'Test client', redirect_uris: ['http://127.0.0.1:33418/callback'], x_unknown: { a: [1] } },
    secretHash: null,
    createdAt: T0,
    blockedAt: null,
    lastUsedAt: null,
    ...over,
  };
}

export function makeGrant(over: Partial<GrantRecord> = {}): GrantRecord {
  return {
    id: randomId('g'),
    clientId: 'c_client',
    server: 'demo',
    subject: 'user-1',
    subjectName: 'User One',
    scopes: ['mcp:tools', 'read'],
    status: 'active',
    statusReason: null,
    createdAt: T0,
    lastUsedAt: null,
    revokedAt: null,
    person: null,
    ...over,
  };
}

export function makePending(over: Partial<PendingAuthorization> = {}): PendingAuthorization {
  return {
    id: randomId('p'),
    request: {
      clientId: 'c_client',
      redirectUri: 'http://127.0.0.1:33418/callback',
      codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      state: 'client-state',
      scopes: ['mcp:tools'],
      resource: RESOURCE,
      server: 'demo',
    },
    upstreamStateHash: null,
    upstreamVerifier: null,
    upstreamScopes: [],
    grantId: null,
    browserBindingHash: null,
    personId: null,
    createdAt: T0,
    expiresAt: T0 + 600,
    ...over,
  };
}

export function makeCode(grant: GrantRecord, over: Partial<CodeRecord> = {}): CodeRecord {
  return {
    hash: sha256Hex(randomId('code')),
    grantId: grant.id,
    familyId: randomId('f'),
    clientId: grant.clientId,
    redirectUri: 'http://127.0.0.1:33418/callback',
    codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    resource: RESOURCE,
    scopes: ['mcp:tools'],
    expiresAt: T0 + 60,
    usedAt: null,
    ...over,
  };
}

export function makeAccess(grant: GrantRecord, familyId: string, over: Partial<AccessTokenRecord> = {}): AccessTokenRecord {
  return {
    hash: sha256Hex(randomId('at')),
    grantId: grant.id,
    familyId,
    clientId: grant.clientId,
    resource: RESOURCE,
    scopes: ['mcp:tools'],
    expiresAt: T0 + 3600,
    revokedAt: null,
    ...over,
  };
}

export function makeRefresh(grant: GrantRecord, familyId: string, over: Partial<RefreshTokenRecord> = {}): RefreshTokenRecord {
  return {
    hash: sha256Hex(randomId('rt')),
    grantId: grant.id,
    familyId,
    clientId: grant.clientId,
    resource: RESOURCE,
    scopes: ['mcp:tools'],
    expiresAt: T0 + 86_400,
    usedAt: null,
    revokedAt: null,
    ...over,
  };
}

export function makeCredential(grant: GrantRecord, over: Partial<UpstreamCredential> = {}): UpstreamCredential {
  return {
    grantId: grant.id,
    accessToken: 'eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..sealed-access',
    accessExpiresAt: T0 + 3600,
    refreshToken: 'eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..sealed-refresh',
    scopes: ['openid', 'offline_access', 'mcp:tools'],
    updatedAt: T0,
    refreshFailingSince: null,
    refreshInKeychain: false,
    version: 1,
    ...over,
  };
}

export function makeEvent(over: Partial<NewEvent> = {}): NewEvent {
  return {
    at: T0,
    type: 'grant.created',
    grantId: null,
    clientId: null,
    server: null,
    subject: null,
    outcome: 'success',
    detail: {},
    ...over,
  };
}

export function runStoreContract(name: string, makeStore: () => Promise<StoreHandle>): void {
  describe(`Store contract: ${name}`, () => {
    let handle: StoreHandle;
    let store: Store;

    beforeEach(async () => {
      handle = await makeStore();
      store = handle.store;
    });
    afterEach(async () => {
      await handle.cleanup();
    });

    /** A grant plus one family with a code, an access token and a refresh token. */
    async function seedFamily(grant: GrantRecord, into: Store = store) {
      const code = makeCode(grant);
      const access = makeAccess(grant, code.familyId);
      const refresh = makeRefresh(grant, code.familyId);
      await into.tokens.createCode(code);
      await into.tokens.createAccess(access);
      await into.tokens.createRefresh(refresh);
      return { code, access, refresh, familyId: code.familyId };
    }

    describe('clients', () => {
      it('round-trips a client, metadata JSON included', async () => {
        const c = makeClient({ secretHash: sha256Hex('secret'), kind: 'static', clientId: 'my-static' });
        await store.clients.create(c);
        expect(await store.clients.find('my-static')).toEqual(c);
        expect(await store.clients.find('nope')).toBeUndefined();
      });

      it('finds many clients in one call: the ones that exist, none for an empty list', async () => {
        const a = makeClient({ clientId: 'many-a' });
        const b = makeClient({ clientId: 'https://app.example.com/oauth/many-b.json', kind: 'cimd' });
        await store.clients.create(a);
        await store.clients.create(b);
        const got = await store.clients.findMany(['many-a', 'nope', b.clientId, "x') OR 1=1 --"]);
        expect(got.sort((x, y) => x.clientId.localeCompare(y.clientId))).toEqual([b, a].sort((x, y) => x.clientId.localeCompare(y.clientId)));
        expect(await store.clients.findMany([])).toEqual([]);
      });

      it('keeps a CIMD URL as client id', async () => {
        const c = makeClient({ kind: 'cimd', clientId: 'https://app.example.com/oauth/client.json' });
        await store.clients.create(c);
        expect((await store.clients.find(c.clientId))?.kind).toBe('cimd');
      });

      it('upserts a client: creates it, then replaces kind, metadata and secret hash but keeps createdAt and blockedAt', async () => {
        const c = makeClient({ kind: 'cimd', clientId: 'https://app.example.com/oauth/upsert.json', metadata: { client_name: 'v1' }, createdAt: T0 });
        await store.clients.upsert(c);
        expect(await store.clients.find(c.clientId)).toEqual(c);
        await store.clients.block(c.clientId, T0 + 1);
        await store.clients.upsert({ ...c, metadata: { client_name: 'v2' }, secretHash: sha256Hex('s'), createdAt: T0 + 5, blockedAt: null });
        expect(await store.clients.find(c.clientId)).toEqual({ ...c, metadata: { client_name: 'v2' }, secretHash: sha256Hex('s'), createdAt: T0, blockedAt: T0 + 1 });
        expect(await store.clients.count()).toBe(1);
      });

      it('rejects a duplicate client id', async () => {
        const c = makeClient();
        await store.clients.create(c);
        await expect(store.clients.create(c)).rejects.toThrow();
      });

      it('lists newest first and counts', async () => {
        const a = makeClient({ createdAt: T0 });
        const b = makeClient({ createdAt: T0 + 10 });
        const c = makeClient({ createdAt: T0 + 5 });
        for (const x of [a, b, c]) await store.clients.create(x);
        expect((await store.clients.list()).map((x) => x.clientId)).toEqual([b.clientId, c.clientId, a.clientId]);
        expect(await store.clients.count()).toBe(3);
      });

      it('blocks a client and keeps the first block time', async () => {
        const c = makeClient();
        await store.clients.create(c);
        await store.clients.block(c.clientId, T0 + 1);
        await store.clients.block(c.clientId, T0 + 2);
        expect((await store.clients.find(c.clientId))?.blockedAt).toBe(T0 + 1);
        await expect(store.clients.block('unknown', T0)).resolves.toBeUndefined();
      });

      it('deletes a client, its pending authorizations, and keeps its grants as history', async () => {
        const c = makeClient();
        await store.clients.create(c);
        const g = makeGrant({ clientId: c.clientId });
        await store.grants.create(g);
        const p = makePending({ request: { ...makePending().request, clientId: c.clientId } });
        await store.pending.create(p);
        await store.clients.delete(c.clientId);
        expect(await store.clients.find(c.clientId)).toBeUndefined();
        expect(await store.clients.count()).toBe(0);
        expect(await store.pending.find(p.id)).toBeUndefined();
        expect(await store.grants.find(g.id)).toEqual(g);
        await expect(store.clients.delete('unknown')).resolves.toBeUndefined();
      });

      it('accepts grants for a client that has no row (static clients from config)', async () => {
        const g = makeGrant({ clientId: 'configured-static-client' });
        await store.grants.create(g);
        expect((await store.grants.find(g.id))?.clientId).toBe('configured-static-client');
      });
    });

    describe('pending authorizations', () => {
      it('round-trips, then attaches the upstream state', async () => {
        const p = makePending({ request: { ...makePending().request, state: null } });
        await store.pending.create(p);
        expect(await store.pending.find(p.id)).toEqual(p);
        const stateHash = sha256Hex('upstream-state');
        await store.pending.attachUpstream(p.id, stateHash, 'sealed-verifier', ['openid', 'offline_access']);
        expect(await store.pending.find(p.id)).toEqual({
          ...p,
          upstreamStateHash: stateHash,
          upstreamVerifier: 'sealed-verifier',
          upstreamScopes: ['openid', 'offline_access'],
        });
        expect(await store.pending.find('p_unknown')).toBeUndefined();
      });

      it('stores the browser-binding hash with the upstream state and returns it from take', async () => {
        const p = makePending();
        await store.pending.create(p);
        const stateHash = sha256Hex('bound-state');
        const bindingHash = sha256Hex('binding-cookie');
        await store.pending.attachUpstream(p.id, stateHash, 'sealed-verifier', ['openid'], bindingHash);
        expect((await store.pending.find(p.id))?.browserBindingHash).toBe(bindingHash);
        expect((await store.pending.takeByUpstreamState(stateHash, T0 + 1))?.browserBindingHash).toBe(bindingHash);
      });

      it('keeps a step-up grant id', async () => {
        const g = makeGrant();
        await store.grants.create(g);
        const p = makePending({ grantId: g.id });
        await store.pending.create(p);
        expect((await store.pending.find(p.id))?.grantId).toBe(g.id);
      });

      it('takes by upstream state exactly once', async () => {
        const p = makePending();
        await store.pending.create(p);
        const stateHash = sha256Hex('s1');
        await store.pending.attachUpstream(p.id, stateHash, 'v', ['openid']);
        const taken = await store.pending.takeByUpstreamState(stateHash, T0 + 1);
        expect(taken?.id).toBe(p.id);
        expect(taken?.upstreamVerifier).toBe('v');
        expect(await store.pending.takeByUpstreamState(stateHash, T0 + 1)).toBeUndefined();
        expect(await store.pending.find(p.id)).toBeUndefined();
        expect(await store.pending.takeByUpstreamState(sha256Hex('unknown'), T0)).toBeUndefined();
      });

      it('deletes and refuses an expired pending authorization when taken', async () => {
        const p = makePending({ expiresAt: T0 + 600 });
        await store.pending.create(p);
        const stateHash = sha256Hex('s2');
        await store.pending.attachUpstream(p.id, stateHash, 'v', []);
        expect(await store.pending.takeByUpstreamState(stateHash, T0 + 600)).toBeUndefined();
        expect(await store.pending.find(p.id)).toBeUndefined();
      });

      it('deletes one, and deletes the expired ones', async () => {
        const a = makePending({ expiresAt: T0 + 10 });
        const b = makePending({ expiresAt: T0 + 20 });
        const c = makePending({ expiresAt: T0 + 30 });
        for (const x of [a, b, c]) await store.pending.create(x);
        await store.pending.delete(c.id);
        expect(await store.pending.find(c.id)).toBeUndefined();
        expect(await store.pending.deleteExpired(T0 + 10)).toBe(1);
        expect(await store.pending.find(a.id)).toBeUndefined();
        expect(await store.pending.find(b.id)).toBeDefined();
        expect(await store.pending.deleteExpired(T0 + 10)).toBe(0);
      });
    });

    describe('grants', () => {
      it('round-trips a grant', async () => {
        const g = makeGrant({ subjectName: null, scopes: [] });
        await store.grants.create(g);
        expect(await store.grants.find(g.id)).toEqual(g);
        expect(await store.grants.find('g_unknown')).toBeUndefined();
      });

      it('finds the active grant for (client, server, subject) only', async () => {
        const revoked = makeGrant({ status: 'revoked', statusReason: 'admin_revoked', revokedAt: T0 });
        const active = makeGrant({ createdAt: T0 + 1 });
        await store.grants.create(revoked);
        await store.grants.create(active);
        await store.grants.create(makeGrant({ subject: 'user-2' }));
        await store.grants.create(makeGrant({ server: 'other' }));
        await store.grants.create(makeGrant({ clientId: 'c_other' }));
        expect((await store.grants.findActive('c_client', 'demo', 'user-1'))?.id).toBe(active.id);
        await store.grants.revoke(active.id, 'client_revoked', T0 + 2);
        expect(await store.grants.findActive('c_client', 'demo', 'user-1')).toBeUndefined();
        expect(await store.grants.findActive('c_nobody', 'demo', 'user-1')).toBeUndefined();
      });

      it('updates scopes and touches last use (never backwards)', async () => {
        const g = makeGrant();
        await store.grants.create(g);
        await store.grants.updateScopes(g.id, ['a', 'b', 'c']);
        await store.grants.touch(g.id, T0 + 100);
        await store.grants.touch(g.id, T0 + 50);
        const got = await store.grants.find(g.id);
        expect(got?.scopes).toEqual(['a', 'b', 'c']);
        expect(got?.lastUsedAt).toBe(T0 + 100);
      });

      it('finds many upstream credentials in one call: the ones that exist, none for an empty list', async () => {
        const [g1, g2, g3] = [makeGrant(), makeGrant(), makeGrant()];
        for (const g of [g1, g2, g3]) await store.grants.create(g!);
        await store.upstreamCredentials.put(makeCredential(g1!));
        await store.upstreamCredentials.put(makeCredential(g3!, { accessExpiresAt: T0 + 7 }));
        const got = await store.upstreamCredentials.findMany([g1!.id, g2!.id, g3!.id, 'g_nope']);
        expect(new Map(got.map((c) => [c.grantId, c]))).toEqual(new Map([[g1!.id, await store.upstreamCredentials.find(g1!.id)], [g3!.id, await store.upstreamCredentials.find(g3!.id)]]));
        expect(got.find((c) => c.grantId === g3!.id)?.accessExpiresAt).toBe(T0 + 7);
        expect(await store.upstreamCredentials.findMany([])).toEqual([]);
      });

      it('revokes a grant: status, reason, time, tokens, codes and credential, once', async () => {
        const g = makeGrant();
        await store.grants.create(g);
        await store.upstreamCredentials.put(makeCredential(g));
        const fam1 = await seedFamily(g);
        const fam2 = await seedFamily(g);
        const used = makeCode(g, { familyId: fam1.familyId, usedAt: T0 + 3 });
        await store.tokens.createCode(used);

        expect(await store.grants.revoke(g.id, 'admin_revoked', T0 + 10)).toBe(true);

        const got = await store.grants.find(g.id);
        expect(got).toMatchObject({ status: 'revoked', statusReason: 'admin_revoked', revokedAt: T0 + 10 });
        expect(await store.upstreamCredentials.find(g.id)).toBeUndefined();
        for (const fam of [fam1, fam2]) {
          expect(await store.tokens.findAccess(fam.access.hash)).toMatchObject({ revokedAt: T0 + 10, grantStatus: 'revoked' });
          expect((await store.tokens.findRefresh(fam.refresh.hash))?.revokedAt).toBe(T0 + 10);
          expect((await store.tokens.consumeCode(fam.code.hash, T0 + 20))?.usedAt).toBe(T0 + 10);
        }
        expect((await store.tokens.consumeCode(used.hash, T0 + 20))?.usedAt).toBe(T0 + 3);

        // Already revoked: false, and the first reason/time stay.
        expect(await store.grants.revoke(g.id, 'client_revoked', T0 + 99)).toBe(false);
        expect(await store.grants.find(g.id)).toMatchObject({ statusReason: 'admin_revoked', revokedAt: T0 + 10 });
        expect(await store.grants.revoke('g_unknown', 'admin_revoked', T0)).toBe(false);
      });

      it('revoking one grant leaves other grants alone', async () => {
        const a = makeGrant();
        const b = makeGrant({ subject: 'user-2' });
        await store.grants.create(a);
        await store.grants.create(b);
        await store.upstreamCredentials.put(makeCredential(b));
        const famB = await seedFamily(b);
        await store.grants.revoke(a.id, 'admin_revoked', T0 + 1);
        expect((await store.grants.find(b.id))?.status).toBe('active');
        expect(await store.upstreamCredentials.find(b.id)).toBeDefined();
        expect((await store.tokens.findAccess(famB.access.hash))?.revokedAt).toBeNull();
        expect((await store.tokens.findRefresh(famB.refresh.hash))?.revokedAt).toBeNull();
      });

      describe('listGrants / countGrants', () => {
        let grants: GrantRecord[];
        beforeEach(async () => {
          grants = [
            makeGrant({ createdAt: T0 + 1, clientId: 'c_a', server: 's1', subject: 'u1' }),
            makeGrant({ createdAt: T0 + 2, clientId: 'c_a', server: 's2', subject: 'u1' }),
            makeGrant({ createdAt: T0 + 3, clientId: 'c_b', server: 's1', subject: 'u2' }),
            makeGrant({ createdAt: T0 + 4, clientId: 'c_b', server: 's1', subject: 'u1', status: 'revoked', revokedAt: T0 + 5 }),
            makeGrant({ createdAt: T0 + 4, clientId: 'c_a', server: 's1', subject: 'u2' }),
          ];
          for (const g of grants) await store.grants.create(g);
        });
        const ids = (list: GrantRecord[]) => list.map((g) => g.id);

        it('lists newest first (ties in insertion order, newest first)', async () => {
          const g = grants as [GrantRecord, GrantRecord, GrantRecord, GrantRecord, GrantRecord];
          expect(ids(await store.grants.list({}))).toEqual([g[4].id, g[3].id, g[2].id, g[1].id, g[0].id]);
          expect(await store.grants.count({})).toBe(5);
        });

        it('honours every filter field, alone and combined', async () => {
          const g = grants as [GrantRecord, GrantRecord, GrantRecord, GrantRecord, GrantRecord];
          expect(ids(await store.grants.list({ clientId: 'c_a' }))).toEqual([g[4].id, g[1].id, g[0].id]);
          expect(ids(await store.grants.list({ server: 's2' }))).toEqual([g[1].id]);
          expect(ids(await store.grants.list({ subject: 'u2' }))).toEqual([g[4].id, g[2].id]);
          expect(ids(await store.grants.list({ status: 'revoked' }))).toEqual([g[3].id]);
          expect(ids(await store.grants.list({ status: 'active', server: 's1', subject: 'u1' }))).toEqual([g[0].id]);
          expect(ids(await store.grants.list({ clientId: 'c_b', server: 's1', subject: 'u1', status: 'revoked' }))).toEqual([g[3].id]);
          expect(await store.grants.count({ clientId: 'c_a' })).toBe(3);
          expect(await store.grants.count({ status: 'active' })).toBe(4);
          expect(await store.grants.count({ server: 's1', subject: 'u2' })).toBe(2);
          expect(await store.grants.count({ clientId: 'c_nobody' })).toBe(0);
        });

        it('paginates with limit and offset; count ignores them', async () => {
          const all = ids(await store.grants.list({}));
          expect(ids(await store.grants.list({ limit: 2 }))).toEqual(all.slice(0, 2));
          expect(ids(await store.grants.list({ limit: 2, offset: 2 }))).toEqual(all.slice(2, 4));
          expect(ids(await store.grants.list({ limit: 2, offset: 4 }))).toEqual(all.slice(4));
          expect(await store.grants.list({ offset: 10 })).toEqual([]);
          expect(await store.grants.count({ limit: 1, offset: 3 })).toBe(5);
        });

        it('defaults the limit to 50 and caps it at 500', async () => {
          for (let i = 0; i < 600; i++) await store.grants.create(makeGrant({ createdAt: T0 - i }));
          expect(await store.grants.list({})).toHaveLength(50);
          expect(await store.grants.list({ limit: 10_000 })).toHaveLength(500);
          expect(await store.grants.list({ limit: 500, offset: 500 })).toHaveLength(105);
        });
      });
    });

    describe('upstream credentials', () => {
      it('round-trips and replaces (upsert)', async () => {
        const g = makeGrant();
        await store.grants.create(g);
        const c = makeCredential(g, { accessExpiresAt: null });
        await store.upstreamCredentials.put(c);
        expect(await store.upstreamCredentials.find(g.id)).toEqual(c);
        const next = makeCredential(g, { accessToken: 'sealed-2', refreshToken: null, updatedAt: T0 + 5, scopes: [], version: 2 });
        await store.upstreamCredentials.put(next);
        expect(await store.upstreamCredentials.find(g.id)).toEqual(next);
        expect(await store.upstreamCredentials.find('g_unknown')).toBeUndefined();
      });

      it('marks and clears a failing refresh', async () => {
        const g = makeGrant();
        await store.grants.create(g);
        await store.upstreamCredentials.put(makeCredential(g));
        await store.upstreamCredentials.markRefreshFailing(g.id, T0 + 7);
        expect((await store.upstreamCredentials.find(g.id))?.refreshFailingSince).toBe(T0 + 7);
        await store.upstreamCredentials.markRefreshFailing(g.id, null);
        expect((await store.upstreamCredentials.find(g.id))?.refreshFailingSince).toBeNull();
      });

      it('increments the version on every write of the row (1 when created)', async () => {
        const g = makeGrant();
        await store.grants.create(g);
        const version = async () => (await store.upstreamCredentials.find(g.id))?.version;
        await store.upstreamCredentials.put(makeCredential(g, { version: 99 })); // the store's version, not the caller's
        expect(await version()).toBe(1);
        await store.upstreamCredentials.put(makeCredential(g, { updatedAt: T0 + 1 }));
        expect(await version()).toBe(2);
        await store.upstreamCredentials.markRefreshFailing(g.id, T0 + 2);
        expect(await version()).toBe(3);
        const sealed = (await store.upstreamCredentials.find(g.id))!.refreshToken!;
        expect(await store.upstreamCredentials.markRefreshInKeychain(g.id, sealed)).toBe(true);
        expect(await version()).toBe(4);
        expect(await store.upstreamCredentials.markRefreshInStore(g.id, sealed)).toBe(true);
        expect(await version()).toBe(5);
        expect(await store.upstreamCredentials.markRefreshInKeychain(g.id, 'not-the-stored-one')).toBe(false);
        expect(await version()).toBe(5); // nothing written, nothing counted
      });

      it('putIfVersion writes only over the expected version (compare-and-swap), and increments it', async () => {
        const g = makeGrant();
        await store.grants.create(g);
        await store.upstreamCredentials.put(makeCredential(g));
        const winner = makeCredential(g, { accessToken: 'sealed-winner', refreshToken: 'sealed-rt-winner', updatedAt: T0 + 10, accessExpiresAt: T0 + 70 });
        // The row as written comes back from the write itself (no read after it).
        expect(await store.upstreamCredentials.putIfVersion(winner, 1)).toEqual({ ...winner, version: 2 });
        expect(await store.upstreamCredentials.find(g.id)).toEqual({ ...winner, version: 2 });
        // A loser that read version 1 before the winner wrote: refused, nothing changes.
        const loser = makeCredential(g, { accessToken: 'sealed-loser', refreshToken: 'sealed-rt-loser', updatedAt: T0 + 11 });
        expect(await store.upstreamCredentials.putIfVersion(loser, 1)).toBeUndefined();
        expect(await store.upstreamCredentials.find(g.id)).toEqual({ ...winner, version: 2 });
        expect(await store.upstreamCredentials.putIfVersion({ ...loser, refreshFailingSince: T0 }, 2)).toEqual({ ...loser, refreshFailingSince: T0, version: 3 });
        expect(await store.upstreamCredentials.find(g.id)).toEqual({ ...loser, refreshFailingSince: T0, version: 3 });
      });

      it('putIfVersion never creates a row, and writes nothing for a revoked grant', async () => {
        const g = makeGrant();
        await store.grants.create(g);
        expect(await store.upstreamCredentials.putIfVersion(makeCredential(g), 1)).toBeUndefined();
        expect(await store.upstreamCredentials.find(g.id)).toBeUndefined();
        await store.upstreamCredentials.put(makeCredential(g));
        await store.grants.revoke(g.id, 'client_revoked', T0 + 1);
        expect(await store.upstreamCredentials.putIfVersion(makeCredential(g, { updatedAt: T0 + 2 }), 1)).toBeUndefined();
        expect(await store.upstreamCredentials.find(g.id)).toBeUndefined();
      });

      it('putIfVersion lets exactly one of several racing writers over the same version win', async () => {
        const g = makeGrant();
        await store.grants.create(g);
        await store.upstreamCredentials.put(makeCredential(g));
        const results = await Promise.all(Array.from({ length: 8 }, (_, i) =>
          store.upstreamCredentials.putIfVersion(makeCredential(g, { accessToken: `sealed-${i}`, updatedAt: T0 + i }), 1)));
        const winners = results.filter((r) => r !== undefined);
        expect(winners).toHaveLength(1);
        const stored = (await store.upstreamCredentials.find(g.id))!;
        expect(stored.version).toBe(2);
        expect(stored.accessToken).toBe(`sealed-${results.findIndex((r) => r !== undefined)}`);
        expect(winners[0]).toEqual(stored);
      });

      it('does not store a credential for a revoked grant (a late refresh cannot bring it back)', async () => {
        const g = makeGrant();
        await store.grants.create(g);
        await store.upstreamCredentials.put(makeCredential(g));
        await store.grants.revoke(g.id, 'client_revoked', T0 + 1);
        await store.upstreamCredentials.put(makeCredential(g, { updatedAt: T0 + 2 }));
        expect(await store.upstreamCredentials.find(g.id)).toBeUndefined();
      });
    });

    describe('refresh locks', () => {
      const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

      it('runs one holder per grant at a time, in order; other grants do not wait', async () => {
        const order: string[] = [];
        let releaseA!: () => void;
        let aEntered!: () => void;
        const aIn = new Promise<void>((r) => (aEntered = r));
        const first = store.refreshLocks.withLock('g_lock_a', async () => {
          order.push('a1 in');
          aEntered();
          await new Promise<void>((r) => (releaseA = r));
          order.push('a1 out');
          return 'a1';
        });
        await aIn;
        const second = store.refreshLocks.withLock('g_lock_a', async () => void order.push('a2 in'));
        // another grant runs while a1 holds its lock
        expect(await store.refreshLocks.withLock('g_lock_b', async () => 'b1', { waitMs: 5_000 })).toBe('b1');
        await sleep(50);
        expect(order).toEqual(['a1 in']);
        releaseA();
        expect(await first).toBe('a1');
        await second;
        expect(order).toEqual(['a1 in', 'a1 out', 'a2 in']);
      });

      it('releases the lock when the holder rejects, and gives up waiting after waitMs', async () => {
        await expect(store.refreshLocks.withLock('g_lock_c', async () => { throw new Error('boom'); })).rejects.toThrow('boom');
        expect(await store.refreshLocks.withLock('g_lock_c', async () => 'free again', { waitMs: 500 })).toBe('free again');
        let release!: () => void;
        let holding!: () => void;
        const isHeld = new Promise<void>((r) => (holding = r));
        const held = store.refreshLocks.withLock('g_lock_c', () => new Promise<void>((r) => { release = r; holding(); }));
        await isHeld;
        let ran = false;
        const waiter = store.refreshLocks.withLock('g_lock_c', async () => void (ran = true), { waitMs: 100 });
        await expect(waiter).rejects.toMatchObject({ name: 'RefreshLockTimeoutError', grantId: 'g_lock_c' });
        expect(ran).toBe(false);
        release();
        await held;
        expect(await store.refreshLocks.withLock('g_lock_c', async () => 'after', { waitMs: 500 })).toBe('after');
      });
    });

    describe('codes', () => {
      it('consumes a code once; a replay returns the earlier usedAt', async () => {
        const g = makeGrant();
        await store.grants.create(g);
        const code = makeCode(g);
        await store.tokens.createCode(code);
        expect(await store.tokens.consumeCode(code.hash, T0 + 5)).toEqual(code);
        const replay = await store.tokens.consumeCode(code.hash, T0 + 9);
        expect(replay).toEqual({ ...code, usedAt: T0 + 5 });
        expect((await store.tokens.consumeCode(code.hash, T0 + 12))?.usedAt).toBe(T0 + 5);
        expect(await store.tokens.consumeCode(sha256Hex('unknown'), T0)).toBeUndefined();
      });

      it('reads a code without marking it used', async () => {
        const g = makeGrant();
        await store.grants.create(g);
        const code = makeCode(g);
        await store.tokens.createCode(code);
        expect(await store.tokens.findCode(code.hash)).toEqual(code);
        expect((await store.tokens.findCode(code.hash))?.usedAt).toBeNull();
        expect((await store.tokens.consumeCode(code.hash, T0 + 5))?.usedAt).toBeNull();
        expect((await store.tokens.findCode(code.hash))?.usedAt).toBe(T0 + 5);
        expect(await store.tokens.findCode(sha256Hex('unknown'))).toBeUndefined();
      });

      it('rejects a duplicate code hash', async () => {
        const g = makeGrant();
        await store.grants.create(g);
        const code = makeCode(g);
        await store.tokens.createCode(code);
        await expect(store.tokens.createCode(code)).rejects.toThrow();
      });
    });

    describe('access and refresh tokens', () => {
      it('looks up an access token joined with its grant', async () => {
        const g = makeGrant({ server: 'demo', subject: 'user-42' });
        await store.grants.create(g);
        const at = makeAccess(g, randomId('f'));
        await store.tokens.createAccess(at);
        expect(await store.tokens.findAccess(at.hash)).toEqual({ ...at, grantStatus: 'active', server: 'demo', subject: 'user-42', personId: null });
        expect(await store.tokens.findAccess(sha256Hex('unknown'))).toBeUndefined();
      });

      it('revokes one access token and keeps the first revocation time', async () => {
        const g = makeGrant();
        await store.grants.create(g);
        const fam = randomId('f');
        const a = makeAccess(g, fam);
        const b = makeAccess(g, fam);
        await store.tokens.createAccess(a);
        await store.tokens.createAccess(b);
        await store.tokens.revokeAccess(a.hash, T0 + 3);
        await store.tokens.revokeAccess(a.hash, T0 + 4);
        expect((await store.tokens.findAccess(a.hash))?.revokedAt).toBe(T0 + 3);
        expect((await store.tokens.findAccess(b.hash))?.revokedAt).toBeNull();
        await expect(store.tokens.revokeAccess(sha256Hex('unknown'), T0)).resolves.toBeUndefined();
      });

      it('round-trips a refresh token', async () => {
        const g = makeGrant();
        await store.grants.create(g);
        const rt = makeRefresh(g, randomId('f'));
        await store.tokens.createRefresh(rt);
        expect(await store.tokens.findRefresh(rt.hash)).toEqual(rt);
        expect(await store.tokens.findRefresh(sha256Hex('unknown'))).toBeUndefined();
      });

      it('marks a refresh token used exactly once (compare-and-set)', async () => {
        const g = makeGrant();
        await store.grants.create(g);
        const rt = makeRefresh(g, randomId('f'));
        await store.tokens.createRefresh(rt);
        expect(await store.tokens.markRefreshUsed(rt.hash, T0 + 1)).toBe(true);
        expect(await store.tokens.markRefreshUsed(rt.hash, T0 + 2)).toBe(false);
        expect((await store.tokens.findRefresh(rt.hash))?.usedAt).toBe(T0 + 1);
        expect(await store.tokens.markRefreshUsed(sha256Hex('unknown'), T0)).toBe(false);
      });

      it('revokes a whole family and leaves other families alone', async () => {
        const g = makeGrant();
        await store.grants.create(g);
        const target = await seedFamily(g);
        const rotated = makeRefresh(g, target.familyId, { usedAt: T0 + 1 });
        await store.tokens.createRefresh(rotated);
        const other = await seedFamily(g);

        await store.tokens.revokeFamily(target.familyId, T0 + 30);

        expect((await store.tokens.findAccess(target.access.hash))?.revokedAt).toBe(T0 + 30);
        expect((await store.tokens.findRefresh(target.refresh.hash))?.revokedAt).toBe(T0 + 30);
        expect(await store.tokens.findRefresh(rotated.hash)).toMatchObject({ revokedAt: T0 + 30, usedAt: T0 + 1 });
        expect((await store.tokens.consumeCode(target.code.hash, T0 + 40))?.usedAt).toBe(T0 + 30);

        expect((await store.tokens.findAccess(other.access.hash))?.revokedAt).toBeNull();
        expect((await store.tokens.findRefresh(other.refresh.hash))?.revokedAt).toBeNull();
        expect((await store.tokens.consumeCode(other.code.hash, T0 + 40))?.usedAt).toBeNull();
        expect((await store.grants.find(g.id))?.status).toBe('active');
      });
    });

    describe('events', () => {
      it('appends with increasing ids and round-trips detail JSON', async () => {
        const detail = { fingerprint: 'fp_0123456789ab', reason: 'ok', nested: { list: [1, 'two', null], flag: true } };
        const e = makeEvent({ grantId: 'g_1', clientId: 'c_1', server: 'demo', subject: 'user-1', outcome: 'failure', detail });
        const id1 = await store.events.append(e);
        const id2 = await store.events.append(makeEvent());
        expect(id2).toBeGreaterThan(id1);
        const [latest, first] = await store.events.list({});
        expect(first).toEqual({ ...e, id: id1 });
        expect(latest).toEqual({ ...makeEvent(), id: id2 });
      });

      describe('listEvents / countEvents', () => {
        let ids: number[];
        beforeEach(async () => {
          ids = [
            await store.events.append(makeEvent({ at: T0 + 1, type: 'grant.created', grantId: 'g_1', clientId: 'c_1', server: 's1' })),
            await store.events.append(makeEvent({ at: T0 + 2, type: 'token.issued', grantId: 'g_1', clientId: 'c_1', server: 's1' })),
            await store.events.append(makeEvent({ at: T0 + 3, type: 'token.issued', grantId: 'g_2', clientId: 'c_2', server: 's2' })),
            await store.events.append(makeEvent({ at: T0 + 3, type: 'grant.revoked', grantId: 'g_1', clientId: 'c_1', server: 's1' })),
            await store.events.append(makeEvent({ at: T0 + 5, type: 'client.registered', clientId: 'c_3' })),
          ];
        });
        const listIds = async (f: Parameters<Store['events']['list']>[0]) => (await store.events.list(f)).map((e) => e.id);

        it('lists newest first (same time: higher id first)', async () => {
          const [a, b, c, d, e] = ids as [number, number, number, number, number];
          expect(await listIds({})).toEqual([e, d, c, b, a]);
          expect(await store.events.count({})).toBe(5);
        });

        it('honours every filter field; since and until are inclusive', async () => {
          const [a, b, c, d, e] = ids as [number, number, number, number, number];
          expect(await listIds({ type: 'token.issued' })).toEqual([c, b]);
          expect(await listIds({ grantId: 'g_1' })).toEqual([d, b, a]);
          expect(await listIds({ clientId: 'c_3' })).toEqual([e]);
          expect(await listIds({ server: 's2' })).toEqual([c]);
          expect(await listIds({ since: T0 + 3 })).toEqual([e, d, c]);
          expect(await listIds({ until: T0 + 2 })).toEqual([b, a]);
          expect(await listIds({ since: T0 + 2, until: T0 + 3 })).toEqual([d, c, b]);
          expect(await listIds({ type: 'token.issued', grantId: 'g_1', clientId: 'c_1', server: 's1', since: T0, until: T0 + 9 })).toEqual([b]);
          expect(await store.events.count({ grantId: 'g_1' })).toBe(3);
          expect(await store.events.count({ since: T0 + 3, server: 's1' })).toBe(1);
          expect(await store.events.count({ type: 'nothing' })).toBe(0);
        });

        it('paginates with limit and offset; count ignores them', async () => {
          const all = await listIds({});
          expect(await listIds({ limit: 2 })).toEqual(all.slice(0, 2));
          expect(await listIds({ limit: 2, offset: 2 })).toEqual(all.slice(2, 4));
          expect(await listIds({ offset: 4 })).toEqual(all.slice(4));
          expect(await store.events.count({ limit: 1, offset: 1 })).toBe(5);
        });

        it('defaults the limit to 50 and caps it at 500', async () => {
          for (let i = 0; i < 600; i++) await store.events.append(makeEvent({ at: T0 - i }));
          expect(await store.events.list({})).toHaveLength(50);
          expect(await store.events.list({ limit: 9999 })).toHaveLength(500);
        });
      });
    });

    describe('admin views', () => {
      it('clientGrantStats counts all and active grants and takes the latest use, per client id', async () => {
        await store.grants.create(makeGrant({ clientId: 'c_a', createdAt: T0, lastUsedAt: T0 + 10 }));
        await store.grants.create(makeGrant({ clientId: 'c_a', subject: 'user-2', lastUsedAt: T0 + 30 }));
        const revoked = makeGrant({ clientId: 'c_a', subject: 'user-3', lastUsedAt: null });
        await store.grants.create(revoked);
        await store.grants.revoke(revoked.id, 'admin_revoked', T0 + 40);
        await store.grants.create(makeGrant({ clientId: 'c_b', lastUsedAt: null }));
        await store.clients.create(makeClient({ clientId: 'c_without_grants' }));
        expect(await store.grants.statsByClient()).toEqual([
          { clientId: 'c_a', grantCount: 3, activeGrantCount: 2, lastUsedAt: T0 + 30 },
          { clientId: 'c_b', grantCount: 1, activeGrantCount: 1, lastUsedAt: null },
        ]);
      });

      it('clientGrantStats is empty without grants', async () => {
        expect(await store.grants.statsByClient()).toEqual([]);
      });

      it('scanEvents walks oldest first after a cursor, with the filter, ignoring limit/offset of the filter', async () => {
        const ids = [
          await store.events.append(makeEvent({ at: T0 + 5, type: 'grant.created', server: 's1' })),
          await store.events.append(makeEvent({ at: T0 + 1, type: 'token.issued', server: 's1' })),
          await store.events.append(makeEvent({ at: T0 + 2, type: 'token.issued', server: 's2' })),
          await store.events.append(makeEvent({ at: T0 + 3, type: 'token.issued', server: 's1' })),
        ];
        const [a, b, c, d] = ids as [number, number, number, number];
        const scan = async (f: Parameters<Store['events']['scan']>[0], after: number, limit: number) => (await store.events.scan(f, after, limit)).map((e) => e.id);
        expect(await scan({}, 0, 10)).toEqual([a, b, c, d]);
        expect(await scan({}, a, 2)).toEqual([b, c]);
        expect(await scan({}, c, 2)).toEqual([d]);
        expect(await scan({}, d, 2)).toEqual([]);
        expect(await scan({ type: 'token.issued', server: 's1' }, 0, 10)).toEqual([b, d]);
        expect(await scan({ since: T0 + 2, until: T0 + 3 }, 0, 10)).toEqual([c, d]);
        expect(await scan({ limit: 1, offset: 3 }, 0, 10)).toEqual([a, b, c, d]);
        expect((await store.events.scan({}, 0, 1))[0]).toEqual({ ...makeEvent({ at: T0 + 5, type: 'grant.created', server: 's1' }), id: a });
      });

      it('scanEvents clamps the limit to 1…500', async () => {
        for (let i = 0; i < 600; i++) await store.events.append(makeEvent());
        expect(await store.events.scan({}, 0, 9999)).toHaveLength(500);
        expect(await store.events.scan({}, 0, 0)).toHaveLength(1);
      });
    });

    describe('vault ciphertexts by key id (rotation)', () => {
      /** A string shaped like a vault ciphertext (compact JWE) whose header names `kid`; enough for the store. */
      const sealedUnder = (kid: string, tag = randomId('x')) =>
        `${Buffer.from(JSON.stringify({ alg: 'dir', enc: 'A256GCM', kid, ctx: 'c', crit: ['ctx'] })).toString('base64url')}..iv.${tag}.tag`;

      async function seedSealed() {
        const g1 = makeGrant();
        const g2 = makeGrant({ subject: 'user-2' });
        await store.grants.create(g1);
        await store.grants.create(g2);
        await store.upstreamCredentials.put(makeCredential(g1, { accessToken: sealedUnder('k_A'), refreshToken: sealedUnder('k_A') }));
        await store.upstreamCredentials.put(makeCredential(g2, { accessToken: sealedUnder('k_B'), refreshToken: null }));
        const p1 = makePending({ upstreamVerifier: sealedUnder('k_A') });
        await store.pending.create(p1);
        const p2 = makePending();
        await store.pending.create(p2);
        await store.pending.attachUpstream(p2.id, sha256Hex(randomId('s')), sealedUnder('k_B'), ['openid']);
        await store.pending.create(makePending()); // no verifier yet: not an entry
        return { g1, g2, p1, p2 };
      }

      it('counts entries per field and kid, from every write path', async () => {
        await seedSealed();
        expect(await store.vaultEntries.countByKid()).toEqual([
          { field: 'pending_verifier', kid: 'k_A', count: 1 },
          { field: 'pending_verifier', kid: 'k_B', count: 1 },
          { field: 'upstream_access', kid: 'k_A', count: 1 },
          { field: 'upstream_access', kid: 'k_B', count: 1 },
          { field: 'upstream_refresh', kid: 'k_A', count: 1 },
        ]);
      });

      it('counts a value that is not a vault ciphertext under kid null', async () => {
        const g = makeGrant();
        await store.grants.create(g);
        await store.upstreamCredentials.put(makeCredential(g, { accessToken: 'not-a-jwe', refreshToken: null }));
        expect(await store.vaultEntries.countByKid()).toEqual([{ field: 'upstream_access', kid: null, count: 1 }]);
        expect(await store.vaultEntries.list({ notKid: 'k_A', limit: 10 })).toEqual([{ field: 'upstream_access', id: g.id, kid: null, sealed: 'not-a-jwe' }]);
      });

      it('lists entries by kid, not by kid, in (field, id) order, from a cursor, at most limit', async () => {
        const { g1, g2, p1, p2 } = await seedSealed();
        const key = (e: { field: string; id: string }) => `${e.field}:${e.id}`;
        const all = await store.vaultEntries.list({ limit: 100 });
        expect(all.map(key)).toEqual(
          [`pending_verifier:${p1.id}`, `pending_verifier:${p2.id}`, `upstream_access:${g1.id}`, `upstream_access:${g2.id}`, `upstream_refresh:${g1.id}`]
            .sort((a, b) => {
              const [fa, ia] = a.split(':') as [string, string];
              const [fb, ib] = b.split(':') as [string, string];
              return fa === fb ? (ia < ib ? -1 : 1) : fa < fb ? -1 : 1;
            }),
        );
        expect(all.find((e) => e.field === 'upstream_refresh')).toEqual({
          field: 'upstream_refresh', id: g1.id, kid: 'k_A', sealed: (await store.upstreamCredentials.find(g1.id))!.refreshToken,
        });
        expect((await store.vaultEntries.list({ kid: 'k_B', limit: 100 })).map(key).sort()).toEqual([`pending_verifier:${p2.id}`, `upstream_access:${g2.id}`].sort());
        expect((await store.vaultEntries.list({ notKid: 'k_B', limit: 100 })).map((e) => e.kid)).toEqual(['k_A', 'k_A', 'k_A']);
        // Paging with the cursor walks every entry exactly once.
        const seen: string[] = [];
        let after: { field: SealedField; id: string } | undefined;
        for (;;) {
          const page = await store.vaultEntries.list({ limit: 2, ...(after ? { after } : {}) });
          if (page.length === 0) break;
          expect(page.length).toBeLessThanOrEqual(2);
          seen.push(...page.map(key));
          const last = page[page.length - 1]!;
          after = { field: last.field, id: last.id };
        }
        expect(seen).toEqual(all.map(key));
      });

      it('replaces a sealed value only if it is unchanged (compare-and-set); the kid follows', async () => {
        const { g1, p1 } = await seedSealed();
        const oldRefresh = (await store.upstreamCredentials.find(g1.id))!.refreshToken!;
        const next = sealedUnder('k_C');
        expect(await store.vaultEntries.replace('upstream_refresh', g1.id, 'stale-value', next)).toBe(false);
        expect(await store.vaultEntries.replace('upstream_refresh', g1.id, oldRefresh, next)).toBe(true);
        expect((await store.upstreamCredentials.find(g1.id))!.refreshToken).toBe(next);
        expect(await store.vaultEntries.replace('upstream_refresh', g1.id, oldRefresh, sealedUnder('k_D'))).toBe(false);
        const oldAccess = (await store.upstreamCredentials.find(g1.id))!.accessToken;
        expect(await store.vaultEntries.replace('upstream_access', g1.id, oldAccess, sealedUnder('k_C'))).toBe(true);
        expect(await store.vaultEntries.replace('pending_verifier', p1.id, p1.upstreamVerifier!, sealedUnder('k_C'))).toBe(true);
        expect((await store.pending.find(p1.id))!.upstreamVerifier).toMatch(/\.tag$/);
        expect(await store.vaultEntries.replace('upstream_access', 'g_unknown', oldAccess, next)).toBe(false);
        expect((await store.vaultEntries.countByKid()).filter((c) => c.kid === 'k_C').map((c) => [c.field, c.count])).toEqual([
          ['pending_verifier', 1], ['upstream_access', 1], ['upstream_refresh', 1],
        ]);
        // Other columns are untouched.
        expect(await store.upstreamCredentials.find(g1.id)).toMatchObject({ scopes: ['openid', 'offline_access', 'mcp:tools'], accessExpiresAt: T0 + 3600 });
      });

      it('runs replacements of one batch in one transaction', async () => {
        const { g1 } = await seedSealed();
        const before = (await store.upstreamCredentials.find(g1.id))!;
        await expect(
          store.transaction(async (tx) => {
            await tx.vaultEntries.replace('upstream_access', g1.id, before.accessToken, sealedUnder('k_C'));
            throw new Error('interrupted');
          }),
        ).rejects.toThrow('interrupted');
        expect((await store.upstreamCredentials.find(g1.id))!.accessToken).toBe(before.accessToken);
      });

      it('covers every other sealed column: registrations, signing keys, sealed secrets', async () => {
        const reg = (server: string, secret: string | null, token: string | null) => ({
          server, issuer: 'https://as.example.com', kind: 'dcr' as const, clientId: `client-${server}`, clientSecret: secret,
          clientSecretExpiresAt: null, tokenEndpointAuthMethod: 'client_secret_basic' as const, registrationAccessToken: token,
          registrationClientUri: null, metadata: {}, createdAt: T0,
        });
        await store.upstreamRegistrations.put(reg('s1', sealedUnder('k_A'), sealedUnder('k_B')));
        await store.upstreamRegistrations.put(reg('s2', null, null));
        await store.signingKeys.create({ kid: 'sig-1', alg: 'ES256', publicJwk: { kty: 'EC' }, privateKey: sealedUnder('k_A'), createdAt: T0, activatedAt: T0, retiredAt: null });
        await store.sealedSecrets.put('static-credential:s1', sealedUnder('k_A'), T0);
        expect(await store.vaultEntries.countByKid()).toEqual([
          { field: 'registration_client_secret', kid: 'k_A', count: 1 },
          { field: 'registration_token', kid: 'k_B', count: 1 },
          { field: 'sealed_secret', kid: 'k_A', count: 1 },
          { field: 'signing_key', kid: 'k_A', count: 1 },
        ]);
        const underA = await store.vaultEntries.list({ kid: 'k_A', limit: 10 });
        expect(underA.map((e) => [e.field, e.id])).toEqual([
          ['registration_client_secret', JSON.stringify(['s1', 'https://as.example.com'])],
          ['sealed_secret', 'static-credential:s1'],
          ['signing_key', 'sig-1'],
        ]);
        for (const e of underA) expect(await store.vaultEntries.replace(e.field, e.id, e.sealed, sealedUnder('k_C'))).toBe(true);
        const token = (await store.vaultEntries.list({ kid: 'k_B', limit: 10 }))[0]!;
        expect(await store.vaultEntries.replace(token.field, token.id, 'stale', sealedUnder('k_C'))).toBe(false);
        expect(await store.vaultEntries.replace(token.field, token.id, token.sealed, sealedUnder('k_C'))).toBe(true);
        expect((await store.vaultEntries.countByKid()).map((c) => c.kid)).toEqual(['k_C', 'k_C', 'k_C', 'k_C']);
        expect((await store.upstreamRegistrations.find('s1', 'https://as.example.com'))?.clientId).toBe('client-s1');
        expect((await store.signingKeys.list())[0]?.activatedAt).toBe(T0);
      });

      it('forgets the entries of a revoked grant and of a taken pending authorization', async () => {
        const { g1, p2 } = await seedSealed();
        await store.grants.revoke(g1.id, 'admin_revoked', T0 + 1);
        const taken = await store.pending.takeByUpstreamState((await store.pending.find(p2.id))!.upstreamStateHash!, T0 + 1);
        expect(taken?.id).toBe(p2.id);
        expect((await store.vaultEntries.list({ limit: 100 })).map((e) => e.id)).not.toContain(g1.id);
        expect((await store.vaultEntries.list({ limit: 100 })).map((e) => e.id)).not.toContain(p2.id);
      });
    });

    describe('upstream refresh token location (vault migration)', () => {
      it('round-trips a credential whose refresh token is in the keychain, and refuses one that is both', async () => {
        const g = makeGrant();
        await store.grants.create(g);
        const c = makeCredential(g, { refreshToken: null, refreshInKeychain: true });
        await store.upstreamCredentials.put(c);
        expect(await store.upstreamCredentials.find(g.id)).toEqual(c);
        await expect(store.upstreamCredentials.put(makeCredential(g, { refreshInKeychain: true }))).rejects.toThrow(TypeError);
        expect(await store.upstreamCredentials.find(g.id)).toEqual(c);
      });

      it('defaults refreshInKeychain to false when the writer does not say', async () => {
        const g = makeGrant();
        await store.grants.create(g);
        const { refreshInKeychain: _omitted, ...write } = makeCredential(g);
        await store.upstreamCredentials.put(write);
        expect((await store.upstreamCredentials.find(g.id))?.refreshInKeychain).toBe(false);
      });

      it('counts and lists where the refresh tokens are, in id order from a cursor', async () => {
        const ids = Array.from({ length: 5 }, () => makeGrant({ subject: randomId('u') }));
        for (const g of ids) await store.grants.create(g);
        const [a, b, c, d, e] = ids as [GrantRecord, GrantRecord, GrantRecord, GrantRecord, GrantRecord];
        await store.upstreamCredentials.put(makeCredential(a));
        await store.upstreamCredentials.put(makeCredential(b));
        await store.upstreamCredentials.put(makeCredential(c, { refreshToken: null, refreshInKeychain: true }));
        await store.upstreamCredentials.put(makeCredential(d, { refreshToken: null, refreshInKeychain: true }));
        await store.upstreamCredentials.put(makeCredential(e, { refreshToken: null }));
        expect(await store.upstreamCredentials.countRefreshLocations()).toEqual({ sqlite: 2, keychain: 2, none: 1 });
        const inSqlite = [a.id, b.id].sort();
        const inKeychain = [c.id, d.id].sort();
        expect(await store.upstreamCredentials.listRefreshIdsIn('sqlite', null, 10)).toEqual(inSqlite);
        expect(await store.upstreamCredentials.listRefreshIdsIn('keychain', null, 10)).toEqual(inKeychain);
        expect(await store.upstreamCredentials.listRefreshIdsIn('keychain', null, 1)).toEqual([inKeychain[0]]);
        expect(await store.upstreamCredentials.listRefreshIdsIn('keychain', inKeychain[0]!, 10)).toEqual([inKeychain[1]]);
        expect(await store.upstreamCredentials.listRefreshIdsIn('keychain', inKeychain[1]!, 10)).toEqual([]);
      });

      it('moves a refresh token to the keychain only if the sealed copy is unchanged, and back only if it says keychain', async () => {
        const g = makeGrant();
        await store.grants.create(g);
        const c = makeCredential(g);
        await store.upstreamCredentials.put(c);
        expect(await store.upstreamCredentials.markRefreshInKeychain(g.id, 'another-value')).toBe(false);
        expect(await store.upstreamCredentials.markRefreshInKeychain(g.id, c.refreshToken!)).toBe(true);
        expect(await store.upstreamCredentials.find(g.id)).toEqual({ ...c, refreshToken: null, refreshInKeychain: true, version: 2 });
        expect((await store.vaultEntries.countByKid()).some((x) => x.field === 'upstream_refresh')).toBe(false);
        expect(await store.upstreamCredentials.markRefreshInKeychain(g.id, c.refreshToken!)).toBe(false);

        const sealed = `${Buffer.from(JSON.stringify({ kid: 'k_Z' })).toString('base64url')}..a.b.c`;
        expect(await store.upstreamCredentials.markRefreshInStore(g.id, sealed)).toBe(true);
        expect(await store.upstreamCredentials.find(g.id)).toEqual({ ...c, refreshToken: sealed, refreshInKeychain: false, version: 3 });
        expect(await store.vaultEntries.countByKid()).toContainEqual({ field: 'upstream_refresh', kid: 'k_Z', count: 1 });
        expect(await store.upstreamCredentials.markRefreshInStore(g.id, 'again')).toBe(false);
        expect(await store.upstreamCredentials.markRefreshInStore('g_unknown', sealed)).toBe(false);
      });
    });

    upstreamKindsContract(() => store);

    clientUseContract(() => store);

    auditLogContract(() => store);
    adminSessionsContract(() => store);
    mcpSessionsContract(() => store);

    peopleContract(() => store);
    searchContract(() => store);

    describe('approved tools (pinTools)', () => {
      const d = (c: string) => c.repeat(64);
      it('has no list before an approval; an approval replaces the whole list of its server only', async () => {
        expect(await store.approvedTools.get('demo')).toBeUndefined();
        await store.approvedTools.approve('demo', { add: d('a'), sub: d('b') }, 'admin:api', 1_700_000_000);
        await store.approvedTools.approve('other', { x: d('c') }, 'admin:api', 1_700_000_001);
        expect(await store.approvedTools.get('demo')).toEqual({ server: 'demo', tools: { add: d('a'), sub: d('b') }, approvedBy: 'admin:api', approvedAt: 1_700_000_000 });
        await store.approvedTools.approve('demo', { add: d('0') }, 'admin:api', 1_700_000_002);
        expect(await store.approvedTools.get('demo')).toEqual({ server: 'demo', tools: { add: d('0') }, approvedBy: 'admin:api', approvedAt: 1_700_000_002 });
        expect((await store.approvedTools.get('other'))?.tools).toEqual({ x: d('c') });
      });

      it('refuses a digest that is not 64 lowercase hex, and keeps the stored list', async () => {
        await store.approvedTools.approve('demo', { add: d('a') }, 'admin:api', 1);
        await expect(store.approvedTools.approve('demo', { add: 'A'.repeat(64) }, 'admin:api', 2)).rejects.toThrow(TypeError);
        expect((await store.approvedTools.get('demo'))?.tools).toEqual({ add: d('a') });
      });
    });

    describe('transaction', () => {
      it('commits and returns the value', async () => {
        const g = makeGrant();
        const out = await store.transaction(async (tx) => {
          await tx.grants.create(g);
          return 42;
        });
        expect(out).toBe(42);
        expect(await store.grants.find(g.id)).toBeDefined();
      });

      it('rolls back everything when fn throws', async () => {
        const g = makeGrant();
        await expect(
          store.transaction(async (tx) => {
            await tx.grants.create(g);
            await tx.events.append(makeEvent({ grantId: g.id }));
            throw new Error('boom');
          }),
        ).rejects.toThrow('boom');
        expect(await store.grants.find(g.id)).toBeUndefined();
        expect(await store.events.count({})).toBe(0);
      });

      it('nests (store methods that use transactions, and tx.transaction, inside one)', async () => {
        const g = makeGrant();
        await store.transaction(async (tx) => {
          await tx.grants.create(g);
          await seedFamily(g, tx);
          expect(await tx.grants.revoke(g.id, 'admin_revoked', T0 + 1)).toBe(true);
          await tx.transaction(async (inner) => {
            expect((await inner.grants.find(g.id))?.status).toBe('revoked');
          });
        });
        expect((await store.grants.find(g.id))?.status).toBe('revoked');
      });

      it('rolls back a nested transaction with the outer one', async () => {
        const g = makeGrant();
        await expect(
          store.transaction(async (tx) => {
            await tx.transaction(async (inner) => inner.grants.create(g));
            throw new Error('outer fails');
          }),
        ).rejects.toThrow('outer fails');
        expect(await store.grants.find(g.id)).toBeUndefined();
      });

      it('lets a concurrent write outside the transaction wait, and does not roll it back with a failing one', async () => {
        const inside = makeGrant();
        const outside = makeGrant();
        let outsideWrite: Promise<void> | undefined;
        const failing = store.transaction(async (tx) => {
          await tx.grants.create(inside);
          outsideWrite = store.grants.create(outside); // issued while the transaction is open
          await new Promise((resolve) => setTimeout(resolve, 5));
          throw new Error('tx fails');
        });
        await expect(failing).rejects.toThrow('tx fails');
        await outsideWrite;
        expect(await store.grants.find(inside.id)).toBeUndefined();
        expect(await store.grants.find(outside.id)).toBeDefined();
      });

      it('does not let a concurrent read outside the transaction see its uncommitted rows', async () => {
        const g = makeGrant();
        let seenOutside: Promise<GrantRecord | undefined> | undefined;
        await store.transaction(async (tx) => {
          await tx.grants.create(g);
          seenOutside = store.grants.find(g.id);
          await new Promise((resolve) => setTimeout(resolve, 5));
          expect(await tx.grants.find(g.id)).toBeDefined();
        });
        // The read waited for the commit (SQLite), or ran on another connection before it (PostgreSQL): never a
        // view of the open transaction that could later be rolled back.
        const seen = await seenOutside;
        expect(seen === undefined || seen.id === g.id).toBe(true);
        const rolledBack = makeGrant();
        let seenDuringFailing: Promise<GrantRecord | undefined> | undefined;
        await expect(
          store.transaction(async (tx) => {
            await tx.grants.create(rolledBack);
            seenDuringFailing = store.grants.find(rolledBack.id);
            await new Promise((resolve) => setTimeout(resolve, 5));
            throw new Error('rolled back');
          }),
        ).rejects.toThrow('rolled back');
        expect(await seenDuringFailing).toBeUndefined();
      });
    });
  });
}
