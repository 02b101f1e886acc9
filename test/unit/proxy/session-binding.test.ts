/**
 * Issue 9 F8 (MCP-AUTH-REQUIREMENTS E.24): an MCP session belongs to the grant whose request the upstream
 * minted it for. Another grant presenting its id gets 404 (as an unknown session) on POST, GET and DELETE, and
 * the upstream sees nothing. Revoking the owner releases the binding without opening the session to others.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startMcpHarness, type McpHarness } from './mcp-harness.js';
import { createSessionBindings, purgeSessionBindings, sessionKeyHash, SESSION_BINDING_TTL_MS } from '../../../src/proxy/session-binding.js';
import { openSqliteStore, type SqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import { sha256Hex } from '../../../src/store/crypto/hash.js';
import { sqliteConnection } from '../../helpers/sqlite-engine.js';

const U = 'https://mcp.example/mcp';
const T0 = 1_700_000_000_000;

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

describe('createSessionBindings (memory only)', () => {
  it('rejects a second owner for a bound id, and evicts the least recently used past the cap', async () => {
    const s = createSessionBindings(2);
    await s.bind(U, 'a', 'g1');
    await s.bind(U, 'a', 'g2');
    expect(await s.owner(U, 'a')).toBe('g1');
    await s.bind(U, 'b', 'g1');
    expect(await s.owner(U, 'a')).toBe('g1'); // a is now the most recent
    await s.bind(U, 'c', 'g2');
    expect(s.size).toBe(2);
    expect(await s.owner(U, 'b')).toBeUndefined();
    expect(await s.forgetGrant('g1')).toBe(1);
    expect(await s.owner(U, 'a')).toBe(''); // retired: matches no grant
    expect(await s.forgetGrant('g1')).toBe(0);
  });

  it('keys by upstream: the same id at two upstreams is two sessions', async () => {
    const s = createSessionBindings();
    await s.bind(U, 'a', 'g1');
    await s.bind(`${U}2`, 'a', 'g2');
    expect(await s.owner(U, 'a')).toBe('g1');
    expect(await s.owner(`${U}2`, 'a')).toBe('g2');
  });
});

/** Two instances = two bindings (two caches) on one database; SQLite in memory here, both engines in the e2e test. */
describe('createSessionBindings (shared through the store)', () => {
  const stores: SqliteStore[] = [];
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
  });
  function twoInstances(maxEntries = 100) {
    const store = openSqliteStore(':memory:');
    stores.push(store);
    let t = T0;
    const clock = { now: () => t, advance: (ms: number) => (t += ms) };
    const a = createSessionBindings({ store: store.mcpSessions, maxEntries, now: clock.now });
    const b = createSessionBindings({ store: store.mcpSessions, maxEntries, now: clock.now });
    return { store, a, b, clock };
  }

  it('a session bound on A is owned on B; stored only as the SHA-256 of upstream and id', async () => {
    const { store, a, b } = twoInstances();
    await a.bind(U, 'secret-session-id', 'g1');
    expect(await b.owner(U, 'secret-session-id')).toBe('g1');
    expect(b.size).toBe(1); // cached on B now
    const rows = sqliteConnection(store).prepare('SELECT * FROM mcp_sessions').all();
    expect(rows).toEqual([{ key_hash: sha256Hex(`${U} secret-session-id`), grant_id: 'g1', server: U, created_at_ms: T0, last_used_at_ms: T0 }]);
    expect(JSON.stringify(rows)).not.toContain('secret-session-id');
  });

  it('the stored server drops query and userinfo', async () => {
    const { store, a } = twoInstances();
    await a.bind('https://u:p@mcp.example/mcp?key=k', 's', 'g1');
    expect((await store.mcpSessions.find(sha256Hex('https://u:p@mcp.example/mcp?key=k s')))?.server).toBe('https://mcp.example/mcp');
  });

  it('insert if absent across instances: B cannot take an id A bound to another grant', async () => {
    const { a, b } = twoInstances();
    await a.bind(U, 's', 'g1');
    await b.bind(U, 's', 'g2');
    expect(await b.owner(U, 's')).toBe('g1');
    expect(await a.owner(U, 's')).toBe('g1');
  });

  it('an id evicted from the cache is still known (looked up in the database)', async () => {
    const { a } = twoInstances(1);
    await a.bind(U, 's1', 'g1');
    await a.bind(U, 's2', 'g2'); // evicts s1 from the cache
    expect(a.size).toBe(1);
    expect(await a.owner(U, 's1')).toBe('g1');
  });

  it('unknown everywhere: undefined (left to the upstream), asked again next time (no negative caching)', async () => {
    const { a, b } = twoInstances();
    expect(await b.owner(U, 's')).toBeUndefined();
    await a.bind(U, 's', 'g1');
    expect(await b.owner(U, 's')).toBe('g1');
  });

  it('a revocation on A retires the grant\'s sessions in the database; B, told through its revocation listener, refuses them too', async () => {
    const { store, a, b } = twoInstances();
    await a.bind(U, 's1', 'g1');
    await a.bind(U, 's2', 'g1');
    await a.bind(U, 's3', 'g2');
    expect(await b.owner(U, 's1')).toBe('g1'); // cached on B
    expect(await a.forgetGrant('g1')).toBe(2); // the revoking instance
    expect(await b.forgetGrant('g1')).toBe(0); // the notice on B: its cache, the rows are retired already
    for (const inst of [a, b]) {
      expect(await inst.owner(U, 's1')).toBe('');
      expect(await inst.owner(U, 's2')).toBe('');
      expect(await inst.owner(U, 's3')).toBe('g2');
    }
    const fresh = createSessionBindings({ store: store.mcpSessions }); // a third instance, cold cache
    expect(await fresh.owner(U, 's2')).toBe('');
    await fresh.bind(U, 's2', 'g3'); // nobody can claim a retired id
    expect(await fresh.owner(U, 's2')).toBe('');
  });

  it('forget (the owner\'s DELETE succeeded) removes the row', async () => {
    const { store, a, b } = twoInstances();
    await a.bind(U, 's', 'g1');
    await a.forget(U, 's');
    expect(await b.owner(U, 's')).toBeUndefined();
    expect(await store.mcpSessions.find(sessionKeyHash(U, 's'))).toBeUndefined();
  });

  it('writes a cached session\'s use at most hourly; purge drops bindings unused past the TTL', async () => {
    const { store, a, clock } = twoInstances();
    await a.bind(U, 'live', 'g1');
    await a.bind(U, 'idle', 'g1');
    clock.advance(30 * 60_000);
    await a.owner(U, 'live'); // cached, touched 30 min ago: no write
    expect((await store.mcpSessions.find(sessionKeyHash(U, 'live')))?.lastUsedAtMs).toBe(T0);
    clock.advance(31 * 60_000);
    await a.owner(U, 'live'); // over an hour: written (in the background)
    await new Promise((r) => setImmediate(r));
    expect((await store.mcpSessions.find(sessionKeyHash(U, 'live')))?.lastUsedAtMs).toBe(T0 + 61 * 60_000);
    expect(await purgeSessionBindings(store.mcpSessions, T0 + SESSION_BINDING_TTL_MS + 60 * 60_000)).toBe(1);
    expect(await store.mcpSessions.find(sessionKeyHash(U, 'idle'))).toBeUndefined();
    expect(await store.mcpSessions.find(sessionKeyHash(U, 'live'))).toBeDefined();
  });

  it('a database error on lookup propagates (never treated as unknown); a failed bind is still enforced on this instance', async () => {
    const { store, a } = twoInstances();
    await store.close();
    await expect(a.owner(U, 's')).rejects.toThrow();
    await a.bind(U, 's', 'g1');
    expect(await a.owner(U, 's')).toBe('g1');
  });
});
