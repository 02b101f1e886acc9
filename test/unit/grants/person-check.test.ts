/**
 * The refresh hook of the grants layer (src/grants/person-check.ts, used by src/grants/rotate-refresh-token.ts):
 * a grant with a person is re-checked before its refresh token is used. 'refused' answers invalid_grant,
 * 'unavailable' answers 503 temporarily_unavailable, and in both cases the refresh token stays unused (a retry works
 * once the IdP answers); a grant without a person is never checked.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidGrantError, TemporarilyUnavailableError } from '../../../src/oauth/errors.js';
import { EventRecorder } from '../../../src/events/recorder.js';
import { rotateRefreshToken } from '../../../src/grants/rotate-refresh-token.js';
import type { PersonCheckOutcome } from '../../../src/grants/person-check.js';
import { sha256Hex } from '../../../src/store/crypto/hash.js';
import { authorization, createGrantHarness, T0, type GrantHarness } from './grant-service-harness.js';

const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
let h: GrantHarness;
afterEach(async () => await h.close());

async function setup(withPerson: boolean) {
  h = await createGrantHarness();
  if (withPerson) {
    await h.store.people.create({
      id: 'u_alice', iss: 'https://idp.example', sub: 'alice', email: 'alice@acme.example', name: 'Alice', groups: [], status: 'active', offboardedAt: null,
      offboardedBy: null, offboardedVia: null, externalId: null, userName: null, scimActive: null, createdAt: T0, lastSeenAt: T0,
    });
  }
  const done = await h.service.completeAuthorization(authorization(withPerson ? { person: { id: 'u_alice', email: 'alice@acme.example', name: 'Alice', groups: [] } } : {}));
  const pair = await h.service.redeemCode({ code: done.code, clientId: 'c_client', redirectUri: null, codeVerifier: VERIFIER, resourceFor: () => undefined });
  const asked: string[] = [];
  let answer: PersonCheckOutcome = 'ok';
  const deps = {
    store: h.store, events: new EventRecorder(h.store, () => undefined, () => h.now.t), clock: () => h.now.t,
    config: { tokens: { accessTokenTtlSeconds: 900, refreshTokenTtlSeconds: 86_400, refreshGraceSeconds: 30, upstreamRefreshSkewSeconds: undefined } },
    personCheck: { beforeRefresh: async (id: string) => { asked.push(id); return answer; } },
  };
  const refresh = () => rotateRefreshToken(deps, { token: pair.refresh_token!, clientId: 'c_client', requested: [], resourceFor: () => undefined });
  return { refresh, asked, set: (a: PersonCheckOutcome) => (answer = a), refreshToken: pair.refresh_token! };
}

describe('refresh re-checks the person (PersonCheck)', () => {
  it('unavailable: 503 temporarily_unavailable, the refresh token stays unused; ok later: the refresh goes through', async () => {
    const s = await setup(true);
    s.set('unavailable');
    const e = await s.refresh().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TemporarilyUnavailableError);
    expect(e).toMatchObject({ status: 503, errorCode: 'temporarily_unavailable' });
    expect((await h.store.tokens.findRefresh(sha256Hex(s.refreshToken)))!.usedAt).toBeNull();
    s.set('ok');
    expect((await s.refresh()).access_token).toMatch(/^kh_at_/);
    expect(s.asked).toEqual(['u_alice', 'u_alice']);
  });

  it('refused: invalid_grant, the refresh token unused', async () => {
    const s = await setup(true);
    s.set('refused');
    await expect(s.refresh()).rejects.toBeInstanceOf(InvalidGrantError);
    expect((await h.store.tokens.findRefresh(sha256Hex(s.refreshToken)))!.usedAt).toBeNull();
  });

  it('a grant without a person is never checked', async () => {
    const s = await setup(false);
    s.set('refused');
    expect((await s.refresh()).access_token).toMatch(/^kh_at_/);
    expect(s.asked).toEqual([]);
  });
});
