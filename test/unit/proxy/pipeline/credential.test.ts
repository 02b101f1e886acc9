import { describe, expect, it } from 'vitest';
import { Hono } from 'hono';
import { credential, credentialFailure } from '../../../../src/proxy/pipeline/credential.js';
import type { McpEnv } from '../../../../src/proxy/pipeline/mcp-request.js';
import type { CredentialGrant, UpstreamCredentialSource } from '../../../../src/upstream/credential-source.js';
import { GrantEndedError, UpstreamUnavailableError } from '../../../../src/upstream/errors.js';
import { authenticatedRequest, demoRoute, stepApp } from './step-app.js';

function source(value: string) {
  const calls: Array<[CredentialGrant, boolean]> = [];
  const s: UpstreamCredentialSource = { getCredential: async (grant, force) => (calls.push([grant, force]), { header: 'Authorization', value }) };
  return { s, calls };
}

describe('credential', () => {
  it('hands the forwarder the grant\'s upstream token from the token manager by default', async () => {
    const tm = source('Bearer upstream');
    const { request, reached } = stepApp(credential({ tokenManager: tm.s }), () => authenticatedRequest());
    expect((await request('/mcp/demo', { method: 'GET' })).status).toBe(200);
    const auth = reached[0]!.credential!;
    expect(auth.grantId).toBe('g_1');
    expect(tm.calls).toHaveLength(0); // fetched lazily, by the forwarder
    expect(await auth.getAccessToken(true)).toEqual({ header: 'Authorization', value: 'Bearer upstream' });
    expect(tm.calls).toEqual([[reached[0]!.grant, true]]);
  });

  it('uses the server\'s own credential source when it has one', async () => {
    const tm = source('Bearer upstream');
    const own = source('static-key');
    const { request, reached } = stepApp(credential({ tokenManager: tm.s, credentialSources: new Map([['demo', own.s]]) }), () => authenticatedRequest());
    await request('/mcp/demo', { method: 'GET' });
    expect((await reached[0]!.credential!.getAccessToken(false)).value).toBe('static-key');
    expect(tm.calls).toHaveLength(0);
  });

  it('checks its options when built', () => {
    expect(() => credential(undefined as never)).toThrow(TypeError);
    expect(() => credential({ tokenManager: {} as never })).toThrow(/tokenManager/);
    expect(() => credential({ tokenManager: source('x').s, credentialSources: {} as never })).toThrow(/credentialSources/);
  });
});

describe('credentialFailure', () => {
  const answer = (e: unknown) => {
    const app = new Hono<McpEnv>();
    app.get('/', (c) => credentialFailure(c, demoRoute, e) ?? c.text('not mine', 599 as never));
    return app.request('/');
  };

  it('answers an ended grant with 401 and keyhole\'s challenge, so the client re-authorizes', async () => {
    const res = await answer(new GrantEndedError('g_1', 'invalid_grant'));
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(demoRoute.endedChallenge);
    expect(await res.json()).toEqual({ error: 'invalid_token', error_description: 'the upstream authorization has ended; authorize again' });
  });

  it('answers an unavailable upstream authorization server with 502 UPSTREAM_AUTH_UNAVAILABLE, a timeout with 504', async () => {
    const down = await answer(new UpstreamUnavailableError('network'));
    expect(down.status).toBe(502);
    expect(((await down.json()) as { error: { code: number } }).error.code).toBe(-32008);
    const slow = await answer(new UpstreamUnavailableError('timeout'));
    expect(slow.status).toBe(504);
    expect(((await slow.json()) as { error: { code: number } }).error.code).toBe(-32009);
  });

  it('leaves other errors alone', async () => {
    expect((await answer(new TypeError('bug'))).status).toBe(599);
  });
});
