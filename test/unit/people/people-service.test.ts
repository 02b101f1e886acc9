/**
 * PeopleService (src/people/people-service.ts) on a real SQLite store, vault and GrantService (the grant harness):
 * sign-in (upsert, allowedGroups, an offboarded person refused, the IdP refresh token sealed), offboarding in one step
 * (every grant revoked through the grant revoker: tokens, upstream RFC 7009, listeners; sessions deleted; blocked;
 * recorded), reinstatement, and a grant completed for a person only while they are active.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { VaultCipher, keyringFromMasterKey } from '../../../src/store/crypto/vault-cipher.js';
import { EventRecorder } from '../../../src/events/recorder.js';
import { PeopleService } from '../../../src/people/people-service.js';
import { PersonNotActiveError } from '../../../src/grants/complete-authorization.js';
import { sha256Hex } from '../../../src/store/crypto/hash.js';
import { SqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import { authorization, createGrantHarness, T0, upstream, type GrantHarness } from '../grants/grant-service-harness.js';

let h: GrantHarness;
afterEach(async () => await h.close());

const ISS = 'https://login.acme.example';

async function setup(allowedGroups?: string[]) {
  h = await createGrantHarness();
  const cipher = new VaultCipher(keyringFromMasterKey(randomBytes(32).toString('base64url')));
  const events = new EventRecorder(h.store, () => undefined, () => h.now.t);
  const people = new PeopleService({
    store: h.store, events, cipher, clock: () => h.now.t,
    identity: allowedGroups ? { allowedGroups } : {},
    revokeGrant: (id, reason, actor) => h.service.revoke(id, reason, actor),
  });
  return { people, cipher };
}

const alice = { iss: ISS, sub: 'alice', email: 'alice@acme.example', name: 'Alice', groups: ['engineering'] };

describe('PeopleService', () => {
  it('signs a person in, keeps the IdP refresh token sealed (never in clear in the database) and records person.signed_in', async () => {
    const { people } = await setup(['engineering']);
    const out = await people.signIn(alice, 'idp-refresh-token-VALUE-1');
    expect(out).toMatchObject({ ok: true, person: { iss: ISS, sub: 'alice', status: 'active', groups: ['engineering'] } });
    const id = out.person.id;
    expect(id).toMatch(/^u_[A-Za-z0-9_-]{22}$/);
    expect(await people.idpRefreshToken(id)).toBe('idp-refresh-token-VALUE-1');
    const sealed = await h.store.sealedSecrets.find(`person-idp-refresh:${id}`);
    expect(sealed).toMatch(/^eyJ/);
    expect(sealed).not.toContain('idp-refresh-token-VALUE-1');
    const db = SqliteStore.connectionOf(h.raw).serialize().toString('latin1');
    expect(db).not.toContain('idp-refresh-token-VALUE-1');
    const [event] = await h.store.events.list({ type: 'person.signed_in' });
    expect(event).toMatchObject({ personId: id, detail: { email: 'alice@acme.example', groups: ['engineering'] } });
  });

  it('refuses a person outside allowedGroups (recorded, no token kept)', async () => {
    const { people } = await setup(['engineering']);
    const out = await people.signIn({ ...alice, sub: 'bob', groups: ['sales'] }, 'idp-rt-bob');
    expect(out).toMatchObject({ ok: false, reason: 'not_in_allowed_groups' });
    expect(await people.idpRefreshToken(out.person.id)).toBeUndefined();
    expect(await h.store.events.list({ type: 'person.refused' })).toMatchObject([{ outcome: 'failure', personId: out.person.id, detail: { reason: 'not_in_allowed_groups', groups: ['sales'] } }]);
  });

  it('offboards in one step: every active grant revoked through the revoker, sessions and IdP token gone, blocked until reinstated', async () => {
    const { people } = await setup();
    const { person } = await people.signIn(alice, 'idp-rt-alice');
    const snapshot = { id: person.id, email: person.email, name: person.name, groups: person.groups };
    const g1 = await h.service.completeAuthorization(authorization({ person: snapshot }));
    const g2 = await h.service.completeAuthorization(authorization({ person: snapshot, request: { ...authorization().request, server: 'other' }, upstream: upstream({ subject: 'alice-other', refreshToken: 'up-rt-other' }) }));
    const bob = await people.signIn({ ...alice, sub: 'bob', email: 'bob@acme.example' });
    const g3 = await h.service.completeAuthorization(authorization({ person: { id: bob.person.id, email: null, name: null, groups: [] }, upstream: upstream({ subject: 'bob', refreshToken: 'up-rt-bob' }) }));
    expect(g1.grant.person).toEqual(snapshot);
    await h.store.personSessions.create({ hash: sha256Hex('kh_ps_x'), personId: person.id, createdAt: T0, expiresAt: T0 + 3600, revokedAt: null });

    h.now.t = T0 + 60;
    const result = await people.offboard(person.id, { actor: 'admin:token', via: 'admin' });
    expect(result).toEqual({ found: true, changed: true, revokedGrantIds: [g2.grant.id, g1.grant.id] });
    for (const g of [g1, g2]) expect(await h.store.grants.find(g.grant.id)).toMatchObject({ status: 'revoked', statusReason: 'person_offboarded' });
    expect((await h.store.grants.find(g3.grant.id))?.status).toBe('active');
    expect(h.upstreamRevoked).toEqual(['up-rt-1']); // RFC 7009 at demo's upstream (the harness has no upstream client for 'other')
    expect(h.ended.sort()).toEqual([g1.grant.id, g2.grant.id].sort());
    expect(await h.store.personSessions.findValid(sha256Hex('kh_ps_x'), T0 + 60)).toBeUndefined();
    expect(await people.idpRefreshToken(person.id)).toBeUndefined();
    expect(await people.get(person.id)).toMatchObject({ status: 'offboarded', offboardedAt: T0 + 60, offboardedBy: 'admin:token', offboardedVia: 'admin' });
    const offboarded = await h.store.events.list({ type: 'person.offboarded' });
    expect(offboarded).toMatchObject([{ personId: person.id, detail: { via: 'admin', actor: 'admin:token', revoked_grants: [g2.grant.id, g1.grant.id] } }]);
    expect((await h.store.events.list({ type: 'grant.revoked', personId: person.id })).length).toBe(2);

    // Blocked: sign-in refused, no grant can be completed for them.
    expect(await people.signIn(alice)).toMatchObject({ ok: false, reason: 'offboarded' });
    await expect(h.service.completeAuthorization(authorization({ person: snapshot, upstream: upstream({ subject: 'alice-again' }) }))).rejects.toBeInstanceOf(PersonNotActiveError);
    expect(await h.store.grants.count({ personId: person.id })).toBe(2);
    // Idempotent: a second offboarding changes and records nothing.
    expect(await people.offboard(person.id, { actor: 'scim', via: 'scim' })).toEqual({ found: true, changed: false, revokedGrantIds: [] });
    expect(await h.store.events.count({ type: 'person.offboarded' })).toBe(1);
    expect(await people.offboard('u_unknown', { actor: 'x', via: 'admin' })).toEqual({ found: false, changed: false, revokedGrantIds: [] });

    expect(await people.reinstate(person.id, 'admin:token')).toBe(true);
    expect(await people.reinstate(person.id, 'admin:token')).toBe(false);
    expect(await people.signIn(alice)).toMatchObject({ ok: true });
    expect((await h.store.grants.find(g1.grant.id))?.status).toBe('revoked');
    expect(await h.store.events.list({ type: 'person.reinstated' })).toMatchObject([{ personId: person.id, detail: { actor: 'admin:token' } }]);
  });

  it('grants of two people with one upstream account and one client stay apart; one person keeps one grant', async () => {
    const { people } = await setup();
    const a = (await people.signIn(alice)).person;
    const b = (await people.signIn({ ...alice, sub: 'bob' })).person;
    const of = (p: typeof a) => ({ id: p.id, email: p.email, name: p.name, groups: p.groups });
    const ga = await h.service.completeAuthorization(authorization({ person: of(a) }));
    const gb = await h.service.completeAuthorization(authorization({ person: of(b) }));
    expect(gb.grant.id).not.toBe(ga.grant.id);
    const again = await h.service.completeAuthorization(authorization({ person: of(a), stepUpGrantId: gb.grant.id }));
    expect(again).toMatchObject({ created: false, grant: { id: ga.grant.id } });
    expect(await h.service.completeAuthorization(authorization({ person: { id: 'u_nobody', email: null, name: null, groups: [] } })).catch((e: Error) => e.name)).toBe('PersonNotActiveError');
  });
});
