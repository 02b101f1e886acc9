import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fingerprint, sha256Hex } from '../../../src/store/crypto/hash.js';
import type { ClientRecord, GrantRecord } from '../../../src/store/types.js';
import { basic, CLIENT_REDIRECT, createHarness, oauthError, pkcePair, PUBLIC_URL, RESOURCE_A, RESOURCE_B, VERIFIER, type Harness } from './harness.js';
import { sqliteRows } from '../../helpers/sqlite-engine.js';

interface TokenBody {
  access_token: string;
  token_type: string;
  expires_in: number;
  refresh_token: string;
  scope: string;
}

describe('token', () => {
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

  const token = (params: Record<string, string> | string, headers: Record<string, string> = {}) => h.postForm('/token', params, headers);
  const codeParams = (code: string, over: Record<string, string> = {}) => ({ grant_type: 'authorization_code', code, code_verifier: VERIFIER, redirect_uri: CLIENT_REDIRECT, client_id: client.clientId, resource: RESOURCE_A, ...over });

  /** An OAuth error with no-store, and the count of issued tokens unchanged. */
  async function expectError(res: Response, status: number, error: string) {
    expect(res.status).toBe(status);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('pragma')).toBe('no-cache');
    const body = await oauthError(res);
    expect(body.error).toBe(error);
    return body;
  }

  async function expectTokens(res: Response): Promise<TokenBody> {
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('pragma')).toBe('no-cache');
    expect(res.headers.get('content-type')).toContain('application/json');
    const body = (await res.json()) as TokenBody;
    expect(Object.keys(body).sort()).toEqual(['access_token', 'expires_in', 'refresh_token', 'scope', 'token_type']);
    expect(body.token_type).toBe('Bearer');
    expect(body.access_token).toMatch(/^kh_at_[A-Za-z0-9_-]{43}$/);
    expect(body.refresh_token).toMatch(/^kh_rt_[A-Za-z0-9_-]{43}$/);
    expect(body.expires_in).toBe(900);
    return body;
  }

  const tokenCounts = () => ({ access: h.count('access_tokens'), refresh: h.count('refresh_tokens') });

  describe('request format', () => {
    it('rejects a JSON body (wrong content type) with invalid_request', async () => {
      const { code } = await h.seedCode(grant);
      const res = await h.request('/token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(codeParams(code)) });
      await expectError(res, 400, 'invalid_request');
      expect(tokenCounts()).toEqual({ access: 0, refresh: 0 });
    });

    it('rejects a missing content type with invalid_request', async () => {
      const res = await h.request('/token', { method: 'POST', body: 'grant_type=authorization_code' });
      await expectError(res, 400, 'invalid_request');
    });

    it('accepts a charset parameter on the content type', async () => {
      const { code } = await h.seedCode(grant);
      await expectTokens(await token(codeParams(code), { 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8' }));
    });

    it('rejects repeated parameters with invalid_request (RFC 6749 §3.1) and does not consume the code', async () => {
      const { code, record } = await h.seedCode(grant);
      const body = `${new URLSearchParams(codeParams(code)).toString()}&code_verifier=${VERIFIER}`;
      await expectError(await token(body), 400, 'invalid_request');
      expect(tokenCounts()).toEqual({ access: 0, refresh: 0 });
      // The code is still good.
      await expectTokens(await token(codeParams(code)));
      expect(record.usedAt).toBeNull();
    });

    it('rejects a missing grant_type with invalid_request', async () => {
      await expectError(await token({ client_id: client.clientId, code: 'x' }), 400, 'invalid_request');
    });

    it('rejects an unknown grant_type with unsupported_grant_type', async () => {
      for (const grant_type of ['password', 'client_credentials', 'implicit', '__proto__', 'toString', 'urn:ietf:params:oauth:grant-type:device_code']) {
        await expectError(await token({ grant_type, client_id: client.clientId }), 400, 'unsupported_grant_type');
      }
    });

    it('rejects an oversize body with 413 invalid_request', async () => {
      const res = await token({ grant_type: 'authorization_code', pad: 'x'.repeat(70_000) });
      await expectError(res, 413, 'invalid_request');
    });
  });

  describe('client authentication', () => {
    it('rejects an unknown client with 401 invalid_client', async () => {
      const { code } = await h.seedCode(grant);
      await expectError(await token(codeParams(code, { client_id: 'c_unknown' })), 401, 'invalid_client');
    });

    it('rejects a missing client_id with 401 invalid_client', async () => {
      const { code } = await h.seedCode(grant);
      const p: Record<string, string> = codeParams(code);
      delete p.client_id;
      await expectError(await token(p), 401, 'invalid_client');
    });

    it('rejects a blocked client with 401 invalid_client', async () => {
      const { code } = await h.seedCode(grant);
      await h.store.clients.block(client.clientId, h.clock.now);
      await expectError(await token(codeParams(code)), 401, 'invalid_client');
      expect(tokenCounts()).toEqual({ access: 0, refresh: 0 });
    });

    it('rejects a wrong secret with 401 invalid_client and a Basic challenge', async () => {
      const { client: conf } = await h.seedConfidentialClient({ metadata: { redirect_uris: [CLIENT_REDIRECT] } });
      const g = await h.seedGrant(conf);
      const { code } = await h.seedCode(g);
      const res = await token(codeParams(code, { client_id: conf.clientId }), { authorization: basic(conf.clientId, 'wrong') });
      await expectError(res, 401, 'invalid_client');
      expect(res.headers.get('www-authenticate')).toMatch(/^Basic /);
    });

    it('rejects a confidential client without a secret with 401 invalid_client', async () => {
      const { client: conf } = await h.seedConfidentialClient({ metadata: { redirect_uris: [CLIENT_REDIRECT] } });
      const g = await h.seedGrant(conf);
      const { code } = await h.seedCode(g);
      await expectError(await token(codeParams(code, { client_id: conf.clientId })), 401, 'invalid_client');
    });

    it('accepts client_secret_basic and client_secret_post', async () => {
      const { client: conf, secret } = await h.seedConfidentialClient({ metadata: { redirect_uris: [CLIENT_REDIRECT] } });
      const g = await h.seedGrant(conf);
      const c1 = await h.seedCode(g);
      const p1: Record<string, string> = await codeParams(c1.code);
      delete p1.client_id;
      await expectTokens(await token(p1, { authorization: basic(conf.clientId, secret) }));
      const c2 = await h.seedCode(g);
      await expectTokens(await token(codeParams(c2.code, { client_id: conf.clientId, client_secret: secret })));
    });

    it('rejects two authentication methods at once with invalid_request', async () => {
      const { client: conf, secret } = await h.seedConfidentialClient({ metadata: { redirect_uris: [CLIENT_REDIRECT] } });
      const g = await h.seedGrant(conf);
      const { code } = await h.seedCode(g);
      await expectError(await token(codeParams(code, { client_id: conf.clientId, client_secret: secret }), { authorization: basic(conf.clientId, secret) }), 400, 'invalid_request');
    });

    it('rejects a secret sent by a public client with 401 invalid_client', async () => {
      const { code } = await h.seedCode(grant);
      await expectError(await token(codeParams(code, { client_secret: 'guess' })), 401, 'invalid_client');
    });

    it('rejects a grant type the client did not register with unauthorized_client', async () => {
      const codeOnly = await h.seedClient({ metadata: { redirect_uris: [CLIENT_REDIRECT], grant_types: ['authorization_code'] } });
      const g = await h.seedGrant(codeOnly);
      const { refresh } = await h.seedTokens(g);
      await expectError(await token({ grant_type: 'refresh_token', refresh_token: refresh, client_id: codeOnly.clientId }), 400, 'unauthorized_client');
    });
  });

  describe('authorization_code', () => {
    it('exchanges a code for a token pair bound to the resource, storing only hashes', async () => {
      const { code } = await h.seedCode(grant);
      const body = await expectTokens(await token(codeParams(code)));
      expect(body.scope).toBe('mcp');
      const access = (await h.store.tokens.findAccess(sha256Hex(body.access_token)))!;
      expect(access).toMatchObject({ grantId: grant.id, clientId: client.clientId, resource: RESOURCE_A, scopes: ['mcp'], expiresAt: h.clock.now + 900, revokedAt: null });
      expect((await h.store.tokens.findRefresh(sha256Hex(body.refresh_token)))?.familyId).toBe(access.familyId);
      const dump = JSON.stringify([sqliteRows(h.store, 'access_tokens'), sqliteRows(h.store, 'refresh_tokens'), sqliteRows(h.store, 'events')]);
      for (const v of [body.access_token, body.refresh_token, code]) {
        expect(dump).not.toContain(v);
        expect(h.logs.join('\n')).not.toContain(v);
      }
      const [redeemed] = await h.events('code.redeemed');
      expect(redeemed?.detail.code_fp).toBe(fingerprint(code));
    });

    it('accepts a request without redirect_uri and without resource', async () => {
      const { code } = await h.seedCode(grant);
      const p: Record<string, string> = codeParams(code);
      delete p.redirect_uri;
      delete p.resource;
      await expectTokens(await token(p));
    });

    it('accepts the trailing-slash and origin-only variants of the resource', async () => {
      for (const resource of [`${RESOURCE_A}/`, PUBLIC_URL]) {
        const { code } = await h.seedCode(grant);
        await expectTokens(await token(codeParams(code, { resource })));
      }
    });

    it('rejects a missing code with invalid_request', async () => {
      await expectError(await token({ grant_type: 'authorization_code', client_id: client.clientId, code_verifier: VERIFIER }), 400, 'invalid_request');
    });

    it('rejects an unknown code with invalid_grant', async () => {
      await expectError(await token(codeParams('kh_code_unknown')), 400, 'invalid_grant');
      expect(tokenCounts()).toEqual({ access: 0, refresh: 0 });
    });

    it('rejects an expired code with invalid_grant', async () => {
      const { code } = await h.seedCode(grant, { expiresAt: h.clock.now + 60 });
      h.clock.now += 60;
      await expectError(await token(codeParams(code)), 400, 'invalid_grant');
      expect(tokenCounts()).toEqual({ access: 0, refresh: 0 });
    });

    it('rejects a replayed code with invalid_grant, revokes what the first redemption issued, and records code.replayed', async () => {
      const { code, record } = await h.seedCode(grant);
      const first = await expectTokens(await token(codeParams(code)));
      h.clock.now += 5;
      await expectError(await token(codeParams(code)), 400, 'invalid_grant');
      expect((await h.store.tokens.findAccess(sha256Hex(first.access_token)))?.revokedAt).toBe(h.clock.now);
      expect((await h.store.tokens.findRefresh(sha256Hex(first.refresh_token)))?.revokedAt).toBe(h.clock.now);
      const [replayed] = await h.events('code.replayed');
      expect(replayed).toMatchObject({ outcome: 'failure', grantId: grant.id, clientId: client.clientId });
      expect(replayed?.detail).toMatchObject({ code_fp: fingerprint(code), family_id: record.familyId });
      expect(tokenCounts()).toEqual({ access: 1, refresh: 1 });
      // The revoked tokens no longer work.
      const refresh = await token({ grant_type: 'refresh_token', refresh_token: first.refresh_token, client_id: client.clientId });
      await expectError(refresh, 400, 'invalid_grant');
      const mcp = await h.request('/mcp/a', { method: 'POST', headers: { authorization: `Bearer ${first.access_token}` } });
      expect(mcp.status).toBe(401);
    });

    it('revokes only the replayed code\'s family, not other families of the grant', async () => {
      const other = await h.seedTokens(grant);
      const { code } = await h.seedCode(grant);
      await expectTokens(await token(codeParams(code)));
      await expectError(await token(codeParams(code)), 400, 'invalid_grant');
      expect((await h.store.tokens.findAccess(sha256Hex(other.access)))?.revokedAt).toBeNull();
    });

    it('rejects a wrong code_verifier with invalid_grant', async () => {
      const { code } = await h.seedCode(grant);
      await expectError(await token(codeParams(code, { code_verifier: pkcePair().verifier })), 400, 'invalid_grant');
      expect(tokenCounts()).toEqual({ access: 0, refresh: 0 });
    });

    it('rejects a malformed code_verifier with invalid_grant', async () => {
      for (const code_verifier of ['short', 'x'.repeat(129), `${'a'.repeat(42)} `]) {
        const { code } = await h.seedCode(grant);
        await expectError(await token(codeParams(code, { code_verifier })), 400, 'invalid_grant');
      }
    });

    it('rejects a missing code_verifier with invalid_request', async () => {
      const { code } = await h.seedCode(grant);
      const p: Record<string, string> = codeParams(code);
      delete p.code_verifier;
      await expectError(await token(p), 400, 'invalid_request');
      expect(tokenCounts()).toEqual({ access: 0, refresh: 0 });
    });

    it('rejects a redirect_uri mismatch with invalid_grant', async () => {
      for (const redirect_uri of ['http://127.0.0.1:1/callback', 'https://evil.example/cb', '']) {
        const { code } = await h.seedCode(grant);
        await expectError(await token(codeParams(code, { redirect_uri })), 400, 'invalid_grant');
      }
      expect(tokenCounts()).toEqual({ access: 0, refresh: 0 });
    });

    it('rejects another client\'s code with invalid_grant', async () => {
      const other = await h.seedClient({ metadata: { redirect_uris: [CLIENT_REDIRECT], token_endpoint_auth_method: 'none' } });
      const { code } = await h.seedCode(grant);
      await expectError(await token(codeParams(code, { client_id: other.clientId })), 400, 'invalid_grant');
      expect(tokenCounts()).toEqual({ access: 0, refresh: 0 });
    });

    it('rejects a resource mismatch with invalid_target', async () => {
      const { code } = await h.seedCode(grant);
      await expectError(await token(codeParams(code, { resource: RESOURCE_B })), 400, 'invalid_target');
      const c2 = await h.seedCode(grant);
      await expectError(await token(codeParams(c2.code, { resource: 'https://other.example/mcp/a' })), 400, 'invalid_target');
      expect(tokenCounts()).toEqual({ access: 0, refresh: 0 });
    });

    it('rejects a code of a revoked grant with invalid_grant', async () => {
      const revoked = await h.seedGrant(client, { status: 'revoked', statusReason: 'admin_revoked', revokedAt: h.clock.now });
      const { code } = await h.seedCode(revoked);
      await expectError(await token(codeParams(code)), 400, 'invalid_grant');
      expect(tokenCounts()).toEqual({ access: 0, refresh: 0 });
    });

    it('rejects a code whose grant was revoked after it was issued with invalid_grant', async () => {
      const { code } = await h.seedCode(grant);
      await h.store.grants.revoke(grant.id, 'admin_revoked', h.clock.now);
      await expectError(await token(codeParams(code)), 400, 'invalid_grant');
      expect(tokenCounts()).toEqual({ access: 0, refresh: 0 });
    });
  });

  describe('refresh_token', () => {
    let grantB: GrantRecord;
    beforeEach(async () => {
      grantB = await h.seedGrant(client, { server: 'b', scopes: ['b:read', 'b:write'] });
    });
    const refreshParams = (refresh_token: string, over: Record<string, string> = {}) => ({ grant_type: 'refresh_token', refresh_token, client_id: client.clientId, ...over });

    it('rotates: a new pair for the same grant and family; the new refresh token works', async () => {
      const { refresh, familyId } = await h.seedTokens(grantB);
      const next = await expectTokens(await token(refreshParams(refresh)));
      expect(next.refresh_token).not.toBe(refresh);
      expect(next.scope).toBe('b:read b:write');
      const stored = (await h.store.tokens.findRefresh(sha256Hex(next.refresh_token)))!;
      expect(stored).toMatchObject({ grantId: grantB.id, familyId, resource: RESOURCE_B, usedAt: null, revokedAt: null });
      expect((await h.store.tokens.findRefresh(sha256Hex(refresh)))?.usedAt).toBe(h.clock.now);
      h.clock.now += 100;
      await expectTokens(await token(refreshParams(next.refresh_token)));
      expect(await h.events('token.refreshed')).toHaveLength(2);
    });

    it('still honours the previous refresh token within the grace window', async () => {
      const { refresh } = await h.seedTokens(grantB);
      const first = await expectTokens(await token(refreshParams(refresh)));
      h.clock.now += 30; // refreshGraceSeconds default
      const again = await expectTokens(await token(refreshParams(refresh)));
      expect(again.refresh_token).not.toBe(first.refresh_token);
      // Nothing was revoked.
      expect((await h.store.tokens.findRefresh(sha256Hex(first.refresh_token)))?.revokedAt).toBeNull();
      expect(await h.events('refresh.replay_detected')).toHaveLength(0);
      const [latest, earliest] = await h.events('token.refreshed'); // newest first
      expect(earliest?.detail.grace).toBe(false);
      expect(latest?.detail.grace).toBe(true);
    });

    it('rejects a replay beyond the grace window with invalid_grant, revokes the whole family, and records refresh.replay_detected', async () => {
      const { refresh, access, familyId } = await h.seedTokens(grantB);
      const next = await expectTokens(await token(refreshParams(refresh)));
      h.clock.now += 31;
      await expectError(await token(refreshParams(refresh)), 400, 'invalid_grant');
      // The newest refresh token fails too, and every access token of the family is revoked.
      await expectError(await token(refreshParams(next.refresh_token)), 400, 'invalid_grant');
      expect((await h.store.tokens.findAccess(sha256Hex(access)))?.revokedAt).toBe(h.clock.now);
      expect((await h.store.tokens.findAccess(sha256Hex(next.access_token)))?.revokedAt).toBe(h.clock.now);
      const [event] = await h.events('refresh.replay_detected');
      expect(event).toMatchObject({ outcome: 'failure', grantId: grantB.id });
      expect(event?.detail).toMatchObject({ family_id: familyId, refresh_fp: fingerprint(refresh), used_seconds_ago: 31 });
      expect(JSON.stringify(event)).not.toContain(refresh);
    });

    it('rejects a wider scope with invalid_scope and leaves the refresh token unused', async () => {
      const { refresh } = await h.seedTokens(grantB, { scopes: ['b:read'] });
      await expectError(await token(refreshParams(refresh, { scope: 'b:read b:write' })), 400, 'invalid_scope');
      await expectError(await token(refreshParams(refresh, { scope: 'mcp' })), 400, 'invalid_scope');
      expect((await h.store.tokens.findRefresh(sha256Hex(refresh)))?.usedAt).toBeNull();
      expect(tokenCounts()).toEqual({ access: 1, refresh: 1 });
    });

    it('accepts a narrower scope: the access token narrows, the new refresh token keeps the original scope (RFC 6749 §6)', async () => {
      const { refresh } = await h.seedTokens(grantB);
      const narrow = await expectTokens(await token(refreshParams(refresh, { scope: 'b:read' })));
      expect(narrow.scope).toBe('b:read');
      expect((await h.store.tokens.findAccess(sha256Hex(narrow.access_token)))?.scopes).toEqual(['b:read']);
      expect((await h.store.tokens.findRefresh(sha256Hex(narrow.refresh_token)))?.scopes).toEqual(['b:read', 'b:write']);
      // So a later refresh can ask for the whole original scope again.
      const full = await expectTokens(await token(refreshParams(narrow.refresh_token)));
      expect(full.scope).toBe('b:read b:write');
    });

    it('rejects an expired refresh token with invalid_grant', async () => {
      const { refresh } = await h.seedTokens(grantB, { refreshExpiresAt: h.clock.now + 10 });
      h.clock.now += 10;
      await expectError(await token(refreshParams(refresh)), 400, 'invalid_grant');
      expect((await h.store.tokens.findRefresh(sha256Hex(refresh)))?.usedAt).toBeNull();
    });

    it('rejects another client\'s refresh token with invalid_grant and does not consume it', async () => {
      const other = await h.seedClient({ metadata: { redirect_uris: [CLIENT_REDIRECT], token_endpoint_auth_method: 'none' } });
      const { refresh } = await h.seedTokens(grantB);
      await expectError(await token(refreshParams(refresh, { client_id: other.clientId })), 400, 'invalid_grant');
      expect((await h.store.tokens.findRefresh(sha256Hex(refresh)))?.usedAt).toBeNull();
      expect(await h.events('refresh.replay_detected')).toHaveLength(0);
      await expectTokens(await token(refreshParams(refresh)));
    });

    it('rejects an unknown refresh token with invalid_grant', async () => {
      await expectError(await token(refreshParams('kh_rt_unknown')), 400, 'invalid_grant');
    });

    it('rejects a missing refresh_token with invalid_request', async () => {
      await expectError(await token({ grant_type: 'refresh_token', client_id: client.clientId }), 400, 'invalid_request');
    });

    it('rejects a refresh token of a revoked grant with invalid_grant', async () => {
      const { refresh } = await h.seedTokens(grantB);
      await h.store.grants.revoke(grantB.id, 'admin_revoked', h.clock.now);
      await expectError(await token(refreshParams(refresh)), 400, 'invalid_grant');
    });

    it('rejects a refresh token for another resource with invalid_target', async () => {
      const { refresh } = await h.seedTokens(grantB);
      await expectError(await token(refreshParams(refresh, { resource: RESOURCE_A })), 400, 'invalid_target');
      await expectError(await token(refreshParams(refresh, { resource: 'https://other.example/' })), 400, 'invalid_target');
      expect((await h.store.tokens.findRefresh(sha256Hex(refresh)))?.usedAt).toBeNull();
      await expectTokens(await token(refreshParams(refresh, { resource: `${RESOURCE_B}/` })));
    });

    it('rejects an invalid scope string with invalid_scope', async () => {
      const { refresh } = await h.seedTokens(grantB);
      await expectError(await token(refreshParams(refresh, { scope: 'b:read\\' })), 400, 'invalid_scope');
    });
  });
});
