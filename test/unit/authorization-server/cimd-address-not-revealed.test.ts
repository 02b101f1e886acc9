/**
 * Issue 9, F9: a refused client ID metadata document must not tell the client what its host resolves to (that is
 * a DNS oracle into keyhole's network). The page and the JSON error say only that the address is not allowed;
 * the operator log keeps the full reason. `localhost` resolves to loopback through the hosts file, no network.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CHALLENGE, createHarness, RESOURCE_A, type Harness } from './harness.js';

const PUBLIC = 'https://keyhole.example.com';
const DOC = 'https://localhost/oauth/client.json';
const ADDRESS = /127\.0\.0\.1|::1|loopback|resolves to/;

describe('client ID metadata document refusals', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness({ publicUrl: PUBLIC });
  });
  afterEach(async () => h.close());

  function refusalLogs(): Array<Record<string, unknown>> {
    return h.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'keyhole.cimd_fetch_failed');
  }

  it('says on the authorize page only that the address is not allowed, and logs the resolved address for the operator', async () => {
    const q = new URLSearchParams({ response_type: 'code', client_id: DOC, redirect_uri: 'http://localhost/callback', code_challenge: CHALLENGE, code_challenge_method: 'S256', state: 's1', resource: RESOURCE_A.replace('http://127.0.0.1:8787', PUBLIC) });
    const res = await h.request(`/authorize?${q}`);
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    const html = await res.text();
    expect(html).toContain('the address of localhost is not allowed: refused');
    expect(html).not.toMatch(ADDRESS);
    expect(refusalLogs()).toEqual([
      { level: 'warn', msg: 'keyhole.cimd_fetch_failed', client_id: DOC, reason: expect.stringMatching(/^the host localhost resolves to (127\.0\.0\.1|::1), a loopback address/), transient: false },
    ]);
  });

  it('says in the JSON error (token endpoint, stale stored client) only that the address is not allowed', async () => {
    await h.seedClient({ clientId: DOC, kind: 'cimd', metadata: { client_id: DOC, redirect_uris: ['http://localhost/callback'], token_endpoint_auth_method: 'none' } });
    const res = await h.postForm('/token', { grant_type: 'refresh_token', refresh_token: 'kh_rt_unknown', client_id: DOC });
    expect(res.status).toBe(401);
    const body = (await res.json()) as { error: string; error_description: string };
    expect(body.error).toBe('invalid_client');
    expect(body.error_description).toBe(`the client metadata document at ${DOC} could not be fetched: the address of localhost is not allowed: refused`);
    expect(JSON.stringify(body)).not.toMatch(ADDRESS);
    expect(refusalLogs()).toHaveLength(1);
    expect(refusalLogs()[0]!.reason).toMatch(/resolves to (127\.0\.0\.1|::1)/);
  });
});
