/**
 * GET /oauth/callback — the upstream's authorization response. Only the paths that need no upstream token endpoint:
 * unknown/replayed state, upstream errors, malformed responses, unreachable upstream. The successful exchange is
 * covered by the e2e suite against a real oidc-provider.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ClientRecord } from '../../../src/store/types.js';
import { CHALLENGE, CLIENT_REDIRECT, createHarness, PUBLIC_URL, RESOURCE_A, type Harness } from './harness.js';

describe('callback', () => {
  let h: Harness;
  let client: ClientRecord;
  beforeEach(async () => {
    h = await createHarness();
    client = await h.seedClient({ metadata: { client_name: 'Good Client', redirect_uris: [CLIENT_REDIRECT] } });
  });
  afterEach(async () => {
    await h.close();
  });

  /** The cookies of the browser that approved (the transaction-binding cookie): sent by `callback` by default. */
  let jar = '';

  /** Runs authorize + approve and returns the upstream state keyhole sent. */
  async function approved(): Promise<{ state: string; pendingId: string }> {
    const q = new URLSearchParams({ response_type: 'code', client_id: client.clientId, redirect_uri: CLIENT_REDIRECT, code_challenge: CHALLENGE, code_challenge_method: 'S256', state: 'client-state', resource: RESOURCE_A });
    const page = await h.request(`/authorize?${q.toString()}`);
    const html = await page.text();
    const pendingId = /name="pending" value="([^"]+)"/.exec(html)![1]!;
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
    const cookie = page.headers.get('set-cookie')!.split(';')[0]!;
    const res = await h.postForm('/consent', { pending: pendingId, csrf, decision: 'approve' }, { cookie });
    expect(res.status).toBe(303);
    jar = res.headers.getSetCookie().filter((c) => c.startsWith('keyhole-tx-')).map((c) => c.split(';')[0]!).join('; ');
    return { state: new URL(res.headers.get('location')!).searchParams.get('state')!, pendingId };
  }

  const callback = (params: Record<string, string> | string, cookie = jar) =>
    h.request(`/oauth/callback?${typeof params === 'string' ? params : new URLSearchParams(params).toString()}`, { headers: cookie ? { cookie } : {} });

  async function expectPage(res: Response) {
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(await res.text()).toContain('<code data-testid="error-code">invalid_request</code>');
  }

  function expectClientError(res: Response, error: string) {
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get('location')!);
    expect(`${location.origin}${location.pathname}`).toBe(CLIENT_REDIRECT);
    expect(location.searchParams.get('error')).toBe(error);
    expect(location.searchParams.get('state')).toBe('client-state');
    expect(location.searchParams.get('iss')).toBe(PUBLIC_URL);
    expect(location.searchParams.get('code')).toBeNull();
    expect(h.count('codes')).toBe(0);
    expect(h.count('grants')).toBe(0);
  }

  it('rejects a missing or unknown state with a page, never a redirect', async () => {
    await expectPage(await callback({ code: 'x' }));
    await expectPage(await callback({ code: 'x', state: 'unknown' }));
    await expectPage(await callback(''));
  });

  it('rejects the state of a pending authorization that was not approved yet with a page', async () => {
    // Before consent there is no upstream state at all; the pending id is not a state.
    const q = new URLSearchParams({ response_type: 'code', client_id: client.clientId, redirect_uri: CLIENT_REDIRECT, code_challenge: CHALLENGE, code_challenge_method: 'S256', resource: RESOURCE_A });
    const pendingId = /name="pending" value="([^"]+)"/.exec(await (await h.request(`/authorize?${q.toString()}`)).text())![1]!;
    await expectPage(await callback({ code: 'x', state: pendingId }));
    expect(await h.store.pending.find(pendingId)).toBeDefined();
  });

  it('forwards an upstream access_denied to the client as access_denied', async () => {
    const { state, pendingId } = await approved();
    expectClientError(await callback({ state, error: 'access_denied' }), 'access_denied');
    expect(await h.store.pending.find(pendingId)).toBeUndefined();
    expect(await h.events('upstream.authorization_failed')).toHaveLength(1);
  });

  it('forwards any other upstream error to the client as server_error', async () => {
    const { state } = await approved();
    expectClientError(await callback({ state, error: 'invalid_scope', error_description: '<b>x</b>' }), 'server_error');
  });

  it('rejects a replayed state with a page (single use)', async () => {
    const { state } = await approved();
    expectClientError(await callback({ state, error: 'access_denied' }), 'access_denied');
    await expectPage(await callback({ state, error: 'access_denied' }));
  });

  it('rejects an expired pending authorization with a page', async () => {
    const { state } = await approved();
    h.clock.now += 601;
    await expectPage(await callback({ state, code: 'x' }));
  });

  it('answers a response with a wrong iss (mix-up) with an error to the client, not a 500', async () => {
    const { state } = await approved();
    const res = await callback({ state, code: 'upstream-code', iss: 'https://evil.example' });
    expectClientError(res, 'server_error');
  });

  it('answers a response with repeated parameters with an error to the client, not a 500', async () => {
    const { state } = await approved();
    const res = await callback(`state=${encodeURIComponent(state)}&code=a&code=b`);
    expectClientError(res, 'server_error');
  });

  it('answers an implicit-flow response (token=) with an error to the client, not a 500', async () => {
    const { state } = await approved();
    expectClientError(await callback({ state, access_token: 'x', token: 'x' }), 'server_error');
  });

  it('answers a response without code with an error to the client', async () => {
    const { state } = await approved();
    expectClientError(await callback({ state }), 'server_error');
  });

  it('answers an unreachable upstream token endpoint with temporarily_unavailable', async () => {
    const { state } = await approved();
    // The configured token endpoint is 127.0.0.1:9, where nothing listens.
    expectClientError(await callback({ state, code: 'upstream-code' }), 'temporarily_unavailable');
  });
});
