/**
 * Issue 9 F5: POST /consent refuses a request the browser marks as coming from elsewhere (a foreign or `null`
 * Origin, `Sec-Fetch-Site` other than same-origin/none) with a 403 page, and the consent nonce is always keyhole's
 * own (one fresh cookie per page), so two consent pages open in one browser both still work.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ClientRecord } from '../../../src/store/types.js';
import { CHALLENGE, CLIENT_REDIRECT, createHarness, PUBLIC_URL, RESOURCE_A, type Harness } from './harness.js';

describe('consent origin checks', () => {
  let h: Harness;
  let client: ClientRecord;
  beforeEach(async () => {
    h = await createHarness();
    client = await h.seedClient({ metadata: { client_name: 'Good Client', redirect_uris: [CLIENT_REDIRECT] } });
  });
  afterEach(async () => {
    await h.close();
  });

  async function open(cookies: string[] = [], state = 'client-state') {
    const q = new URLSearchParams({ response_type: 'code', client_id: client.clientId, redirect_uri: CLIENT_REDIRECT, code_challenge: CHALLENGE, code_challenge_method: 'S256', state, resource: RESOURCE_A });
    const res = await h.request(`/authorize?${q.toString()}`, { headers: cookies.length ? { cookie: cookies.join('; ') } : {} });
    expect(res.status).toBe(200);
    const html = await res.text();
    return {
      res,
      html,
      pending: /name="pending" value="([^"]+)"/.exec(html)![1]!,
      csrf: /name="csrf" value="([^"]+)"/.exec(html)![1]!,
      cookie: res.headers.getSetCookie().map((c) => c.split(';')[0]!).find((c) => c.startsWith('keyhole-consent-'))!,
    };
  }

  const approve = (s: { pending: string; csrf: string }, cookie: string, headers: Record<string, string> = {}) =>
    h.postForm('/consent', { pending: s.pending, csrf: s.csrf, decision: 'approve' }, { cookie, ...headers });

  async function expectForbidden(res: Response, pending: string) {
    expect(res.status).toBe(403);
    expect(res.headers.get('location')).toBeNull();
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(await res.text()).toContain('sent from another site');
    expect(res.headers.getSetCookie().filter((c) => c.startsWith('keyhole-tx-'))).toHaveLength(0);
    expect((await h.store.pending.find(pending))?.upstreamStateHash).toBeNull();
    expect(await h.events('consent.approved')).toHaveLength(0);
  }

  it('rejects a foreign Origin with 403', async () => {
    const s = await open();
    await expectForbidden(await approve(s, s.cookie, { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' }), s.pending);
    await expectForbidden(await approve(s, s.cookie, { origin: 'https://evil.example' }), s.pending);
    await expectForbidden(await approve(s, s.cookie, { origin: 'http://127.0.0.1:8788' }), s.pending);
  });

  it('rejects Origin: null with 403', async () => {
    const s = await open();
    await expectForbidden(await approve(s, s.cookie, { origin: 'null' }), s.pending);
  });

  it('rejects Sec-Fetch-Site: cross-site or same-site without an Origin with 403', async () => {
    const s = await open();
    await expectForbidden(await approve(s, s.cookie, { 'sec-fetch-site': 'cross-site' }), s.pending);
    await expectForbidden(await approve(s, s.cookie, { 'sec-fetch-site': 'same-site' }), s.pending);
  });

  it('accepts keyhole\'s own Origin with Sec-Fetch-Site: same-origin, and a request without either', async () => {
    const s = await open();
    expect((await approve(s, s.cookie, { origin: PUBLIC_URL, 'sec-fetch-site': 'same-origin' })).status).toBe(303);
    const t = await open([], 'second');
    expect((await approve(t, t.cookie)).status).toBe(303);
  });

  it('serves the consent page with Referrer-Policy: same-origin, so that browsers send keyhole\'s Origin, not null', async () => {
    const s = await open();
    expect(s.res.headers.get('referrer-policy')).toBe('same-origin');
    // A <meta name="referrer"> overrides the header in browsers: it must say the same.
    expect(s.html).toContain('<meta name="referrer" content="same-origin"/>');
  });

  it('keeps two consent pages open in one browser working, each with its own fresh nonce', async () => {
    const a = await open([], 'a');
    const b = await open([a.cookie], 'b');
    expect(b.cookie.split('=')[0]).not.toBe(a.cookie.split('=')[0]);
    const both = `${a.cookie}; ${b.cookie}`;
    expect((await approve(a, both, { origin: PUBLIC_URL })).status).toBe(303);
    expect((await approve(b, both, { origin: PUBLIC_URL })).status).toBe(303);
  });

  it('clears the page\'s consent cookie once the page is answered', async () => {
    const s = await open();
    const res = await approve(s, s.cookie);
    const name = s.cookie.split('=')[0]!;
    expect(res.headers.getSetCookie().some((c) => c.startsWith(`${name}=;`) && /Max-Age=0/.test(c))).toBe(true);
  });
});
