/**
 * mcp-route.ts assembles the steps in order; each refusal comes from the first step that applies, and nothing a
 * step refuses reaches the upstream. Over real sockets (mcp-harness.ts), with the real steps.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startMcpHarness, type McpHarness } from '../mcp-harness.js';

const call = (id: unknown, name: string) => JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: {} } });

// Both front doors run the same steps: the plain dispatcher keyhole.listen() uses, and Hono's route.
describe.each(['dispatch', 'hono'] as const)('mcpRoutes step order (via %s)', (via) => {
  let h: McpHarness;
  let token: string;
  beforeAll(async () => {
    h = await startMcpHarness({ via });
    token = (await h.grant('scoped', ['read'])).token;
  });
  afterAll(async () => h?.close());
  beforeEach(() => {
    h.upstreamSeen.length = 0;
  });

  const json = (body: string) => JSON.parse(body) as { error: { code: number } };

  it('resolves the server before authenticating: an unknown server is 404 even without a token', async () => {
    const r = await h.call('POST', 'nope', { 'content-type': 'application/json' }, call(1, 'echo'));
    expect(r.status).toBe(404);
    expect(json(r.body).error.code).toBe(-32601);
  });

  it('authenticates before reading the body: an oversize body without a token is 401, not 413', async () => {
    const r = await h.call('POST', 'scoped', { 'content-type': 'application/json' }, Buffer.alloc(4 * 1_048_576 + 1, 0x20));
    expect(r.status).toBe(401);
    expect(r.headers['www-authenticate']).toMatch(/^Bearer resource_metadata=/);
  });

  it('compares headers with the body before the tool policy: a lying header is 400 HEADER_MISMATCH, not 403', async () => {
    const r = await h.call('POST', 'scoped', { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'mcp-method': 'tools/list' }, call(2, 'write_note'));
    expect(r.status).toBe(400);
    expect(json(r.body).error.code).toBe(-32020);
  });

  it('applies the tool policy before the credential and the forwarder: nothing reaches the upstream', async () => {
    const r = await h.call('POST', 'scoped', { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, call(3, 'write_note'));
    expect(r.status).toBe(403);
    expect(h.upstreamSeen).toHaveLength(0);
  });

  it('forwards what every step let through with the upstream credential, never keyhole\'s token', async () => {
    const r = await h.call('POST', 'scoped', { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, call(4, 'echo'));
    expect(r.status).toBe(200);
    expect(h.upstreamSeen).toHaveLength(1);
    expect(h.upstreamSeen[0]!.headers.authorization).toBe('Bearer upstream-access-value');
    expect(h.upstreamSeen[0]!.body).toBe(call(4, 'echo'));
  });

  it('refuses two Authorization fields (read as one comma-joined value, as a web Headers would): 401, nothing upstream', async () => {
    const r = await h.call('POST', 'scoped', ['Authorization', `Bearer ${token}`, 'Authorization', 'Bearer other', 'Content-Type', 'application/json'], call(5, 'echo'));
    expect(r.status).toBe(401);
    expect(r.headers['www-authenticate']).toMatch(/error="invalid_token"/);
    expect(h.upstreamSeen).toHaveLength(0);
  });

  it('answers a preflight with 204 and CORS headers before authentication, and refuses a foreign Origin with 403', async () => {
    const pre = await h.call('OPTIONS', 'scoped', { origin: 'http://127.0.0.1:8787', 'access-control-request-method': 'POST' }, '');
    expect(pre.status).toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBe('http://127.0.0.1:8787');
    expect(pre.headers['access-control-allow-methods']).toBe('GET, POST, DELETE, OPTIONS');
    const refused = await h.call('POST', 'scoped', { origin: 'https://evil.example', authorization: `Bearer ${token}`, 'content-type': 'application/json' }, call(6, 'echo'));
    expect(refused.status).toBe(403);
    expect(refused.headers.vary).toBe('Origin');
    expect(h.upstreamSeen).toHaveLength(0);
  });

  it('puts the CORS headers of an allowed Origin on a refusal and on a forwarded answer', async () => {
    const origin = { origin: 'http://127.0.0.1:8787', 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    const refused = await h.call('POST', 'scoped', origin, call(7, 'echo'));
    expect(refused.status).toBe(401);
    expect(refused.headers['access-control-allow-origin']).toBe('http://127.0.0.1:8787');
    expect(refused.headers['access-control-expose-headers']).toMatch(/WWW-Authenticate/);
    const ok = await h.call('POST', 'scoped', { ...origin, authorization: `Bearer ${token}` }, call(8, 'echo'));
    expect(ok.status).toBe(200);
    expect(ok.headers['access-control-allow-origin']).toBe('http://127.0.0.1:8787');
    expect(ok.headers.vary).toMatch(/Origin/);
  });

  it('answers other methods with 405 and Allow', async () => {
    const r = await h.call('PUT', 'scoped', { authorization: `Bearer ${token}` }, '');
    expect(r.status).toBe(405);
    expect(r.headers.allow).toBe('GET, POST, DELETE, OPTIONS');
    expect(json(r.body).error.code).toBe(-32012);
  });
});
