/**
 * Store contract, people part (issue 13): people (sign-in upsert and SCIM linking, lookups, status, search), person
 * sessions, the person of a grant, of a pending authorization and of an event.
 * Called from runStoreContract (store-contract.ts) for every store.
 */
import { describe, expect, it } from 'vitest';
import { randomId, sha256Hex } from '../../../src/store/crypto/hash.js';
import type { SignInClaims, Store } from '../../../src/store/types.js';
import { grantRecord as grant, personRecord as person, T0 } from './record-builders.js';

const ISS = 'https://login.acme.example';

function claims(over: Partial<SignInClaims> = {}): SignInClaims {
  return { iss: ISS, sub: randomId('sub'), email: 'alice@acme.example', name: 'Alice', groups: ['engineering'], ...over };
}

export function peopleContract(get: () => Store): void {
  describe('people', () => {
    it('upsertAtSignIn creates a person, then updates the same (iss, sub) in place', async () => {
      const store = get();
      const c = claims();
      const created = await store.people.upsertAtSignIn(c, 'u_first', T0);
      expect(created).toEqual(person({ id: 'u_first', iss: ISS, sub: c.sub, email: c.email, name: 'Alice', groups: ['engineering'], createdAt: T0, lastSeenAt: T0 }));
      const again = await store.people.upsertAtSignIn({ ...c, email: 'alice@new.example', name: 'Alice D.', groups: ['engineering', 'ops'] }, 'u_second', T0 + 10);
      expect(again).toMatchObject({ id: 'u_first', email: 'alice@new.example', name: 'Alice D.', groups: ['engineering', 'ops'], lastSeenAt: T0 + 10, createdAt: T0 });
      // A claim the IdP did not send keeps what is known.
      expect(await store.people.upsertAtSignIn({ ...c, email: null, name: null, groups: [] }, 'u_third', T0 + 20)).toMatchObject({ id: 'u_first', email: 'alice@new.example', groups: [] });
      expect(await store.people.get('u_second')).toBeUndefined();
      // The same sub at another issuer is another person.
      expect((await store.people.upsertAtSignIn({ ...c, iss: 'https://other.example' }, 'u_other', T0)).id).toBe('u_other');
      expect(await store.people.count({})).toBe(2);
    });

    it('links a SCIM-provisioned person at first sign-in: externalId = sub first, else email or userName', async () => {
      const store = get();
      const byEmail = person({ email: 'Bob@Acme.example', userName: 'bob.scim', scimActive: true, createdAt: T0 });
      const byExternal = person({ email: 'someone-else@acme.example', externalId: 'okta-00u1', userName: 'b2', scimActive: true, createdAt: T0 + 1 });
      await store.people.create(byEmail);
      await store.people.create(byExternal);
      const linked = await store.people.upsertAtSignIn(claims({ sub: 'okta-00u1', email: 'bob@acme.example' }), 'u_new', T0 + 5);
      expect(linked).toMatchObject({ id: byExternal.id, iss: ISS, sub: 'okta-00u1', email: 'bob@acme.example', userName: 'b2', scimActive: true, lastSeenAt: T0 + 5 });
      const second = await store.people.upsertAtSignIn(claims({ sub: 'other-sub', email: 'BOB@acme.example' }), 'u_new2', T0 + 6);
      expect(second.id).toBe(byEmail.id);
      const third = await store.people.create(person({ userName: 'carol@acme.example' })).then(() => store.people.upsertAtSignIn(claims({ sub: 'c-sub', email: 'carol@acme.example' }), 'u_new3', T0));
      expect(third.userName).toBe('carol@acme.example');
      expect(third.id).not.toBe('u_new3');
      expect(await store.people.count({})).toBe(3);
    });

    it('an offboarded person stays offboarded at sign-in and lastSeenAt does not move', async () => {
      const store = get();
      const c = claims();
      const p = await store.people.upsertAtSignIn(c, randomId('u'), T0);
      expect(await store.people.setStatus(p.id, { status: 'offboarded', at: T0 + 1, by: 'admin:token', via: 'admin' })).toBe(true);
      const again = await store.people.upsertAtSignIn({ ...c, groups: ['x'] }, randomId('u'), T0 + 50);
      expect(again).toMatchObject({ id: p.id, status: 'offboarded', lastSeenAt: T0, groups: ['x'], offboardedAt: T0 + 1, offboardedBy: 'admin:token', offboardedVia: 'admin' });
    });

    it('round-trips a person as created; finds by iss/sub, email, SCIM userName and externalId (case-insensitive where said)', async () => {
      const store = get();
      const p = person({ iss: ISS, sub: 's1', email: 'Dana@Acme.example', name: 'Dana', groups: ['a', 'b'], externalId: 'ext-1', userName: 'Dana.S', scimActive: false, lastSeenAt: T0 + 3 });
      await store.people.create(p);
      expect(await store.people.get(p.id)).toEqual(p);
      expect((await store.people.findByIssSub(ISS, 's1'))?.id).toBe(p.id);
      expect(await store.people.findByIssSub('https://other.example', 's1')).toBeUndefined();
      expect((await store.people.findByEmail('dana@acme.EXAMPLE'))?.id).toBe(p.id);
      expect((await store.people.findByScimUserName('dana.s'))?.id).toBe(p.id);
      expect((await store.people.findByExternalId('ext-1'))?.id).toBe(p.id);
      expect(await store.people.findByExternalId('EXT-1')).toBeUndefined();
      expect(await store.people.findByEmail('nobody@acme.example')).toBeUndefined();
      await expect(store.people.create(person({ userName: 'DANA.s' }))).rejects.toThrow();
      await expect(store.people.create(person({ iss: ISS, sub: 's1' }))).rejects.toThrow();
    });

    it('updateScim writes only the fields given', async () => {
      const store = get();
      const p = person({ email: 'e@acme.example', userName: 'e', scimActive: true });
      await store.people.create(p);
      expect(await store.people.updateScim(p.id, { scimActive: false, externalId: 'x-9' })).toBe(true);
      expect(await store.people.get(p.id)).toEqual({ ...p, scimActive: false, externalId: 'x-9' });
      expect(await store.people.updateScim(p.id, { userName: null, name: 'E' })).toBe(true);
      expect(await store.people.get(p.id)).toMatchObject({ userName: null, name: 'E', email: 'e@acme.example', scimActive: false });
      expect(await store.people.updateScim('u_unknown', { scimActive: false })).toBe(false);
      expect(await store.people.updateScim('u_unknown', {})).toBe(false);
    });

    it('setStatus moves once each way; reinstating clears who and how; lockActive follows the status', async () => {
      const store = get();
      const p = person();
      await store.people.create(p);
      expect(await store.people.lockActive(p.id)).toBe(true);
      expect(await store.people.setStatus(p.id, { status: 'offboarded', at: T0 + 9, by: 'scim', via: 'scim' })).toBe(true);
      expect(await store.people.setStatus(p.id, { status: 'offboarded', at: T0 + 10, by: 'admin:token', via: 'admin' })).toBe(false);
      expect(await store.people.get(p.id)).toMatchObject({ status: 'offboarded', offboardedAt: T0 + 9, offboardedBy: 'scim', offboardedVia: 'scim' });
      expect(await store.people.lockActive(p.id)).toBe(false);
      expect(await store.transaction((tx) => tx.people.lockActive(p.id))).toBe(false);
      expect(await store.people.setStatus(p.id, { status: 'active', at: T0 + 11, by: 'admin:token' })).toBe(true);
      expect(await store.people.setStatus(p.id, { status: 'active', at: T0 + 12, by: 'admin:token' })).toBe(false);
      expect(await store.people.get(p.id)).toMatchObject({ status: 'active', offboardedAt: null, offboardedBy: null, offboardedVia: null });
      expect(await store.people.setStatus('u_unknown', { status: 'offboarded', at: T0, by: 'x', via: 'admin' })).toBe(false);
      expect(await store.people.lockActive('u_unknown')).toBe(false);
    });

    it('touch moves lastSeenAt forward only', async () => {
      const store = get();
      const p = person();
      await store.people.create(p);
      await store.people.touch(p.id, T0 + 100);
      await store.people.touch(p.id, T0 + 50);
      expect((await store.people.get(p.id))?.lastSeenAt).toBe(T0 + 100);
    });

    it('lists newest first, searches email, name and userName as substrings (LIKE wildcards are literal), filters status, pages', async () => {
      const store = get();
      const a = person({ email: 'ann@acme.example', name: 'Ann Archer', createdAt: T0 + 1 });
      const b = person({ email: 'ben@acme.example', name: 'Ben 100% Real', createdAt: T0 + 2, status: 'offboarded' });
      const c = person({ userName: 'carl_x', createdAt: T0 + 3 });
      for (const p of [a, b, c]) await store.people.create(p);
      expect((await store.people.list({})).map((p) => p.id)).toEqual([c.id, b.id, a.id]);
      expect((await store.people.list({ q: 'ACME' })).map((p) => p.id)).toEqual([b.id, a.id]);
      expect((await store.people.list({ q: 'archer' })).map((p) => p.id)).toEqual([a.id]);
      expect((await store.people.list({ q: '100%' })).map((p) => p.id)).toEqual([b.id]);
      expect((await store.people.list({ q: '%' })).map((p) => p.id)).toEqual([b.id]);
      expect((await store.people.list({ q: 'l_x' })).map((p) => p.id)).toEqual([c.id]);
      expect((await store.people.list({ q: 'rl_' })).map((p) => p.id)).toEqual([c.id]);
      expect((await store.people.list({ q: 'r_x' })).map((p) => p.id)).toEqual([]);
      expect((await store.people.list({ q: a.id })).map((p) => p.id)).toEqual([a.id]);
      expect((await store.people.list({ status: 'active' })).map((p) => p.id)).toEqual([c.id, a.id]);
      expect((await store.people.list({ limit: 1, offset: 1 })).map((p) => p.id)).toEqual([b.id]);
      expect(await store.people.count({ q: 'acme', status: 'active' })).toBe(1);
    });
  });

  describe('person sessions', () => {
    it('finds a valid session by hash; expired, revoked and deleted ones are not found', async () => {
      const store = get();
      const p = person();
      await store.people.create(p);
      const s = { hash: sha256Hex('kh_ps_one'), personId: p.id, createdAt: T0, expiresAt: T0 + 100, revokedAt: null };
      const t = { hash: sha256Hex('kh_ps_two'), personId: p.id, createdAt: T0, expiresAt: T0 + 100, revokedAt: null };
      await store.personSessions.create(s);
      await store.personSessions.create(t);
      expect(await store.personSessions.findValid(s.hash, T0 + 99)).toEqual(s);
      expect(await store.personSessions.findValid(s.hash, T0 + 100)).toBeUndefined();
      expect(await store.personSessions.revoke(s.hash, T0 + 1)).toBe(true);
      expect(await store.personSessions.revoke(s.hash, T0 + 2)).toBe(false);
      expect(await store.personSessions.findValid(s.hash, T0 + 2)).toBeUndefined();
      expect(await store.personSessions.findValid(t.hash, T0 + 2)).toEqual(t);
      expect(await store.personSessions.deleteExpired(T0 + 2)).toBe(1);
      expect(await store.personSessions.deleteByPerson(p.id)).toBe(1);
      expect(await store.personSessions.findValid(t.hash, T0 + 2)).toBeUndefined();
      await expect(store.personSessions.create({ ...s, hash: sha256Hex('x'), personId: 'u_unknown' })).rejects.toThrow();
    });
  });

  describe('the person of grants, pending authorizations and events', () => {
    it('stores a grant\'s person snapshot, lists grants by person, and keeps one grant per person for one upstream account', async () => {
      const store = get();
      const alice = { id: 'u_alice', email: 'alice@acme.example', name: 'Alice', groups: ['engineering'] };
      const bob = { id: 'u_bob', email: null, name: null, groups: [] };
      const g1 = grant({ person: alice, createdAt: T0 });
      const g2 = grant({ person: alice, server: 'other', subject: 'alice-at-other', createdAt: T0 + 1 });
      const g3 = grant({ person: bob, createdAt: T0 + 2 });
      const g4 = grant({ createdAt: T0 + 3 });
      for (const g of [g1, g2, g3, g4]) await store.grants.create(g);
      expect(await store.grants.find(g1.id)).toEqual(g1);
      expect(await store.grants.find(g4.id)).toEqual(g4);
      expect((await store.grants.listByPerson('u_alice')).map((g) => g.id)).toEqual([g2.id, g1.id]);
      // Several people in one call: the same grants, newest first; a person without grants and an empty list give none.
      expect((await store.grants.listByPeople(['u_alice', 'u_bob', 'u_nobody'])).map((g) => g.id).sort()).toEqual([g1.id, g2.id, g3.id].sort());
      expect((await store.grants.listByPeople(['u_alice'])).map((g) => g.id)).toEqual([g2.id, g1.id]);
      expect(await store.grants.listByPeople(['u_nobody'])).toEqual([]);
      expect(await store.grants.listByPeople([])).toEqual([]);
      expect((await store.grants.list({ personId: 'u_alice', server: 'demo' })).map((g) => g.id)).toEqual([g1.id]);
      expect(await store.grants.count({ personId: 'u_bob' })).toBe(1);
      // Same client, server and upstream account: each person finds their own grant; no person finds the person-less one.
      expect((await store.grants.findActive('c_client', 'demo', 'upstream-1', 'u_alice'))?.id).toBe(g1.id);
      expect((await store.grants.findActive('c_client', 'demo', 'upstream-1', 'u_bob'))?.id).toBe(g3.id);
      expect((await store.grants.findActive('c_client', 'demo', 'upstream-1'))?.id).toBe(g4.id);
      expect((await store.grants.findActive('c_client', 'demo', 'upstream-1', null))?.id).toBe(g4.id);
      expect(await store.grants.findActive('c_client', 'demo', 'upstream-1', 'u_carol')).toBeUndefined();
      // The access-token lookup (every MCP request) carries the person: rate limits and the audit log key on it.
      const at = { hash: sha256Hex(randomId('at')), grantId: g1.id, familyId: randomId('f'), clientId: g1.clientId, resource: 'http://127.0.0.1:8787/mcp/demo', scopes: ['mcp'], expiresAt: T0 + 60, revokedAt: null };
      await store.tokens.createAccess(at);
      expect((await store.tokens.findAccess(at.hash))?.personId).toBe('u_alice');
      await store.grants.revoke(g1.id, 'person_offboarded', T0 + 5);
      expect((await store.grants.listByPerson('u_alice')).map((g) => [g.id, g.status])).toEqual([[g2.id, 'active'], [g1.id, 'revoked']]);
    });

    it('keeps the person of a pending authorization (null when none)', async () => {
      const store = get();
      const base = {
        request: { clientId: 'c_client', redirectUri: 'http://127.0.0.1:1/cb', codeChallenge: 'x'.repeat(43), state: null, scopes: ['mcp'], resource: 'http://127.0.0.1:8787/mcp/demo', server: 'demo' },
        upstreamStateHash: null, upstreamVerifier: null, upstreamScopes: [], grantId: null, createdAt: T0, expiresAt: T0 + 600,
      };
      await store.pending.create({ id: 'p_with', ...base, personId: 'u_alice' });
      await store.pending.create({ id: 'p_without', ...base });
      expect((await store.pending.find('p_with'))?.personId).toBe('u_alice');
      expect((await store.pending.find('p_without'))?.personId).toBeNull();
    });

    it('records the person of an event and filters by it', async () => {
      const store = get();
      const base = { at: T0, grantId: null, clientId: null, server: null, subject: null, outcome: 'success' as const, detail: {} };
      const a = await store.events.append({ ...base, type: 'person.signed_in', personId: 'u_alice' });
      await store.events.append({ ...base, type: 'person.signed_in', personId: 'u_bob' });
      const c = await store.events.append({ ...base, type: 'grant.created' });
      expect((await store.events.list({ personId: 'u_alice' })).map((e) => [e.id, e.personId])).toEqual([[a, 'u_alice']]);
      expect(await store.events.count({ personId: 'u_bob' })).toBe(1);
      const [without] = await store.events.list({ type: 'grant.created' });
      expect(without?.id).toBe(c);
      expect(without).not.toHaveProperty('personId');
    });
  });
}
