/**
 * Issue 9 F10: a code presented with the wrong client, redirect_uri or PKCE verifier is refused without being burned,
 * so the legitimate redemption still succeeds; a replay by the right client with the right verifier still revokes
 * the family (invariant 4).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../../src/store/crypto/hash.js';
import type { ClientRecord, GrantRecord } from '../../../src/store/types.js';
import { CLIENT_REDIRECT, createHarness, oauthError, pkcePair, RESOURCE_A, VERIFIER, type Harness } from './harness.js';

describe('authorization_code redemption', () => {
  let h: Harness;
  let client: ClientRecord;
  let grant: GrantRecord;
  beforeEach(async () => {
    h = await createHarness();
    client = await h.seedClient({ metadata: { client_name: 'Public', redirect_uris: [CLIENT_REDIRECT], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'] } });
    grant = await h.seedGrant(client);
  });
  afterEach(async () => {
    await h.close();
  });

  const redeem = (code: string, over: Record<string, string> = {}) =>
    h.postForm('/token', { grant_type: 'authorization_code', code, code_verifier: VERIFIER, redirect_uri: CLIENT_REDIRECT, client_id: client.clientId, resource: RESOURCE_A, ...over });

  async function expectInvalidGrant(res: Response) {
    expect(res.status).toBe(400);
    expect((await oauthError(res)).error).toBe('invalid_grant');
  }

  async function expectTokens(res: Response): Promise<{ access_token: string; refresh_token: string }> {
    expect(res.status).toBe(200);
    return (await res.json()) as { access_token: string; refresh_token: string };
  }

  it('rejects the wrong client without burning the code: the right client then succeeds', async () => {
    const other = await h.seedClient({ metadata: { redirect_uris: [CLIENT_REDIRECT], token_endpoint_auth_method: 'none' } });
    const { code, record } = await h.seedCode(grant);
    await expectInvalidGrant(await redeem(code, { client_id: other.clientId }));
    expect((await h.store.tokens.findCode(record.hash))?.usedAt).toBeNull();
    await expectTokens(await redeem(code));
    expect(await h.events('code.replayed')).toHaveLength(0);
    expect(await h.events('code.redeemed')).toHaveLength(1);
  });

  it('rejects a wrong verifier without burning the code: the right verifier then succeeds', async () => {
    const { code, record } = await h.seedCode(grant);
    await expectInvalidGrant(await redeem(code, { code_verifier: pkcePair().verifier }));
    expect((await h.store.tokens.findCode(record.hash))?.usedAt).toBeNull();
    await expectTokens(await redeem(code));
    expect(await h.events('code.replayed')).toHaveLength(0);
  });

  it('rejects a wrong redirect_uri without burning the code: the right one then succeeds', async () => {
    const { code, record } = await h.seedCode(grant);
    await expectInvalidGrant(await redeem(code, { redirect_uri: 'https://evil.example/cb' }));
    expect((await h.store.tokens.findCode(record.hash))?.usedAt).toBeNull();
    await expectTokens(await redeem(code));
  });

  it('rejects a second redemption by the right client with invalid_grant and revokes the first tokens', async () => {
    const { code } = await h.seedCode(grant);
    const first = await expectTokens(await redeem(code));
    h.clock.now += 3;
    await expectInvalidGrant(await redeem(code));
    expect((await h.store.tokens.findAccess(sha256Hex(first.access_token)))?.revokedAt).toBe(h.clock.now);
    expect((await h.store.tokens.findRefresh(sha256Hex(first.refresh_token)))?.revokedAt).toBe(h.clock.now);
    expect(await h.events('code.replayed')).toHaveLength(1);
  });

  it('rejects a replay with a wrong verifier without revoking the family (only the verifier holder can)', async () => {
    const { code } = await h.seedCode(grant);
    const first = await expectTokens(await redeem(code));
    await expectInvalidGrant(await redeem(code, { code_verifier: pkcePair().verifier }));
    expect((await h.store.tokens.findAccess(sha256Hex(first.access_token)))?.revokedAt).toBeNull();
    expect(await h.events('code.replayed')).toHaveLength(0);
  });
});
