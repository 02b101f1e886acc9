/**
 * The token manager's cache of decrypted upstream access tokens is bounded (issue 17): least recently used grants
 * are evicted, an evicted grant reads the vault again, and a grant revoked while evicted is refused on its very next
 * request (the vault entry is gone), exactly as one revoked while cached.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from './token-manager-harness.js';
import { makeGrant } from '../store/store-contract.js';
import { GrantEndedError } from '../../../src/upstream/errors.js';
import { DEFAULT_MAX_CACHED_TOKENS } from '../../../src/upstream/token-manager.js';
import type { CredentialGrant } from '../../../src/upstream/credential-source.js';

describe('UpstreamTokenManager cache bound', () => {
  let h: Harness;
  beforeEach(async () => (h = await createHarness()));
  afterEach(async () => await h.close());

  async function grants(n: number): Promise<CredentialGrant[]> {
    const out: CredentialGrant[] = [];
    for (let i = 0; i < n; i++) {
      const g = makeGrant({ server: 'demo', subject: `user-${i}` });
      await h.store.grants.create(g);
      out.push({ id: g.id, server: g.server, clientId: g.clientId, subject: g.subject });
    }
    return out;
  }
  const persist = (m: ReturnType<Harness['manager']>, g: CredentialGrant, token: string) =>
    m.persist(g.id, { accessToken: token, refreshToken: `rt-${token}`, expiresIn: 3_600, scopes: ['mcp:tools'] }, undefined, ['mcp:tools']);

  it('defaults to 10,000 grants', () => {
    expect(DEFAULT_MAX_CACHED_TOKENS).toBe(10_000);
  });

  it('keeps at most maxCachedTokens grants, least recently used evicted; an evicted grant reads the vault again', async () => {
    const m = h.manager({ maxCachedTokens: 2 });
    const [a, b, c] = await grants(3);
    await persist(m, a!, 'tok-a');
    await persist(m, b!, 'tok-b');
    expect(await m.getCredential(a!, false)).toEqual({ header: 'Authorization', value: 'Bearer tok-a' }); // a: most recent
    await persist(m, c!, 'tok-c'); // evicts b
    expect(m.cachedTokens()).toBe(2);
    // Another instance (another manager on the same database) replaces b's and a's stored tokens.
    const other = h.manager();
    await persist(other, b!, 'tok-b2');
    await persist(other, a!, 'tok-a2');
    // b was evicted: read from the vault (the new token); a is still cached (within its refresh moment).
    expect((await m.getCredential(b!, false)).value).toBe('Bearer tok-b2');
    expect(m.cachedTokens()).toBe(2);
    expect((await m.getCredential(c!, false)).value).toBe('Bearer tok-c');
  });

  it('refuses a grant revoked while its token was evicted on the very next request, and one revoked while cached', async () => {
    const m = h.manager({ maxCachedTokens: 1 });
    const [a, b] = await grants(2);
    await persist(m, a!, 'tok-a');
    expect((await m.getCredential(a!, false)).value).toBe('Bearer tok-a');
    await persist(m, b!, 'tok-b'); // evicts a
    expect(m.cachedTokens()).toBe(1);
    expect(await h.revoker.revoke(a!.id, 'user', 'user')).toBe(true);
    await expect(m.getCredential(a!, false)).rejects.toBeInstanceOf(GrantEndedError);
    // b is the cached one: revoked now, refused at once too (the revocation listener drops it), no refresh attempted.
    expect(await h.revoker.revoke(b!.id, 'user', 'user')).toBe(true);
    await expect(m.getCredential(b!, false)).rejects.toBeInstanceOf(GrantEndedError);
    expect(m.cachedTokens()).toBe(0);
    expect(h.upstream.refreshes).toEqual([]);
  });

  it('refuses a bad bound when built', () => {
    expect(() => h.manager({ maxCachedTokens: 0 })).toThrow(/maxEntries/);
  });
});
