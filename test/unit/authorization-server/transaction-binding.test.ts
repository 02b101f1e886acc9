/**
 * Issue 9 F1: the upstream callback completes only in the browser that approved keyhole's consent page.
 * The attack, scripted with two cookie jars: the attacker approves consent for their own client, then sends the
 * upstream authorization URL (carrying keyhole's upstream state) to a victim signed in at the upstream.
 * The harness's upstream token endpoint is 127.0.0.1:9 (nothing listens): a callback that gets past the binding
 * check is answered with a `temporarily_unavailable` redirect, one that does not is an error page.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ClientRecord } from '../../../src/store/types.js';
import { CHALLENGE, createHarness, type Harness } from './harness.js';

const ATTACKER_REDIRECT = 'https://attacker.example/cb';

/** A cookie jar of one browser: name → value, updated from Set-Cookie (Max-Age=0 deletes). */
class Jar {
  readonly cookies = new Map<string, string>();
  take(res: Response): string[] {
    const set = res.headers.getSetCookie();
    for (const line of set) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      if (/;\s*Max-Age=0/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, pair!.slice(eq + 1));
    }
    return set;
  }
  header(): Record<string, string> {
    return this.cookies.size ? { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } : {};
  }
}

describe('transaction binding', () => {
  let h: Harness;
  let attackerClient: ClientRecord;
  beforeEach(async () => {
    h = await createHarness();
    attackerClient = await h.seedClient({ metadata: { client_name: 'Totally Legit', redirect_uris: [ATTACKER_REDIRECT] } });
  });
  afterEach(async () => {
    await h.close();
  });

  /** GET /authorize then approve, in `jar`; returns the upstream authorization URL and the Set-Cookie lines of the approval. */
  async function approve(jar: Jar, harness = h, client = attackerClient, state = 'attacker-state') {
    const q = new URLSearchParams({ response_type: 'code', client_id: client.clientId, redirect_uri: ATTACKER_REDIRECT, code_challenge: CHALLENGE, code_challenge_method: 'S256', state, resource: `${harness.publicUrl}/mcp/a` });
    const page = await harness.request(`/authorize?${q.toString()}`, { headers: jar.header() });
    jar.take(page);
    const html = await page.text();
    const pending = /name="pending" value="([^"]+)"/.exec(html)![1]!;
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
    const res = await harness.postForm('/consent', { pending, csrf, decision: 'approve' }, jar.header());
    expect(res.status).toBe(303);
    const setCookies = jar.take(res);
    return { upstreamUrl: new URL(res.headers.get('location')!), pending, setCookies };
  }

  const callbackIn = (jar: Jar, upstreamUrl: URL, harness = h) =>
    harness.request(`/oauth/callback?${new URLSearchParams({ state: upstreamUrl.searchParams.get('state')!, code: 'victims-upstream-code' }).toString()}`, { headers: jar.header() });

  async function expectRefused(res: Response, pending: string) {
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(res.headers.get('content-type')).toContain('text/html');
    const html = await res.text();
    expect(html).toContain('<code data-testid="error-code">invalid_request</code>');
    expect(html).toContain('started in another browser');
    expect(html).not.toMatch(/at .*\.(ts|js):\d+/); // no stack
    expect(await h.events('code.issued')).toHaveLength(0);
    expect(await h.events('upstream.authorization_failed')).toHaveLength(0); // the upstream code was never exchanged
    expect(h.count('grants')).toBe(0);
    expect(h.count('codes')).toBe(0);
    const [failed, ...more] = await h.events('consent.binding_failed');
    expect(more).toHaveLength(0);
    expect(failed).toMatchObject({ outcome: 'failure', clientId: attackerClient.clientId, server: 'a' });
    expect(failed!.detail).toEqual({ pending_id: pending });
  }

  it('rejects the attacker\'s approved transaction in a victim browser without cookies: page, no code, no grant', async () => {
    const attacker = new Jar();
    const { upstreamUrl, pending } = await approve(attacker);
    await expectRefused(await callbackIn(new Jar(), upstreamUrl), pending);
    // The state is single-use: the pending authorization is gone, the attacker cannot complete it either.
    expect(await h.store.pending.find(pending)).toBeUndefined();
  });

  it('rejects a victim browser holding a different value under the same cookie name', async () => {
    const attacker = new Jar();
    const { upstreamUrl, pending } = await approve(attacker);
    const victim = new Jar();
    for (const [name] of attacker.cookies) if (name.startsWith('keyhole-tx-')) victim.cookies.set(name, 'A'.repeat(43));
    expect(victim.cookies.size).toBe(1);
    await expectRefused(await callbackIn(victim, upstreamUrl), pending);
  });

  it('rejects a victim browser that approved a transaction of its own (another pending id)', async () => {
    const attacker = new Jar();
    const { upstreamUrl, pending } = await approve(attacker);
    const victim = new Jar();
    await approve(victim, h, attackerClient, 'victim-own');
    await expectRefused(await callbackIn(victim, upstreamUrl), pending);
  });

  it('passes the approving browser on to the upstream code exchange and clears its cookie', async () => {
    const jar = new Jar();
    const { upstreamUrl, pending } = await approve(jar);
    const res = await callbackIn(jar, upstreamUrl);
    // Past the binding: the exchange was attempted (nothing listens at the harness's token endpoint).
    expect(res.status).toBe(302);
    expect(new URL(res.headers.get('location')!).searchParams.get('error')).toBe('temporarily_unavailable');
    expect(res.headers.getSetCookie().some((c) => c.startsWith(`keyhole-tx-${pending}=;`) && /Max-Age=0/.test(c))).toBe(true);
    expect(await h.events('consent.binding_failed')).toHaveLength(0);
  });

  it('binds two parallel authorizations in one browser independently: both pass', async () => {
    const jar = new Jar();
    const first = await approve(jar, h, attackerClient, 'first');
    const second = await approve(jar, h, attackerClient, 'second');
    expect([...jar.cookies.keys()].filter((n) => n.startsWith('keyhole-tx-'))).toHaveLength(2);
    for (const { upstreamUrl } of [second, first]) {
      const res = await callbackIn(jar, upstreamUrl);
      expect(res.status).toBe(302);
      expect(new URL(res.headers.get('location')!).searchParams.get('error')).toBe('temporarily_unavailable');
    }
    expect(await h.events('consent.binding_failed')).toHaveLength(0);
  });

  it('sets the binding cookie HttpOnly, SameSite=Lax, Path=/, Max-Age ≤ 600 and not Secure on http', async () => {
    const { setCookies, pending } = await approve(new Jar());
    const tx = setCookies.filter((c) => c.startsWith('keyhole-tx-'));
    expect(tx).toHaveLength(1);
    expect(tx[0]).toMatch(new RegExp(`^keyhole-tx-${pending}=[A-Za-z0-9_-]{43};`));
    expect(tx[0]).toMatch(/; HttpOnly/);
    expect(tx[0]).toMatch(/; SameSite=Lax/);
    expect(tx[0]).toMatch(/; Path=\//);
    expect(Number(/Max-Age=(\d+)/.exec(tx[0]!)![1])).toBeLessThanOrEqual(600);
    expect(Number(/Max-Age=(\d+)/.exec(tx[0]!)![1])).toBeGreaterThan(0);
    expect(tx[0]).not.toMatch(/Secure/);
    expect(tx[0]).not.toMatch(/Domain=/);
    // Only its hash is stored.
    const value = /=([^;]+)/.exec(tx[0]!)![1]!;
    expect(JSON.stringify(await h.store.pending.find(pending))).not.toContain(value);
  });

  it('sets a __Host- prefixed, Secure binding cookie on https and checks it at the callback', async () => {
    const https = await createHarness({ publicUrl: 'https://kh.example.com' });
    try {
      const c = await https.seedClient({ metadata: { client_name: 'x', redirect_uris: [ATTACKER_REDIRECT] } });
      const jar = new Jar();
      const { setCookies, pending, upstreamUrl } = await approve(jar, https, c);
      const tx = setCookies.filter((s) => s.includes('keyhole-tx-'));
      expect(tx).toHaveLength(1);
      expect(tx[0]).toMatch(new RegExp(`^__Host-keyhole-tx-${pending}=[A-Za-z0-9_-]{43};`));
      for (const attr of [/; HttpOnly/, /; SameSite=Lax/, /; Path=\//, /; Secure/, /Max-Age=\d+/]) expect(tx[0]).toMatch(attr);
      expect(tx[0]).not.toMatch(/Domain=/);
      expect(tx[0]).not.toContain('__Host-__Host-');
      const refused = await callbackIn(new Jar(), upstreamUrl, https);
      expect(refused.status).toBe(400);
      const { upstreamUrl: second } = await approve(jar, https, c, 'again');
      const passed = await callbackIn(jar, second, https);
      expect(passed.status).toBe(302);
      expect(new URL(passed.headers.get('location')!).searchParams.get('error')).toBe('temporarily_unavailable');
    } finally {
      await https.close();
    }
  });
});
