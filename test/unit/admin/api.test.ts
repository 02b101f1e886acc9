import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, T0, makeClient, makeGrant, startHarness, type Harness } from './harness.js';

describe('admin JSON API', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => h.close());

  describe('authentication', () => {
    it('answers 401 with a Bearer realm challenge without a token, on every endpoint', async () => {
      for (const [method, path] of [
        ['GET', '/admin/api/grants'],
        ['GET', '/admin/api/grants/g_x'],
        ['DELETE', '/admin/api/grants/g_x'],
        ['POST', '/admin/api/grants/revoke'],
        ['GET', '/admin/api/clients'],
        ['POST', '/admin/api/clients/c_x/block'],
        ['DELETE', '/admin/api/clients/c_x'],
        ['GET', '/admin/api/events'],
        ['GET', '/admin/api/events/export'],
        ['GET', '/admin/api/nothing'],
      ] as const) {
        const res = await h.api(path, { method, token: null });
        expect(res.status, `${method} ${path}`).toBe(401);
        expect(res.headers.get('www-authenticate')).toBe('Bearer realm="keyhole-admin"');
        expect(await res.json()).toMatchObject({ error: 'unauthorized' });
      }
    });

    it('refuses a wrong token with error="invalid_token", and a session cookie is no substitute', async () => {
      const res = await h.api('/admin/api/grants', { token: `${ADMIN_TOKEN}-not` });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="keyhole-admin", error="invalid_token"/);
      const basic = await h.request('/admin/api/grants', { headers: { authorization: `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}` } });
      expect(basic.status).toBe(401);
      const { cookie } = await h.signIn();
      expect((await h.request('/admin/api/grants', { cookie })).status).toBe(401);
    });

    it('rate-limits wrong tokens per address: 429 after 5, even for the right token, with Retry-After', async () => {
      for (let i = 0; i < 5; i++) expect((await h.api('/admin/api/grants', { token: `wrong-token-${i}` })).status).toBe(401);
      const res = await h.api('/admin/api/grants');
      expect(res.status).toBe(429);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await res.json()).toMatchObject({ error: 'too_many_requests' });
    });

    it('accepts the right token; responses are no-store', async () => {
      const res = await h.api('/admin/api/grants');
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-store');
    });
  });

  describe('grants', () => {
    it('lists with filters and paging, joined with client and upstream status, without token values', async () => {
      const client = makeClient({ metadata: { client_name: 'Cursor', redirect_uris: ['cursor://anysphere.cursor-retrieval/oauth/callback'] } });
      await h.store.clients.create(client);
      const g = makeGrant({ clientId: client.clientId, lastUsedAt: T0 + 5 });
      await h.store.grants.create(g);
      await h.store.upstreamCredentials.put({ grantId: g.id, accessToken: 'SEALED-ACCESS', accessExpiresAt: T0 + 600, refreshToken: 'SEALED-REFRESH', scopes: [], updatedAt: T0, refreshFailingSince: null });
      await h.store.grants.create(makeGrant({ subject: 'bob', server: 'other' }));
      const res = await h.api(`/admin/api/grants?client_id=${client.clientId}`);
      const text = await res.text();
      expect(text).not.toContain('SEALED');
      const body = JSON.parse(text) as { grants: unknown[]; total: number; limit: number; offset: number };
      expect(body).toMatchObject({ total: 1, limit: 50, offset: 0 });
      expect(body.grants[0]).toEqual({
        id: g.id,
        status: 'active',
        status_reason: null,
        revoked_at: null,
        subject: 'alice',
        subject_name: 'Alice Example',
        client: { client_id: client.clientId, client_name: 'Cursor', kind: 'dcr', redirect_hosts: ['anysphere.cursor-retrieval'], blocked_at: null, exists: true },
        server: 'demo',
        scopes: ['mcp:tools'],
        created_at: T0,
        last_used_at: T0 + 5,
        upstream_token: { status: 'valid', valid_until: T0 + 600, has_refresh_token: true },
        person_id: null,
        person: null,
      });
      expect(((await (await h.api('/admin/api/grants?server=other')).json()) as { total: number }).total).toBe(1);
      expect(((await (await h.api('/admin/api/grants?limit=1&offset=1')).json()) as { grants: unknown[] }).grants).toHaveLength(1);
      const bad = await h.api('/admin/api/grants?status=nope');
      expect(bad.status).toBe(400);
      expect(await bad.json()).toMatchObject({ error: 'invalid_request' });
    });

    it('gets one grant with its events; 404 for an unknown one', async () => {
      const g = makeGrant();
      await h.store.grants.create(g);
      await h.store.events.append({ at: T0, type: 'grant.created', grantId: g.id, clientId: g.clientId, server: 'demo', subject: 'alice', outcome: 'success', detail: {} });
      const res = await h.api(`/admin/api/grants/${g.id}`);
      const body = (await res.json()) as { grant: { id: string }; events: Array<{ type: string }>; events_total: number };
      expect(body.grant.id).toBe(g.id);
      expect(body.events.map((e) => e.type)).toEqual(['grant.created']);
      expect(body.events_total).toBe(1);
      const missing = await h.api('/admin/api/grants/g_missing');
      expect(missing.status).toBe(404);
      expect(await missing.json()).toMatchObject({ error: 'not_found' });
    });

    it('DELETE revokes one grant (actor admin:token), idempotently; 404 for an unknown one', async () => {
      const g = makeGrant();
      await h.store.grants.create(g);
      const res = await h.api(`/admin/api/grants/${g.id}`, { method: 'DELETE' });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ revoked: true, grant: { id: g.id, status: 'revoked', status_reason: 'admin_revoked', upstream_token: { status: 'revoked' } } });
      expect((await h.store.events.list({ grantId: g.id, type: 'grant.revoked' }))[0]?.detail).toEqual({ reason: 'admin_revoked', actor: 'admin:token' });
      expect(await (await h.api(`/admin/api/grants/${g.id}`, { method: 'DELETE' })).json()).toMatchObject({ revoked: false });
      expect((await h.api('/admin/api/grants/g_missing', { method: 'DELETE' })).status).toBe(404);
    });

    it('POST /grants/revoke: dry run counts, then ends exactly the filtered active grants', async () => {
      const a1 = makeGrant({ clientId: 'c_a' });
      const a2 = makeGrant({ clientId: 'c_a', subject: 'bob' });
      const b1 = makeGrant({ clientId: 'c_b' });
      for (const g of [a1, a2, b1]) await h.store.grants.create(g);
      const dry = (await (await h.api('/admin/api/grants/revoke', { json: { filter: { client_id: 'c_a' }, dry_run: true } })).json()) as { count: number; grant_ids: string[] };
      expect(dry.count).toBe(2);
      expect(dry.grant_ids.sort()).toEqual([a1.id, a2.id].sort());
      expect(await h.store.grants.count({ status: 'active' })).toBe(3);
      const res = await h.api('/admin/api/grants/revoke', { json: { filter: { client_id: 'c_a' } } });
      const body = (await res.json()) as { revoked: number; grant_ids: string[]; filter: unknown };
      expect(body.revoked).toBe(2);
      expect(body.filter).toEqual({ client_id: 'c_a' });
      expect(await Promise.all([a1, a2, b1].map(async (g) => (await h.store.grants.find(g.id))?.status))).toEqual(['revoked', 'revoked', 'active']);
    });

    it('POST /grants/revoke refuses empty, unknown or malformed filters and bodies (400)', async () => {
      await h.store.grants.create(makeGrant());
      for (const json of [{}, { filter: {} }, { filter: { status: 'active' } }, { filter: { client_id: 1 } }, { filter: 'c_a' }, { filter: { server: 'demo' }, extra: 1 }, { filter: { server: 'demo' }, dry_run: 'yes' }]) {
        const res = await h.api('/admin/api/grants/revoke', { json });
        expect(res.status, JSON.stringify(json)).toBe(400);
        expect(await res.json()).toMatchObject({ error: 'invalid_request' });
      }
      const notJson = await h.api('/admin/api/grants/revoke', { method: 'POST', body: 'filter=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expect(notJson.status).toBe(400);
      const broken = await h.api('/admin/api/grants/revoke', { method: 'POST', body: '{', headers: { 'content-type': 'application/json' } });
      expect(broken.status).toBe(400);
      const huge = await h.api('/admin/api/grants/revoke', { json: { filter: { subject: 'x'.repeat(20_000) } } });
      expect(huge.status).toBe(413);
      expect(await h.store.grants.count({ status: 'active' })).toBe(1);
    });
  });

  describe('clients', () => {
    it('lists clients with grant counts and last use', async () => {
      const c = makeClient({ metadata: { client_name: 'VS Code', redirect_uris: ['http://127.0.0.1:33418/cb'] } });
      await h.store.clients.create(c);
      await h.store.grants.create(makeGrant({ clientId: c.clientId, lastUsedAt: T0 + 9 }));
      const body = (await (await h.api('/admin/api/clients')).json()) as { clients: unknown[]; total: number };
      expect(body.total).toBe(1);
      expect(body.clients[0]).toEqual({
        client_id: c.clientId, client_name: 'VS Code', kind: 'dcr', redirect_hosts: ['127.0.0.1:33418'], blocked_at: null, exists: true,
        created_at: T0, grant_count: 1, active_grant_count: 1, last_used_at: T0 + 9, client_last_used_at: null,
      });
    });

    it('blocks a client (CIMD URL id, percent-encoded in the path) and revokes its grants', async () => {
      const c = makeClient({ kind: 'cimd', clientId: 'https://app.example.com/oauth/client.json' });
      await h.store.clients.create(c);
      const g = makeGrant({ clientId: c.clientId });
      await h.store.grants.create(g);
      const res = await h.api(`/admin/api/clients/${encodeURIComponent(c.clientId)}/block`, { method: 'POST' });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ client_id: c.clientId, blocked: true, already_blocked: false, revoked_grants: 1, grant_ids: [g.id] });
      expect((await h.store.clients.find(c.clientId))?.blockedAt).not.toBeNull();
      expect((await h.store.grants.find(g.id))?.statusReason).toBe('client_blocked');
      expect((await h.api('/admin/api/clients/c_missing/block', { method: 'POST' })).status).toBe(404);
    });

    it('DELETE revokes the grants and deletes the client', async () => {
      const c = makeClient();
      await h.store.clients.create(c);
      const g = makeGrant({ clientId: c.clientId });
      await h.store.grants.create(g);
      const res = await h.api(`/admin/api/clients/${c.clientId}`, { method: 'DELETE' });
      expect(await res.json()).toEqual({ client_id: c.clientId, deleted: true, revoked_grants: 1, grant_ids: [g.id] });
      expect(await h.store.clients.find(c.clientId)).toBeUndefined();
      expect((await h.api(`/admin/api/clients/${c.clientId}`, { method: 'DELETE' })).status).toBe(404);
    });
  });

  describe('events', () => {
    it('lists with filters and exports JSON Lines', async () => {
      await h.store.events.append({ at: T0, type: 'grant.revoked', grantId: 'g_1', clientId: null, server: 'demo', subject: null, outcome: 'success', detail: { reason: 'x' } });
      await h.store.events.append({ at: T0 + 1, type: 'token.issued', grantId: 'g_1', clientId: null, server: 'demo', subject: null, outcome: 'success', detail: {} });
      const body = (await (await h.api('/admin/api/events?type=grant.revoked')).json()) as { events: Array<{ type: string; detail: unknown }>; total: number };
      expect(body.total).toBe(1);
      expect(body.events[0]).toMatchObject({ type: 'grant.revoked', grant_id: 'g_1', detail: { reason: 'x' } });
      expect(((await (await h.api(`/admin/api/events?grant_id=g_1&since=${T0 + 1}`)).json()) as { total: number }).total).toBe(1);
      expect((await h.api('/admin/api/events?since=later')).status).toBe(400);
      const jsonl = await h.api('/admin/api/events/export?grant_id=g_1');
      expect(jsonl.headers.get('content-type')).toBe('application/jsonl; charset=utf-8');
      expect((await jsonl.text()).trim().split('\n').map((l) => (JSON.parse(l) as { type: string }).type)).toEqual(['grant.revoked', 'token.issued']);
    });
  });

  it('answers 404 JSON for unknown API paths (with a token)', async () => {
    const res = await h.api('/admin/api/nothing');
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: 'not_found' });
  });
});
