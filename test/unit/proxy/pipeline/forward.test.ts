import { describe, expect, it } from 'vitest';
import { Transform } from 'node:stream';
import type { Context } from 'hono';
import { forward } from '../../../../src/proxy/pipeline/forward.js';
import type { Forwarder, ForwardAuth, ForwardTarget } from '../../../../src/proxy/forwarder.js';
import { GrantEndedError } from '../../../../src/upstream/errors.js';
import type { McpRequest } from '../../../../src/proxy/pipeline/mcp-request.js';
import { authenticatedRequest, demoRoute, stepApp } from './step-app.js';

const auth: ForwardAuth = { grantId: 'g_1', getAccessToken: async () => ({ header: 'Authorization', value: 'Bearer up' }) };

function setup(over: Partial<McpRequest>, behave: (c: Context) => Promise<Response>) {
  const seen: Array<{ target: ForwardTarget; auth: ForwardAuth; body: Buffer | null }> = [];
  const forwarder: Pick<Forwarder, 'forward'> = {
    async forward(c, target, a, body) {
      seen.push({ target, auth: a, body });
      return behave(c as unknown as Context);
    },
  };
  const app = stepApp(forward({ forwarder }), () => authenticatedRequest({ credential: auth, ...over }));
  app.app.onError((e, c) => c.json({ onError: e.message }, 500));
  return { ...app, seen };
}

describe('forward', () => {
  it('forwards with the route\'s target, the credential and the body, and answers what the forwarder answers', async () => {
    const { request, seen, reached } = setup({ body: Buffer.from('{"x":1}') }, async (c) => c.text('from upstream', 202));
    const res = await request('/mcp/demo', { method: 'POST' });
    expect(res.status).toBe(202);
    expect(await res.text()).toBe('from upstream');
    expect(seen).toEqual([{ target: demoRoute.target, auth, body: Buffer.from('{"x":1}') }]);
    expect(reached).toHaveLength(0); // the last step: nothing runs after it
  });

  it('adds the tools/list filter to the target when one is set', async () => {
    const transformResponse = () => new Transform();
    const { request, seen } = setup({ transformResponse }, async (c) => c.body(null, 204));
    await request('/mcp/demo', { method: 'POST' });
    expect(seen[0]!.target).toEqual({ ...demoRoute.target, transformResponse });
    expect(demoRoute.target).not.toHaveProperty('transformResponse');
  });

  it('answers a credential failure while forwarding by the credential step\'s rules', async () => {
    const { request } = setup({}, async () => {
      throw new GrantEndedError('g_1', 'invalid_grant');
    });
    const res = await request('/mcp/demo', { method: 'GET' });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(demoRoute.endedChallenge);
  });

  it('lets any other error through to onError', async () => {
    const { request } = setup({}, async () => {
      throw new Error('boom');
    });
    const res = await request('/mcp/demo', { method: 'GET' });
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ onError: 'boom' });
  });

  it('refuses to run before the credential step', async () => {
    const { request } = setup({ credential: undefined }, async (c) => c.body(null, 204));
    expect(await (await request('/mcp/demo', { method: 'GET' })).json()).toEqual({ onError: 'mcp pipeline: the upstream credential is not set; the credential step must run before this one' });
  });

  it('checks its options when built', () => {
    expect(() => forward(undefined as never)).toThrow(TypeError);
    expect(() => forward({ forwarder: {} as never })).toThrow(/forwarder/);
  });
});
