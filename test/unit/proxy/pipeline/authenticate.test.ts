import { describe, expect, it } from 'vitest';
import { authenticate } from '../../../../src/proxy/pipeline/authenticate.js';
import { sha256Hex } from '../../../../src/store/crypto/hash.js';
import type { AccessTokenLookup } from '../../../../src/store/types.js';
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
    expect(reached[0]!.grant).toEqual({ id: 'g_1', server: 'demo', clientId: 'c_1', subject: 'user-1', scopes: ['read', 'write'] });
  });

  it('checks its options when built', () => {
    expect(() => authenticate(undefined as never)).toThrow(TypeError);
    expect(() => authenticate({ store: {} as never, clock: () => NOW })).toThrow(/store/);
    expect(() => authenticate({ store: { tokens: { findAccess: async () => undefined } }, clock: undefined as never })).toThrow(/clock/);
  });
});
