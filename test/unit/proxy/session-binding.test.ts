/**
 * Issue 9 F8 (MCP-AUTH-REQUIREMENTS E.24): an MCP session belongs to the grant whose request the upstream
 * minted it for. Another grant presenting its id gets 404 (as an unknown session) on POST, GET and DELETE, and
 * the upstream sees nothing. Revoking the owner releases the binding without opening the session to others.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startMcpHarness, type McpHarness } from './mcp-harness.js';
import { createSessionBindings } from '../../../src/proxy/session-binding.js';

const INIT = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } });
const PING = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'ping' });
const NOT_FOUND = { jsonrpc: '2.0', error: { code: -32010, message: 'Session not found' }, id: null };

describe('MCP sessions bound to grants', () => {
  let h: McpHarness;
  let alice: { grant: { id: string }; token: string };
  let bob: { grant: { id: string }; token: string };
  let minted = 0;
  beforeAll(async () => {
    h = await startMcpHarness();
    h.setUpstream((req, res) => {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (req.body.includes('"initialize"')) headers['mcp-session-id'] = `sess-${++minted}`;
      res.writeHead(200, headers);
      res.end(req.method === 'POST' ? '{"jsonrpc":"2.0","id":1,"result":{}}' : '');
    });
  });
  afterAll(async () => h?.close());
  beforeEach(async () => {
    alice = await h.grant('plain');
    bob = await h.grant('plain');
  });

  const as = (who: { token: string }, extra: string[] = []) => ['Authorization', `Bearer ${who.token}`, 'Content-Type', 'application/json', 'Accept', 'application/json, text/event-stream', ...extra];
  async function aliceSession(): Promise<string> {
    const r = await h.call('POST', 'plain', as(alice), INIT);
    expect(r.status).toBe(200);
    return r.headers['mcp-session-id'] as string;
  }

  it('rejects another grant\'s session id on POST, GET and DELETE with 404, and the upstream sees nothing', async () => {
    const sid = await aliceSession();
    h.upstreamSeen.length = 0;
    for (const [method, body] of [['POST', PING], ['GET', undefined], ['DELETE', undefined]] as const) {
      const r = await h.call(method, 'plain', as(bob, ['Mcp-Session-Id', sid]), body);
      expect(r.status, method).toBe(404);
      expect(JSON.parse(r.body), method).toEqual(NOT_FOUND);
    }
    expect(h.upstreamSeen).toHaveLength(0);
    // The owner keeps using it.
    const own = await h.call('POST', 'plain', as(alice, ['Mcp-Session-Id', sid]), PING);
    expect(own.status).toBe(200);
    expect(h.upstreamSeen.map((s) => s.headers['mcp-session-id'])).toEqual([sid]);
  });

  it('rejects a foreign session id hidden in a second Mcp-Session-Id field or a comma list', async () => {
    const sid = await aliceSession();
    h.upstreamSeen.length = 0;
    expect((await h.call('POST', 'plain', as(bob, ['Mcp-Session-Id', 'mine', 'Mcp-Session-Id', sid]), PING)).status).toBe(404);
    expect((await h.call('POST', 'plain', as(bob, ['Mcp-Session-Id', `mine, ${sid}`]), PING)).status).toBe(404);
    expect(h.upstreamSeen).toHaveLength(0);
  });

  it('forwards a session id keyhole does not know (the upstream owns its sessions)', async () => {
    h.upstreamSeen.length = 0;
    expect((await h.call('POST', 'plain', as(bob, ['Mcp-Session-Id', 'never-seen']), PING)).status).toBe(200);
    expect(h.upstreamSeen).toHaveLength(1);
  });

  it('forgets a session after its owner\'s DELETE succeeded', async () => {
    const sid = await aliceSession();
    expect((await h.call('DELETE', 'plain', as(alice, ['Mcp-Session-Id', sid]))).status).toBe(200);
    expect((await h.call('POST', 'plain', as(bob, ['Mcp-Session-Id', sid]), PING)).status).toBe(200);
  });

  it('releases a revoked grant\'s sessions, which stay refused to every other grant', async () => {
    const sid = await aliceSession();
    await h.keyhole.revoker.revoke(alice.grant.id, 'test', 'admin');
    h.upstreamSeen.length = 0;
    const r = await h.call('GET', 'plain', as(bob, ['Mcp-Session-Id', sid]));
    expect(r.status).toBe(404);
    expect(h.upstreamSeen).toHaveLength(0);
  });
});

describe('createSessionBindings', () => {
  it('rejects a second owner for a bound id, and evicts the least recently used past the cap', () => {
    const s = createSessionBindings(2);
    s.bind('a', 'g1');
    s.bind('a', 'g2');
    expect(s.owner('a')).toBe('g1');
    s.bind('b', 'g1');
    expect(s.owner('a')).toBe('g1'); // a is now the most recent
    s.bind('c', 'g2');
    expect(s.size).toBe(2);
    expect(s.owner('b')).toBeUndefined();
    expect(s.forgetGrant('g1')).toBe(1);
    expect(s.owner('a')).toBe(''); // retired: matches no grant
    expect(s.forgetGrant('g1')).toBe(0);
  });
});
