/**
 * Issue 9 F2 / issue 11 §3: the admin client list (page and JSON API) is filtered and paginated in SQL — it never
 * loads every client — and filters by kind and by last use.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { T0, makeClient, makeGrant, startHarness, type Harness } from './harness.js';
import type { ClientRecord } from '../../../src/store/types.js';

const DAY = 86_400;
const NOW = T0 + 200 * DAY;

describe('admin client list', () => {
  let h: Harness;
  let cookie: string;
  beforeEach(async () => {
    h = await startHarness({ clock: () => NOW });
    ({ cookie } = await h.signIn());
  });
  afterEach(async () => h.close());

  /** 3,000 DCR clients (what the F2 measurement registered), every one with a grant. */
  async function seedMany(n = 3_000): Promise<void> {
    await h.store.transaction(async (tx) => {
      for (let i = 0; i < n; i++) {
        const c = makeClient({ createdAt: T0 + i, metadata: { client_name: `bulk ${i}`, redirect_uris: ['http://127.0.0.1:1/cb'], x_pad: 'p'.repeat(1_000) } });
        await tx.clients.create(c);
        await tx.grants.create(makeGrant({ clientId: c.clientId, subject: `u${i}`, lastUsedAt: T0 + i }));
      }
    });
  }

  /** Fails the test if any code path loads every client or every client's grant statistics. */
  function forbidFullLoads() {
    const all = vi.spyOn(h.store.clients, 'list').mockImplementation(() => {
      throw new Error('listClients() loads every client');
    });
    const stats = vi.spyOn(h.store.grants, 'statsByClient').mockImplementation(() => {
      throw new Error('clientGrantStats() loads every client');
    });
    const page = vi.spyOn(h.store.clients, 'listPage');
    return { all, stats, page };
  }

  it('GET /admin/api/clients?limit=1 over 3,000 clients returns one row with its grant stats, the page cut by the store query', async () => {
    await seedMany();
    const spies = forbidFullLoads();
    const res = await h.api('/admin/api/clients?limit=1&offset=2');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { clients: Array<Record<string, unknown>>; total: number; limit: number; offset: number };
    expect(body.total).toBe(3_000);
    expect(body.clients).toHaveLength(1);
    expect(body.clients[0]).toMatchObject({ client_name: 'bulk 2997', created_at: T0 + 2_997, grant_count: 1, active_grant_count: 1, last_used_at: T0 + 2_997, client_last_used_at: null });
    expect(spies.page).toHaveBeenCalledTimes(1);
    expect(spies.page).toHaveBeenCalledWith({ limit: 1, offset: 2 });
    expect(await spies.page.mock.results[0]!.value).toHaveLength(1);
    expect(spies.all).not.toHaveBeenCalled();
    expect(spies.stats).not.toHaveBeenCalled();
  });

  it('GET /admin/clients over 3,000 clients renders one page of rows without loading every client', async () => {
    await seedMany();
    const spies = forbidFullLoads();
    const res = await h.request('/admin/clients?page=3', { cookie });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html.match(/data-client-id=/g)).toHaveLength(50);
    expect(html).toContain('3000 registered clients');
    expect(html).toContain('bulk 2899');
    expect(spies.page).toHaveBeenCalledWith({ limit: 50, offset: 100 });
    expect(spies.all).not.toHaveBeenCalled();
    expect(spies.stats).not.toHaveBeenCalled();
  });

  describe('filters', () => {
    let dcrIdle: ClientRecord;
    let dcrNever: ClientRecord;
    let dcrRecent: ClientRecord;
    let cimd: ClientRecord;
    beforeEach(async () => {
      dcrIdle = makeClient({ createdAt: NOW - 150 * DAY, lastUsedAt: NOW - 40 * DAY, metadata: { client_name: 'idle' } });
      dcrNever = makeClient({ createdAt: NOW - 2 * DAY, metadata: { client_name: 'never' } });
      dcrRecent = makeClient({ createdAt: NOW - 150 * DAY, lastUsedAt: NOW - DAY, metadata: { client_name: 'recent' } });
      cimd = makeClient({ kind: 'cimd', clientId: 'https://app.example.com/client.json', createdAt: NOW - 100 * DAY, metadata: { client_name: 'doc' } });
      for (const c of [dcrIdle, dcrNever, dcrRecent, cimd]) await h.store.clients.create(c);
    });
    const apiIds = async (q: string) => {
      const res = await h.api(`/admin/api/clients?${q}`);
      expect(res.status, q).toBe(200);
      const body = (await res.json()) as { clients: Array<{ client_id: string }>; total: number };
      expect(body.total, q).toBe(body.clients.length);
      return body.clients.map((c) => c.client_id).sort();
    };

    it('filters the API by kind, by "unused for N days" and by ever used', async () => {
      expect(await apiIds('kind=cimd')).toEqual([cimd.clientId]);
      expect(await apiIds('kind=dcr&unused_days=30')).toEqual([dcrIdle.clientId]);
      expect(await apiIds('unused_days=30')).toEqual([dcrIdle.clientId, cimd.clientId].sort());
      expect(await apiIds('unused_days=1')).toEqual([dcrIdle.clientId, dcrNever.clientId, cimd.clientId].sort());
      expect(await apiIds('used=never&kind=dcr')).toEqual([dcrNever.clientId]);
      expect(await apiIds('used=ever')).toEqual([dcrIdle.clientId, dcrRecent.clientId].sort());
    });

    it('rejects a bad filter with 400 invalid_request', async () => {
      for (const q of ['kind=other', 'unused_days=-1', 'unused_days=x', 'used=sometimes', 'kind=dcr&kind=cimd']) {
        const res = await h.api(`/admin/api/clients?${q}`);
        expect(res.status, q).toBe(400);
        expect(((await res.json()) as { error: string }).error).toBe('invalid_request');
      }
      expect((await h.request('/admin/clients?unused_days=0', { cookie })).status).toBe(400);
    });

    it('filters the page, shows the filter in the form and keeps it in the pager links', async () => {
      await h.store.transaction(async (tx) => {
        for (let i = 0; i < 60; i++) await tx.clients.create(makeClient({ createdAt: NOW - 160 * DAY - i, metadata: { client_name: `old ${i}` } }));
      });
      const res = await h.request('/admin/clients?kind=dcr&unused_days=30', { cookie });
      const html = await res.text();
      expect(html).toContain('61 matching clients');
      expect(html).toContain(`data-client-id="${dcrIdle.clientId}"`);
      expect(html).not.toContain(`data-client-id="${dcrRecent.clientId}"`);
      expect(html).not.toContain(`data-client-id="${cimd.clientId}"`);
      expect(html).toMatch(/<option value="dcr" selected="">dcr<\/option>/);
      expect(html).toContain('name="unused_days" type="number" min="1" max="36500" value="30"');
      expect(html).toContain('href="/admin/clients?kind=dcr&amp;unused_days=30&amp;page=2"');
    });
  });
});
