import { describe, expect, it } from 'vitest';
import { resolveServer } from '../../../../src/proxy/pipeline/resolve-server.js';
import { PUBLIC_URL, routeOptions, stepApp } from './step-app.js';

describe('resolveServer', () => {
  it('rejects a server that is not configured with 404 NO_SUCH_SERVER, before any later step', async () => {
    const { request, reached } = stepApp(resolveServer(routeOptions));
    const res = await request('/mcp/nope', { method: 'POST', body: '{}' });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ jsonrpc: '2.0', error: { code: -32601, message: 'no such MCP server' }, id: null });
    expect(reached).toHaveLength(0);
  });

  it('puts the server, its route and the method on the context', async () => {
    const { request, reached } = stepApp(resolveServer(routeOptions));
    expect((await request('/mcp/demo', { method: 'DELETE' })).status).toBe(200);
    const req = reached[0]!;
    expect(req.server).toBe('demo');
    expect(req.method).toBe('DELETE');
    expect(req.body).toBeNull();
    expect(req.route.resource).toBe(`${PUBLIC_URL}/mcp/demo`);
    expect(req.route.prmUrl).toBe(`${PUBLIC_URL}/.well-known/oauth-protected-resource/mcp/demo`);
    expect(req.route.scope).toBe('read write');
    expect(req.route.endedChallenge).toBe(`Bearer error="invalid_token", error_description="the upstream authorization has ended", resource_metadata="${PUBLIC_URL}/.well-known/oauth-protected-resource/mcp/demo", scope="read write"`);
    expect(req.route.target).toEqual({ url: new URL('http://127.0.0.1:9000/mcp'), timeoutMs: 1234, challenge401: req.route.endedChallenge });
  });

  it('computes each route once, when built: two requests share it', async () => {
    const { request, reached } = stepApp(resolveServer(routeOptions));
    await request('/mcp/other', { method: 'GET' });
    await request('/mcp/other', { method: 'GET' });
    expect(reached[0]!.route).toBe(reached[1]!.route);
    expect(reached[0]).not.toBe(reached[1]);
  });

  it('checks its options when built', () => {
    expect(() => resolveServer(undefined as never)).toThrow(TypeError);
    expect(() => resolveServer({ ...routeOptions, prmUrl: undefined as never })).toThrow(/prmUrl/);
    expect(() => resolveServer({ ...routeOptions, servers: { bad: { upstream: 'not a url', upstreamTimeoutMs: 1 } } })).toThrow();
  });
});
