import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../../src/store/crypto/hash.js';
import type { ClientRecord, GrantRecord } from '../../../src/store/types.js';
import { basic, CLIENT_REDIRECT, createHarness, oauthError, type Harness } from './harness.js';

describe('revoke', () => {
  let h: Harness;
  let client: ClientRecord;
  let grant: GrantRecord;
  beforeEach(async () => {
    h = await createHarness();
    client = await h.seedClient({ metadata: { client_name: 'Public', redirect_uris: [CLIENT_REDIRECT], token_endpoint_auth_method: 'none' } });
    grant = await h.seedGrant(client);
    await h.seedUpstreamCredential(grant);
  });
  afterEach(async () => {
    await h.close();
  });

  const revoke = (params: Record<string, string> | string, headers: Record<string, string> = {}) => h.postForm('/revoke', params, headers);
  const mcp = (access: string, server = 'a') => h.request(`/mcp/${server}`, { method: 'POST', headers: { authorization: `Bearer ${access}`, 'content-type': 'application/json' }, body: '{}' });

  async function expectOk(res: Response) {
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.text()).toBe('');
  }
  async function expectError(res: Response, status: number, error: string) {
    expect(res.status).toBe(status);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect((await oauthError(res)).error).toBe(error);
  }

  it('answers 200 for an unknown token (RFC 7009 §2.2) and changes nothing', async () => {
    const before = h.count('events');
    await expectOk(await revoke({ token: 'kh_rt_unknown', client_id: client.clientId }));
    await expectOk(await revoke({ token: 'kh_at_unknown', token_type_hint: 'access_token', client_id: client.clientId }));
    expect(h.count('events')).toBe(before);
    expect((await h.store.grants.find(grant.id))?.status).toBe('active');
  });

  it('revokes the whole grant for a refresh token: status, every token, the upstream credential; access refused on /mcp/a', async () => {
    const fam1 = await h.seedTokens(grant);
    const fam2 = await h.seedTokens(grant);
    await expectOk(await revoke({ token: fam1.refresh, token_type_hint: 'refresh_token', client_id: client.clientId }));
    expect(await h.store.grants.find(grant.id)).toMatchObject({ status: 'revoked', statusReason: 'client_revoked', revokedAt: h.clock.now });
    expect(await h.store.upstreamCredentials.find(grant.id)).toBeUndefined();
    for (const fam of [fam1, fam2]) {
      expect((await h.store.tokens.findAccess(sha256Hex(fam.access)))?.revokedAt).toBe(h.clock.now);
      expect((await h.store.tokens.findRefresh(sha256Hex(fam.refresh)))?.revokedAt).toBe(h.clock.now);
      const res = await mcp(fam.access);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
    }
    expect(await h.events('grant.revoked')).toHaveLength(1);
    // A second revocation of the same token is still 200 and records nothing new.
    await expectOk(await revoke({ token: fam1.refresh, client_id: client.clientId }));
    expect(await h.events('grant.revoked')).toHaveLength(1);
  });

  it('revokes a refresh token sent with the access_token hint (the hint is only a hint)', async () => {
    const fam = await h.seedTokens(grant);
    await expectOk(await revoke({ token: fam.refresh, token_type_hint: 'access_token', client_id: client.clientId }));
    expect((await h.store.grants.find(grant.id))?.status).toBe('revoked');
  });

  it('revokes only that access token for an access token', async () => {
    const fam = await h.seedTokens(grant);
    const sibling = await h.seedTokens(grant, { familyId: fam.familyId });
    await expectOk(await revoke({ token: fam.access, token_type_hint: 'access_token', client_id: client.clientId }));
    expect((await h.store.tokens.findAccess(sha256Hex(fam.access)))?.revokedAt).toBe(h.clock.now);
    expect((await h.store.tokens.findAccess(sha256Hex(sibling.access)))?.revokedAt).toBeNull();
    expect((await h.store.tokens.findRefresh(sha256Hex(fam.refresh)))?.revokedAt).toBeNull();
    expect((await h.store.grants.find(grant.id))?.status).toBe('active');
    expect(await h.store.upstreamCredentials.find(grant.id)).toBeDefined();
    expect((await mcp(fam.access)).status).toBe(401);
    const [event] = await h.events('token.revoked');
    expect(JSON.stringify(event)).not.toContain(fam.access);
  });

  it('rejects a missing token with invalid_request', async () => {
    await expectError(await revoke({ client_id: client.clientId }), 400, 'invalid_request');
    await expectError(await revoke({ client_id: client.clientId, token: '' }), 400, 'invalid_request');
  });

  it('rejects a bad token_type_hint with unsupported_token_type and revokes nothing', async () => {
    const fam = await h.seedTokens(grant);
    await expectError(await revoke({ token: fam.refresh, token_type_hint: 'id_token', client_id: client.clientId }), 400, 'unsupported_token_type');
    expect((await h.store.grants.find(grant.id))?.status).toBe('active');
    expect((await h.store.tokens.findRefresh(sha256Hex(fam.refresh)))?.revokedAt).toBeNull();
  });

  // Another client's token: answered like an unknown one and not revoked — revoke-foreign-token.test.ts.

  it('rejects an unknown client with 401 invalid_client', async () => {
    const fam = await h.seedTokens(grant);
    await expectError(await revoke({ token: fam.refresh, client_id: 'c_unknown' }), 401, 'invalid_client');
    await expectError(await revoke({ token: fam.refresh }), 401, 'invalid_client');
    expect((await h.store.grants.find(grant.id))?.status).toBe('active');
  });

  it('authenticates a confidential client (Basic) and refuses a wrong secret with 401', async () => {
    const { client: conf, secret } = await h.seedConfidentialClient();
    const g = await h.seedGrant(conf);
    const fam = await h.seedTokens(g);
    await expectError(await revoke({ token: fam.refresh }, { authorization: basic(conf.clientId, 'wrong') }), 401, 'invalid_client');
    expect((await h.store.grants.find(g.id))?.status).toBe('active');
    await expectOk(await revoke({ token: fam.refresh }, { authorization: basic(conf.clientId, secret) }));
    expect((await h.store.grants.find(g.id))?.status).toBe('revoked');
  });

  it('rejects a JSON body with invalid_request', async () => {
    const fam = await h.seedTokens(grant);
    const res = await h.request('/revoke', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: fam.refresh, client_id: client.clientId }) });
    await expectError(res, 400, 'invalid_request');
    expect((await h.store.grants.find(grant.id))?.status).toBe('active');
  });

  it('rejects repeated token parameters with invalid_request', async () => {
    const fam = await h.seedTokens(grant);
    await expectError(await revoke(`token=${fam.access}&token=${fam.refresh}&client_id=${client.clientId}`), 400, 'invalid_request');
    expect((await h.store.grants.find(grant.id))?.status).toBe('active');
  });
});
