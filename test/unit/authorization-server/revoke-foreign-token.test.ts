/**
 * Issue 9, F9: /revoke answered another client's valid token (400 invalid_request) differently from an unknown
 * one (200), an oracle for leaked or guessed tokens. Now both are the same empty 200 (RFC 7009 §2.2), and the
 * other client's token is not revoked (§2.1: it was not issued to the requesting client).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { randomToken, sha256Hex } from '../../../src/store/crypto/hash.js';
import type { ClientRecord, GrantRecord } from '../../../src/store/types.js';
import { CLIENT_REDIRECT, createHarness, type Harness } from './harness.js';

describe('revoke with another client\'s token', () => {
  let h: Harness;
  let owner: ClientRecord;
  let other: ClientRecord;
  let grant: GrantRecord;
  beforeEach(async () => {
    h = await createHarness();
    const metadata = { redirect_uris: [CLIENT_REDIRECT], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'] };
    owner = await h.seedClient({ metadata: { client_name: 'Owner', ...metadata } });
    other = await h.seedClient({ metadata: { client_name: 'Other', ...metadata } });
    grant = await h.seedGrant(owner);
    await h.seedUpstreamCredential(grant);
  });
  afterEach(async () => h.close());

  const revoke = (params: Record<string, string>) => h.postForm('/revoke', params);
  async function snapshot(res: Response) {
    return { status: res.status, headers: [...res.headers.entries()], body: await res.text() };
  }

  it.each([
    ['refresh_token', 'kh_rt_'],
    ['access_token', 'kh_at_'],
  ] as const)('answers another client\'s %s byte for byte like an unknown token', async (hint, prefix) => {
    const fam = await h.seedTokens(grant);
    const foreignToken = await hint === 'refresh_token' ? fam.refresh : fam.access;
    for (const withHint of [true, false]) {
      const extra: Record<string, string> = withHint ? { token_type_hint: hint } : {};
      const unknown = await snapshot(await revoke({ token: randomToken(prefix), client_id: other.clientId, ...extra }));
      const foreign = await snapshot(await revoke({ token: foreignToken, client_id: other.clientId, ...extra }));
      expect(foreign).toEqual(unknown);
      expect(foreign.status).toBe(200);
      expect(foreign.body).toBe('');
      expect(Object.fromEntries(foreign.headers)).toMatchObject({ 'cache-control': 'no-store', pragma: 'no-cache' });
    }
  });

  it('does not revoke the other client\'s tokens: the grant, its tokens and a refresh by the owner still work', async () => {
    const fam = await h.seedTokens(grant);
    const eventsBefore = h.count('events');
    expect((await revoke({ token: fam.refresh, client_id: other.clientId })).status).toBe(200);
    expect((await revoke({ token: fam.access, client_id: other.clientId })).status).toBe(200);
    expect((await h.store.grants.find(grant.id))?.status).toBe('active');
    expect((await h.store.tokens.findAccess(sha256Hex(fam.access)))?.revokedAt).toBeNull();
    expect((await h.store.tokens.findRefresh(sha256Hex(fam.refresh)))?.revokedAt).toBeNull();
    expect(await h.store.upstreamCredentials.find(grant.id)).toBeDefined();
    expect(h.count('events')).toBe(eventsBefore);
    const mcp = await h.request('/mcp/a', { method: 'POST', headers: { authorization: `Bearer ${fam.access}`, 'content-type': 'application/json' }, body: '{}' });
    expect(mcp.status).not.toBe(401);
    const refreshed = await h.postForm('/token', { grant_type: 'refresh_token', refresh_token: fam.refresh, client_id: owner.clientId });
    expect(refreshed.status).toBe(200);
    expect(await refreshed.json()).toMatchObject({ token_type: 'Bearer', access_token: expect.stringMatching(/^kh_at_/) });
  });

  it('tells the operator, by fingerprint only', async () => {
    const fam = await h.seedTokens(grant);
    await revoke({ token: fam.refresh, client_id: other.clientId });
    const lines = h.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'keyhole.revoke_foreign_token');
    expect(lines).toEqual([{ level: 'warn', msg: 'keyhole.revoke_foreign_token', client_id: other.clientId, owner_client_id: owner.clientId, grant_id: grant.id, token_fp: expect.stringMatching(/^fp_[0-9a-f]{12}$/) }]);
    expect(h.logs.join('\n')).not.toContain(fam.refresh);
  });
});
