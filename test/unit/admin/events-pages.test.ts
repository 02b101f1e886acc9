import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { T0, startHarness, type Harness } from './harness.js';
import type { NewEvent } from '../../../src/store/types.js';

const ev = (over: Partial<NewEvent>): NewEvent => ({ at: T0, type: 'token.issued', grantId: null, clientId: null, server: null, subject: null, outcome: 'success', detail: {}, ...over });

describe('admin events page', () => {
  let h: Harness;
  let cookie: string;
  beforeEach(async () => {
    h = await startHarness();
    ({ cookie } = await h.signIn());
    // Sign-in wrote an admin.signed_in event; the fixtures below are all at T0 + n.
  });
  afterEach(async () => h.close());
  const page = async (path: string) => {
    const res = await h.request(path, { cookie });
    return { res, html: await res.text() };
  };
  const ids = (html: string) => [...html.matchAll(/data-event-id="(\d+)"/g)].map((m) => Number(m[1]));

  it('filters by type, server and time (UTC, inclusive), newest first', async () => {
    const a = await h.store.events.append(ev({ at: T0 + 60, type: 'grant.created', server: 'demo' }));
    const b = await h.store.events.append(ev({ at: T0 + 120, type: 'token.issued', server: 'demo' }));
    const c = await h.store.events.append(ev({ at: T0 + 180, type: 'token.issued', server: 'other' }));
    expect(ids((await page('/admin/events?type=token.issued')).html)).toEqual([c, b]);
    expect(ids((await page('/admin/events?server=demo')).html)).toEqual([b, a]);
    // datetime-local values, read as UTC; "until" covers its whole minute.
    const since = new Date((T0 + 120) * 1000).toISOString().slice(0, 16);
    const until = new Date((T0 + 120) * 1000).toISOString().slice(0, 16);
    const { html } = await page(`/admin/events?since=${since}&until=${until}`);
    expect(ids(html)).toEqual([b]);
    expect(html).toContain(`value="${since}"`);
    expect((await page('/admin/events?since=nonsense')).res.status).toBe(400);
  });

  it('pages through events keeping the filters', async () => {
    for (let i = 0; i < 55; i++) await h.store.events.append(ev({ at: T0 + i, server: 'demo' }));
    const first = await page('/admin/events?server=demo');
    expect(ids(first.html)).toHaveLength(50);
    expect(first.html).toContain('href="/admin/events?server=demo&amp;page=2"');
    expect(ids((await page('/admin/events?server=demo&page=2')).html)).toHaveLength(5);
  });

  it('exports the filtered events as JSON Lines, oldest first, as a download', async () => {
    const a = await h.store.events.append(ev({ at: T0 + 1, type: 'grant.revoked', server: 'demo', grantId: 'g_1', detail: { reason: 'admin_revoked' } }));
    await h.store.events.append(ev({ at: T0 + 2, type: 'token.issued', server: 'demo' }));
    const c = await h.store.events.append(ev({ at: T0 + 3, type: 'grant.revoked', server: 'other' }));
    for (let i = 0; i < 1_100; i++) await h.store.events.append(ev({ at: T0 + 10, type: 'upstream.token_refreshed' }));
    const res = await h.request('/admin/events/export?type=grant.revoked', { cookie });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/jsonl; charset=utf-8');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="keyhole-events-\d{8}T\d{6}Z\.jsonl"$/);
    const lines = (await res.text()).split('\n');
    expect(lines.pop()).toBe('');
    const rows = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows.map((r) => r.id)).toEqual([a, c]);
    expect(rows[0]).toEqual({ id: a, at: T0 + 1, time: new Date((T0 + 1) * 1000).toISOString(), type: 'grant.revoked', outcome: 'success', grant_id: 'g_1', client_id: null, server: 'demo', subject: null, person_id: null, detail: { reason: 'admin_revoked' } });

    // More rows than one batch: every row once, in id order.
    const all = await (await h.request('/admin/events/export?type=upstream.token_refreshed', { cookie })).text();
    const allIds = all.trim().split('\n').map((l) => (JSON.parse(l) as { id: number }).id);
    expect(allIds).toHaveLength(1_100);
    expect([...allIds].sort((x, y) => x - y)).toEqual(allIds);
    expect((await h.request('/admin/events/export?until=yesterday', { cookie })).status).toBe(400);
    expect((await h.request('/admin/events/export')).status).toBe(303); // no session
  });

  it('links the export with the current filters', async () => {
    const { html } = await page('/admin/events?type=grant.revoked&server=demo');
    expect(html).toContain('href="/admin/events/export?type=grant.revoked&amp;server=demo"');
  });
});
