/**
 * IdP revalidation (src/people/idp-revalidator.ts) on a real SQLite store, vault and PeopleService, with a scripted
 * IdP client standing in for failures a running oidc-provider does not produce on demand (a timeout, a 5xx). The
 * refusal paths against a real oidc-provider are in test/e2e/offboarding.test.ts.
 * - at most every revalidateSeconds (a sign-in counts as a check); concurrent refreshes share one IdP call;
 * - the IdP accepts: a rotated IdP refresh token is sealed in place, groups updated;
 * - invalid_grant or groups outside allowedGroups: offboarded via idp (actor idp), 'refused';
 * - the IdP unreachable: 'ok' within the grace, then 'unavailable' (fail closed), the person not offboarded.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { VaultCipher, keyringFromMasterKey } from '../../../src/store/crypto/vault-cipher.js';
import { EventRecorder } from '../../../src/events/recorder.js';
import { PeopleService } from '../../../src/people/people-service.js';
import { IdpRevalidator } from '../../../src/people/idp-revalidator.js';
import { OrgIdpRefusedError, OrgIdpUnavailableError, type OrgSignIn } from '../../../src/people/org-idp-client.js';
import { createGrantHarness, type GrantHarness } from '../grants/grant-service-harness.js';

let h: GrantHarness;
afterEach(async () => await h.close());

const ISS = 'https://login.acme.example';
const REVALIDATE = 60;
const alice = { iss: ISS, sub: 'alice', email: 'alice@acme.example', name: 'Alice', groups: ['engineering'] };

type Script = (refreshToken: string) => Promise<OrgSignIn>;

async function setup(script: Script, graceSeconds?: number) {
  h = await createGrantHarness();
  const cipher = new VaultCipher(keyringFromMasterKey(randomBytes(32).toString('base64url')));
  const events = new EventRecorder(h.store, () => undefined, () => h.now.t);
  const identity = { allowedGroups: ['engineering'], revalidateSeconds: REVALIDATE };
  const people = new PeopleService({ store: h.store, events, cipher, clock: () => h.now.t, identity, revokeGrant: (id, reason, actor) => h.service.revoke(id, reason, actor) });
  const calls: string[] = [];
  const idp = { refresh: async (rt: string, sub: string) => { calls.push(`${rt}|${sub}`); return script(rt); } };
  const revalidator = new IdpRevalidator({ store: h.store, people, idp, identity, events, clock: () => h.now.t, ...(graceSeconds !== undefined ? { graceSeconds } : {}) });
  const out = await people.signIn(alice, 'idp-rt-1');
  if (!out.ok) throw new Error('sign-in refused');
  return { people, revalidator, calls, id: out.person.id };
}

const accepted = (refreshToken: string | undefined, groups = ['engineering']): Script => async () => ({
  claims: { ...alice, groups }, tokens: { idToken: undefined, accessToken: 'at', refreshToken, expiresIn: 60 },
});

describe('IdpRevalidator', () => {
  it('asks the IdP at most every revalidateSeconds (the sign-in counts), and keeps a rotated IdP refresh token sealed', async () => {
    const { revalidator, calls, id, people } = await setup(accepted('idp-rt-2', ['engineering', 'ops']));
    expect(await revalidator.beforeRefresh(id)).toBe('ok');
    expect(calls).toEqual([]); // just signed in
    h.now.t += REVALIDATE;
    expect(await revalidator.beforeRefresh(id)).toBe('ok');
    expect(calls).toEqual(['idp-rt-1|alice']);
    expect(await people.idpRefreshToken(id)).toBe('idp-rt-2');
    expect(await h.store.people.get(id)).toMatchObject({ groups: ['engineering', 'ops'], lastSeenAt: h.now.t, status: 'active' });
    h.now.t += REVALIDATE - 1;
    expect(await revalidator.beforeRefresh(id)).toBe('ok');
    expect(calls).toHaveLength(1);
  });

  it('concurrent refreshes of one person share one IdP call', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { revalidator, calls, id } = await setup(async (rt) => { await gate; return accepted(rt)(rt); });
    h.now.t += REVALIDATE;
    const all = Promise.all([revalidator.beforeRefresh(id), revalidator.beforeRefresh(id), revalidator.beforeRefresh(id)]);
    release();
    expect(await all).toEqual(['ok', 'ok', 'ok']);
    expect(calls).toHaveLength(1);
  });

  it('invalid_grant at the IdP offboards the person via idp and answers refused', async () => {
    const { revalidator, id, people } = await setup(async () => { throw new OrgIdpRefusedError('invalid_grant'); });
    h.now.t += REVALIDATE;
    expect(await revalidator.beforeRefresh(id)).toBe('refused');
    expect(await h.store.people.get(id)).toMatchObject({ status: 'offboarded', offboardedVia: 'idp', offboardedBy: 'idp' });
    expect(await people.idpRefreshToken(id)).toBeUndefined();
    expect(await h.store.events.list({ type: 'person.offboarded', personId: id })).toMatchObject([{ detail: { via: 'idp', actor: 'idp' } }]);
    expect(await revalidator.beforeRefresh(id)).toBe('refused'); // offboarded: no IdP call needed
  });

  it('groups outside allowedGroups after the refresh offboard the person', async () => {
    const { revalidator, id } = await setup(accepted('idp-rt-2', ['sales']));
    h.now.t += REVALIDATE;
    expect(await revalidator.beforeRefresh(id)).toBe('refused');
    expect(await h.store.events.list({ type: 'person.refused', personId: id })).toMatchObject([{ detail: { reason: 'idp_not_in_allowed_groups', at: 'revalidation' } }]);
    expect(await h.store.people.get(id)).toMatchObject({ status: 'offboarded', offboardedVia: 'idp' });
  });

  it('an unreachable IdP: ok within the grace, then unavailable (fail closed); never an offboarding', async () => {
    const { revalidator, id } = await setup(async () => { throw new OrgIdpUnavailableError('timeout'); }, 30);
    h.now.t += REVALIDATE + 29; // 89 s since the sign-in: within revalidateSeconds + grace (90)
    expect(await revalidator.beforeRefresh(id)).toBe('ok');
    h.now.t += 1;
    expect(await revalidator.beforeRefresh(id)).toBe('unavailable');
    expect(await h.store.people.get(id)).toMatchObject({ status: 'active' });
    expect((await h.store.events.list({ type: 'person.revalidation_failed', personId: id })).map((e) => e.detail)).toEqual([
      { kind: 'timeout', within_grace: false },
      { kind: 'timeout', within_grace: true },
    ]);
  });

  it('a person without a kept IdP refresh token is not asked about (SCIM or the admin end their access)', async () => {
    const { revalidator, calls, id, people } = await setup(accepted(undefined));
    await people.forgetIdpRefreshToken(id);
    h.now.t += REVALIDATE * 3;
    expect(await revalidator.beforeRefresh(id)).toBe('ok');
    expect(calls).toEqual([]);
  });
});
