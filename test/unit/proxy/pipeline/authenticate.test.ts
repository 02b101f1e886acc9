import { describe, expect, it } from 'vitest';
import { authenticate } from '../../../../src/proxy/pipeline/authenticate.js';
import { sha256Hex } from '../../../../src/store/crypto/hash.js';
import type { AccessTokenLookup } from '../../../../src/store/types.js';
import type { McpRequest } from '../../../../src/proxy/pipeline/mcp-request.js';
import { accessToken, authenticatedRequest, NOW, PUBLIC_URL, stepApp } from './step-app.js';

const PRM = `${PUBLIC_URL}/.well-known/oauth-protected-resource/mcp/demo`;
const TOKEN = 'kh_at_presented';

function setup(found: AccessTokenLookup | undefined) {
  const looked: string[] = [];
  const store = { tokens: { findAccess: async (hash: string) => (looked.push(hash), found) } };
  // The seed is the request as resolve-server leaves it: no token, no grant.
  const app = stepApp(authenticate({ store, clock: () => NOW }), () => ({ ...authenticatedRequest(), token: undefined, grant: undefined }));
  const call = (authorization?: string) => app.request('/mcp/demo', { method: 'POST', headers: authorization ? { authorization } : {} });
  return { ...app, looked, call };
}

async function expectRefused(res: Response, description: string) {
  expect(res.status).toBe(401);
  expect(res.headers.get('www-authenticate')).toBe(`Bearer error="invalid_token", error_description="${description}", resource_metadata="${PRM}", scope="read write"`);
  expect(await res.json()).toEqual({ error: 'invalid_token', error_description: description });
}

describe('authenticate', () => {
  it('rejects a request without a token with 401 and a challenge without error, without a store read', async () => {
    const { call, reached, looked } = setup(accessToken());
    const res = await call();
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(`Bearer resource_metadata="${PRM}", scope="read write"`);
    expect(await res.json()).toEqual({ error: 'invalid_token', error_description: 'no access token' });
    expect(reached).toHaveLength(0);
    expect(looked).toHaveLength(0);
  });

  it('rejects an Authorization header that is not a Bearer token', async () => {
    const { call, reached } = setup(accessToken());
    await expectRefused(await call(`Basic ${Buffer.from('a:b').toString('base64')}`), 'the Authorization header is not a Bearer token');
    expect(reached).toHaveLength(0);
  });

  it('looks the token up by its SHA-256 only', async () => {
    const { call, looked } = setup(accessToken());
    await call(`Bearer ${TOKEN}`);
    expect(looked).toEqual([sha256Hex(TOKEN)]);
  });

  it.each([
    ['an unknown token', undefined, 'the access token is unknown'],
    ['a revoked token', accessToken({ revokedAt: NOW - 1 }), 'the access token has been revoked'],
    ['an expired token', accessToken({ expiresAt: NOW }), 'the access token has expired'],
    ['a token minted for another resource', accessToken({ resource: `${PUBLIC_URL}/mcp/other` }), 'the access token was issued for another resource'],
    ['a token of a grant on another server', accessToken({ server: 'other' }), 'the access token was issued for another resource'],
    ['a token of a revoked grant', accessToken({ grantStatus: 'revoked' }), 'the grant has been revoked'],
  ] as const)('rejects %s with 401 invalid_token', async (_what, found, description) => {
    const { call, reached } = setup(found);
    await expectRefused(await call(`Bearer ${TOKEN}`), description);
    expect(reached).toHaveLength(0);
  });

  it('puts the checked token and its grant on the context', async () => {
    const token = accessToken({ scopes: ['read', 'write'] });
    const { call, reached } = setup(token);
    expect((await call(`bearer ${TOKEN}`)).status).toBe(200);
    expect(reached[0]!.token).toBe(token);
    expect(reached[0]!.grant).toEqual({ id: 'g_1', server: 'demo', clientId: 'c_1', subject: 'user-1', scopes: ['read', 'write'], personId: null });
  });

  it('checks its options when built', () => {
    expect(() => authenticate(undefined as never)).toThrow(TypeError);
    expect(() => authenticate({ store: {} as never, clock: () => NOW })).toThrow(/store/);
    expect(() => authenticate({ store: { tokens: { findAccess: async () => undefined } }, clock: undefined as never })).toThrow(/clock/);
  });
});

describe('authenticate › refusal reasons', () => {
  it.each([
    ['no header', undefined, undefined, 'missing_token'],
    ['not Bearer', accessToken(), 'Basic eDp5', 'invalid_token'],
    ['unknown', undefined, `Bearer ${TOKEN}`, 'invalid_token'],
    ['revoked token', accessToken({ revokedAt: NOW - 1 }), `Bearer ${TOKEN}`, 'invalid_token'],
    ['expired', accessToken({ expiresAt: NOW }), `Bearer ${TOKEN}`, 'expired_token'],
    ['other audience', accessToken({ resource: `${PUBLIC_URL}/mcp/other` }), `Bearer ${TOKEN}`, 'wrong_audience'],
    ['revoked grant', accessToken({ grantStatus: 'revoked' }), `Bearer ${TOKEN}`, 'grant_revoked'],
  ] as const)('%s → %s, told to onRefused and put on the request as the denial', async (_what, found, authorization, reason) => {
    const told: string[] = [];
    let seen: McpRequest | undefined;
    const store = { tokens: { findAccess: async () => found } };
    const { app } = stepApp(authenticate({ store, clock: () => NOW, onRefused: (r) => told.push(r) }), () => {
      seen = { ...authenticatedRequest(), token: undefined, grant: undefined };
      return seen;
    });
    const res = await app.request('/mcp/demo', { method: 'POST', headers: authorization ? { authorization } : {} });
    expect(res.status).toBe(401);
    expect(told).toEqual([reason]);
    expect(seen!.denial).toEqual({ reason });
  });

  it('tells nothing for an accepted token, and a throwing observer does not break a refusal', async () => {
    const told: string[] = [];
    const ok = stepApp(authenticate({ store: { tokens: { findAccess: async () => accessToken() } }, clock: () => NOW, onRefused: (r) => told.push(r) }), () => ({ ...authenticatedRequest(), token: undefined, grant: undefined }));
    expect((await ok.app.request('/mcp/demo', { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    expect(told).toEqual([]);
    const throwing = stepApp(authenticate({ store: { tokens: { findAccess: async () => undefined } }, clock: () => NOW, onRefused: () => { throw new Error('x'); } }), () => ({ ...authenticatedRequest(), token: undefined, grant: undefined }));
    expect((await throwing.app.request('/mcp/demo', { method: 'POST' })).status).toBe(401);
  });
});
