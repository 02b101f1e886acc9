import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { mcpCors } from '../../../src/proxy/cors.js';
import { publicCors } from '../../../src/http/cors.js';

// docs/client-requirements.md F.30, plus the W3C Trace Context headers keyhole forwards upstream (src/proxy/request-headers.ts).
const ALLOW_HEADERS = 'Authorization, Content-Type, Accept, Mcp-Session-Id, MCP-Protocol-Version, Last-Event-ID, Mcp-Method, Mcp-Name, traceparent, tracestate';
const EXPOSE_HEADERS = 'Mcp-Session-Id, WWW-Authenticate, MCP-Protocol-Version';

/** An MCP route behind CORS, then an auth check that refuses everything without `Bearer good`. */
function mcpApp() {
  const app = new Hono();
  app.use('/mcp/*', mcpCors({ publicOrigin: 'https://kh.example.com', allowedOrigins: ['http://localhost:6274'] }));
  app.use('/mcp/*', async (c, next) => {
    if (c.req.header('authorization') !== 'Bearer good') {
      return c.json({ error: 'invalid_token' }, 401, { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
    }
    await next();
  });
  app.post('/mcp/:server', (c) => c.json({ jsonrpc: '2.0', result: {}, id: 1 }, 200, { 'Mcp-Session-Id': 's1' }));
  // A route that builds its Response by hand (drops headers prepared with c.header()).
  app.post('/mcp/raw/x', () => new Response('raw', { headers: { Vary: 'Accept' } }));
  return app;
}

describe('mcpCors', () => {
  it('answers an allowed origin with the exact CORS headers', async () => {
    const res = await mcpApp().request('/mcp/github', {
      method: 'POST',
      headers: { Origin: 'http://localhost:6274', Authorization: 'Bearer good' },
      body: '{}',
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('http://localhost:6274');
    expect(res.headers.get('access-control-expose-headers')).toBe(EXPOSE_HEADERS);
    expect(res.headers.get('vary')).toBe('Origin');
    expect(res.headers.get('mcp-session-id')).toBe('s1');
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it('accepts the public origin itself', async () => {
    const res = await mcpApp().request('/mcp/github', {
      method: 'POST',
      headers: { Origin: 'https://kh.example.com', Authorization: 'Bearer good' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://kh.example.com');
  });

  it('puts the CORS headers on 401 challenges so browsers can read WWW-Authenticate', async () => {
    const res = await mcpApp().request('/mcp/github', { method: 'POST', headers: { Origin: 'http://localhost:6274' } });
    expect(res.status).toBe(401);
    expect(res.headers.get('access-control-allow-origin')).toBe('http://localhost:6274');
    expect(res.headers.get('access-control-expose-headers')).toBe(EXPOSE_HEADERS);
    expect(res.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
  });

  it('adds the headers to a response the route built by hand', async () => {
    const res = await mcpApp().request('/mcp/raw/x', {
      method: 'POST',
      headers: { Origin: 'http://localhost:6274', Authorization: 'Bearer good' },
    });
    expect(await res.text()).toBe('raw');
    expect(res.headers.get('access-control-allow-origin')).toBe('http://localhost:6274');
    expect(res.headers.get('access-control-expose-headers')).toBe(EXPOSE_HEADERS);
    expect(res.headers.get('vary')).toBe('Accept, Origin');
  });

  it.each([
    ['an unknown origin', 'https://evil.example'],
    ['a look-alike with another port', 'https://kh.example.com:8443'],
    ['another scheme', 'http://kh.example.com'],
    ['a trailing slash', 'https://kh.example.com/'],
    ['the opaque origin', 'null'],
  ])('refuses %s with 403 before authentication', async (_label, origin) => {
    const res = await mcpApp().request('/mcp/github', {
      method: 'POST',
      headers: { Origin: origin, Authorization: 'Bearer good' },
      body: '{}',
    });
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ jsonrpc: '2.0', error: { code: -32000, message: 'invalid_origin' }, id: null });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('refuses a bad origin on a preflight too', async () => {
    const res = await mcpApp().request('/mcp/github', { method: 'OPTIONS', headers: { Origin: 'https://evil.example' } });
    expect(res.status).toBe(403);
  });

  it('accepts requests without an Origin (non-browser clients) and adds no Allow-Origin', async () => {
    const res = await mcpApp().request('/mcp/github', { method: 'POST', headers: { Authorization: 'Bearer good' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(res.headers.get('vary')).toBe('Origin');
  });

  it('answers an OPTIONS preflight 204 without authentication', async () => {
    const res = await mcpApp().request('/mcp/github', {
      method: 'OPTIONS',
      headers: {
        Origin: 'http://localhost:6274',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'authorization, content-type, mcp-protocol-version',
      },
    });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
    expect(res.headers.get('access-control-allow-origin')).toBe('http://localhost:6274');
    expect(res.headers.get('access-control-allow-methods')).toBe('GET, POST, DELETE, OPTIONS');
    expect(res.headers.get('access-control-allow-headers')).toBe(ALLOW_HEADERS);
    expect(res.headers.get('access-control-max-age')).toBe('600');
    expect(res.headers.get('vary')).toBe('Origin');
    expect(res.headers.get('www-authenticate')).toBeNull();
  });

  it('answers OPTIONS without an Origin with 204 and no Allow-Origin', async () => {
    const res = await mcpApp().request('/mcp/github', { method: 'OPTIONS' });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(res.headers.get('access-control-allow-methods')).toBe('GET, POST, DELETE, OPTIONS');
  });

  it('canonicalises configured origins (default port, case)', async () => {
    const app = new Hono();
    app.use('*', mcpCors({ publicOrigin: 'HTTPS://KH.example.com:443', allowedOrigins: ['http://LOCALHOST:80/'] }));
    app.get('*', (c) => c.text('ok'));
    expect((await app.request('/', { headers: { Origin: 'https://kh.example.com' } })).status).toBe(200);
    expect((await app.request('/', { headers: { Origin: 'http://localhost' } })).status).toBe(200);
  });

  it.each([
    [{ publicOrigin: 'not a url', allowedOrigins: [] }],
    [{ publicOrigin: 'https://kh.example.com/mcp', allowedOrigins: [] }],
    [{ publicOrigin: 'ftp://kh.example.com', allowedOrigins: [] }],
    [{ publicOrigin: 'https://kh.example.com', allowedOrigins: ['*'] }],
    [{ publicOrigin: 'https://kh.example.com', allowedOrigins: ['https://a.example/path'] }],
  ])('refuses invalid options when built: %j', (opts) => {
    expect(() => mcpCors(opts)).toThrow(TypeError);
  });

  it('returns a named middleware', () => {
    expect(mcpCors({ publicOrigin: 'https://kh.example.com', allowedOrigins: [] }).name).toBe('mcpCorsMiddleware');
  });
});

describe('publicCors', () => {
  function publicApp() {
    const app = new Hono();
    app.use('*', publicCors());
    app.get('/.well-known/oauth-authorization-server', (c) => c.json({ issuer: 'https://kh.example.com' }));
    app.post('/token', (c) => c.json({ error: 'invalid_client' }, 401, { 'Cache-Control': 'no-store' }));
    return app;
  }

  it('sets Access-Control-Allow-Origin: * on metadata', async () => {
    const res = await publicApp().request('/.well-known/oauth-authorization-server', { headers: { Origin: 'https://any.example' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it('sets it on error responses of the OAuth endpoints too', async () => {
    const res = await publicApp().request('/token', { method: 'POST' });
    expect(res.status).toBe(401);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('answers an OPTIONS preflight 204 with the exact headers', async () => {
    const res = await publicApp().request('/.well-known/oauth-authorization-server', {
      method: 'OPTIONS',
      headers: { Origin: 'https://any.example', 'Access-Control-Request-Headers': 'mcp-protocol-version' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-methods')).toBe('GET, POST, OPTIONS');
    expect(res.headers.get('access-control-allow-headers')).toBe('Content-Type, Authorization, MCP-Protocol-Version');
    expect(res.headers.get('access-control-max-age')).toBe('600');
  });

  it('returns a named middleware', () => {
    expect(publicCors().name).toBe('publicCorsMiddleware');
  });
});
