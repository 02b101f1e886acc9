/**
 * When the token manager refreshes: the automatic skew scales with the token's lifetime (min(60 s, lifetime / 4)),
 * so a short-lived upstream token is not refreshed on every call; a configured skew is used as is.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { refreshMoment } from '../../../src/upstream/refresh-moment.js';
import { bearerHeader } from '../../../src/upstream/credential-source.js';
import { createHarness, T0, type Harness } from './token-manager-harness.js';

describe('refreshMoment', () => {
  it('refreshes a 15 s token from 11.25 s on, a 300 s token 60 s before expiry, a token without expiry never', () => {
    expect(refreshMoment(T0 + 15, T0, undefined)).toBe(T0 + 11.25);
    expect(refreshMoment(T0 + 300, T0, undefined)).toBe(T0 + 240);
    expect(refreshMoment(null, T0, undefined)).toBeNull();
  });

  it('uses a configured skew as is, even beyond the lifetime', () => {
    expect(refreshMoment(T0 + 15, T0, 5)).toBe(T0 + 10);
    expect(refreshMoment(T0 + 300, T0, 3_600)).toBe(T0 + 300 - 3_600);
  });
});

describe('UpstreamTokenManager refresh moment', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness();
  });
  afterEach(() => h.close());

  it('makes no refresh for many calls within the first 11 s of a 15 s token, and exactly one after 11.25 s', async () => {
    const m = h.manager();
    await h.seed(m, 15);
    for (let t = 0; t <= 11.2; t += 0.4) {
      h.now.t = T0 + t;
      expect(await m.getCredential(h.grant, false)).toEqual(bearerHeader('at-0'));
    }
    // A cold cache (another keyhole on the database, or a restart) derives the lifetime from the stored credential.
    expect(await h.manager().getCredential(h.grant, false)).toEqual(bearerHeader('at-0'));
    expect(h.upstream.refreshes).toEqual([]);
    h.now.t = T0 + 11.3;
    expect(await m.getCredential(h.grant, false)).toEqual(bearerHeader('at-1'));
    for (const t of [11.4, 12, 20]) {
      h.now.t = T0 + t;
      expect(await m.getCredential(h.grant, false)).toEqual(bearerHeader('at-1'));
    }
    expect(h.upstream.refreshes).toEqual(['rt-0']);
  });

  it('keeps the 60 s skew for a 300 s token', async () => {
    h.upstream.expiresIn = 300;
    const m = h.manager();
    await h.seed(m, 300);
    h.now.t = T0 + 239;
    expect(await m.getCredential(h.grant, false)).toEqual(bearerHeader('at-0'));
    h.now.t = T0 + 240;
    expect(await m.getCredential(h.grant, false)).toEqual(bearerHeader('at-1'));
    expect(h.upstream.refreshes).toEqual(['rt-0']);
  });

  it('refreshes on every call with a configured skew longer than the lifetime (what the e2e suites rely on)', async () => {
    const m = h.manager({ skewSeconds: 3_600 });
    await h.seed(m, 300);
    expect(await m.getCredential(h.grant, false)).toEqual(bearerHeader('at-1'));
    expect(await m.getCredential(h.grant, false)).toEqual(bearerHeader('at-2'));
    expect(h.upstream.refreshes).toEqual(['rt-0', 'rt-1']);
  });

  it('never refreshes a token without expiry', async () => {
    const m = h.manager();
    await h.seed(m, undefined);
    h.now.t = T0 + 86_400;
    expect(await m.getCredential(h.grant, false)).toEqual(bearerHeader('at-0'));
    expect(h.upstream.refreshes).toEqual([]);
  });
});
