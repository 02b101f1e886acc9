/**
 * Registration hygiene (issue 9 F2/F7, issue 11 §3): odd redirect URIs, per-field bounds naming the field,
 * application_type, and the global registration cap.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHarness, oauthError, type Harness } from './harness.js';
import { REAL_PAYLOADS } from './real-registrations.js';

describe('register (hygiene)', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  const register = (body: unknown) => h.request('/register', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const ok = { redirect_uris: ['https://app.example/cb'], token_endpoint_auth_method: 'none' };

  async function refusedNaming(body: unknown, error: string, field: string) {
    const res = await register(body);
    expect(res.status, field).toBe(400);
    const e = await oauthError(res);
    expect(e.error, field).toBe(error);
    expect(e.error_description, field).toMatch(new RegExp(`^${field.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`));
    expect(h.count('clients'), field).toBe(0);
  }

  describe('redirect URIs, some odd (Cursor-style)', () => {
    it('keeps the valid redirect URIs, drops the odd ones, says so in the response and records only the count', async () => {
      const cursor = REAL_PAYLOADS['Cursor (three redirect URIs)']!;
      const odd = ['ftp://www.cursor.com/cb', 'http://www.cursor.com/agents/mcp/oauth/callback', 'cursor://anysphere.cursor-mcp/oauth/callback#frag'];
      const sent = [...(cursor.redirect_uris as string[]), ...odd];
      const res = await register({ ...cursor, redirect_uris: sent });
      expect(res.status).toBe(201);
      const body = (await res.json()) as { client_id: string; redirect_uris: string[] };
      expect(body.redirect_uris).toEqual(cursor.redirect_uris);
      expect((await h.store.clients.find(body.client_id))?.metadata.redirect_uris).toEqual(cursor.redirect_uris);
      expect((await h.events('client.registered'))[0]?.detail).toMatchObject({ dropped_redirect_uris: 3, redirect_hosts: ['anysphere.cursor-mcp', 'www.cursor.com', 'localhost:8787'] });
      expect(JSON.stringify(h.events('client.registered'))).not.toContain('ftp:');
    });
  });

  it('registers the real VS Code payload, device_code grant type included, keeping the grant types keyhole supports', async () => {
    const vscode: Record<string, unknown> = { ...REAL_PAYLOADS['VS Code']!, grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'] };
    const res = await register(vscode);
    expect(res.status).toBe(201);
    const body = (await res.json()) as { client_id: string; grant_types: string[]; redirect_uris: string[]; application_type: string };
    expect(body.grant_types).toEqual(['authorization_code', 'refresh_token']);
    expect(body.redirect_uris).toEqual(vscode.redirect_uris);
    expect(body.application_type).toBe('native');
    expect((await h.store.clients.find(body.client_id))?.metadata.grant_types).toEqual(['authorization_code', 'refresh_token']);
  });

  describe('field bounds, each refusal naming its field', () => {
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['client_name', { client_name: 'n'.repeat(201) }, 'invalid_client_metadata'],
      ['client_uri', { client_uri: 'javascript:alert(1)' }, 'invalid_client_metadata'],
      ['logo_uri', { logo_uri: `https://app.example/${'l'.repeat(1_000)}` }, 'invalid_client_metadata'],
      ['policy_uri', { policy_uri: 'not a url' }, 'invalid_client_metadata'],
      ['contacts', { contacts: Array.from({ length: 11 }, (_, i) => `a${i}@example.com`) }, 'invalid_client_metadata'],
      ['contacts.0', { contacts: [`${'a'.repeat(320)}@x`] }, 'invalid_client_metadata'],
      ['scope', { scope: 's'.repeat(1_001) }, 'invalid_client_metadata'],
      ['software_id', { software_id: 'i'.repeat(201) }, 'invalid_client_metadata'],
      ['application_type', { application_type: 'desktop' }, 'invalid_client_metadata'],
      ['x_blob', { x_blob: 'b'.repeat(1_100) }, 'invalid_client_metadata'],
      ['x_nested', { x_nested: { a: ['x'.repeat(600), 'y'.repeat(600)] } }, 'invalid_client_metadata'],
      ['metadata', Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`x_${i}`, i])), 'invalid_client_metadata'],
      ['metadata', Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`x_${i}`, 'v'.repeat(1_000)])), 'invalid_client_metadata'],
      ['redirect_uris', { redirect_uris: Array.from({ length: 21 }, (_, i) => `https://app.example/${i}`) }, 'invalid_redirect_uri'],
      ['redirect_uris.0', { redirect_uris: [`https://app.example/${'p'.repeat(2_000)}`] }, 'invalid_redirect_uri'],
    ];
    for (const [field, extra, error] of cases) {
      it(`rejects an oversized or malformed ${field} with ${error}, naming it`, async () => {
        await refusedNaming({ ...ok, ...extra }, error, field);
      });
    }

    it('rejects an extension field name that is not visible ASCII, naming it', async () => {
      const res = await register({ ...ok, 'bad name': 1 });
      expect(await oauthError(res)).toEqual({ error: 'invalid_client_metadata', error_description: '"bad name": field names are 1 to 64 visible ASCII characters' });
    });

    it('still echoes extension fields within the bounds', async () => {
      const res = await register({ ...ok, x_vendor: { nested: [1, 2] }, software_statement: 'e'.repeat(900) });
      expect(res.status).toBe(201);
      expect(await res.json()).toMatchObject({ x_vendor: { nested: [1, 2] }, software_statement: 'e'.repeat(900) });
    });
  });

  describe('application_type (OpenID Connect Dynamic Client Registration 1.0 §2)', () => {
    it('lets a native client register loopback and private-use redirects, and echoes native', async () => {
      const res = await register({ ...ok, application_type: 'native', redirect_uris: ['http://127.0.0.1:5555/cb', 'cursor://anysphere.cursor-mcp/oauth/callback', 'com.example.app:/cb'] });
      expect(res.status).toBe(201);
      expect(((await res.json()) as { application_type: string }).application_type).toBe('native');
    });

    it('rejects loopback and private-use redirects of a web client with invalid_redirect_uri', async () => {
      for (const uri of ['http://127.0.0.1:5555/cb', 'cursor://anysphere.cursor-mcp/oauth/callback']) {
        const res = await register({ ...ok, application_type: 'web', redirect_uris: [uri] });
        expect(res.status).toBe(400);
        expect(await oauthError(res)).toMatchObject({ error: 'invalid_redirect_uri', error_description: expect.stringContaining('application_type is web') });
      }
      expect(h.count('clients')).toBe(0);
    });

    it('when absent, applies the native rules and records what the redirect URIs show: native for loopback, web for https only', async () => {
      const loopback = await register(REAL_PAYLOADS['mcp-remote']);
      const https = await register(REAL_PAYLOADS['claude.ai']);
      expect(((await loopback.json()) as { application_type: string }).application_type).toBe('native');
      const web = (await https.json()) as { client_id: string; application_type: string };
      expect(web.application_type).toBe('web');
      expect((await h.store.clients.find(web.client_id))?.metadata.application_type).toBe('web');
    });
  });

  describe('global rate limit (config dcr.globalPerHour, default 600)', () => {
    it('rejects a registration beyond the global hourly cap with 429 too_many_requests and Retry-After, whatever the address', async () => {
      const oldest = h.clock.now - 1_000;
      await h.store.transaction(async (tx) => {
        for (let i = 0; i < 600; i++) await tx.clients.create(makeDcrClient(i === 0 ? oldest : h.clock.now - 10));
      });
      const res = await register(ok);
      expect(res.status).toBe(429);
      expect(await oauthError(res)).toMatchObject({ error: 'too_many_requests' });
      expect(res.headers.get('retry-after')).toBe('2600');
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(h.count('clients')).toBe(600);
      h.clock.now += 2_600; // the oldest registration leaves the sliding hour
      expect((await register(ok)).status).toBe(201);
    });

    it('holds against rotating source addresses (the F2 measurement): 25 addresses × 30 attempts store at most 600 clients', async () => {
      const statuses: number[] = [];
      for (let a = 0; a < 25; a++) {
        const env = { incoming: { socket: { remoteAddress: `127.0.0.${a + 2}`, remotePort: 40_000, remoteFamily: 'IPv4' } } };
        for (let i = 0; i < 30; i++) {
          const res = await h.app.request(`${h.publicUrl}/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(REAL_PAYLOADS['mcp-remote']) }, env);
          statuses.push(res.status);
        }
      }
      expect(statuses.filter((s) => s === 201)).toHaveLength(600);
      expect(statuses.filter((s) => s === 429)).toHaveLength(150);
      expect(statuses.slice(0, 600).every((s) => s === 201)).toBe(true);
      expect(h.count('clients')).toBe(600);
    });

    it('does not count static or CIMD clients, nor DCR clients older than an hour', async () => {
      await h.store.transaction(async (tx) => {
        for (let i = 0; i < 600; i++) await tx.clients.create(makeDcrClient(h.clock.now - 3_600));
        for (let i = 0; i < 300; i++) await tx.clients.create({ ...makeDcrClient(h.clock.now), clientId: `static-${i}`, kind: 'static' });
        for (let i = 0; i < 300; i++) await tx.clients.create({ ...makeDcrClient(h.clock.now), clientId: `https://app${i}.example/c.json`, kind: 'cimd' });
      });
      expect((await register(ok)).status).toBe(201);
    });
  });
});

function makeDcrClient(createdAt: number) {
  return { clientId: `c_${randomBytes(16).toString('base64url')}`, kind: 'dcr' as const, metadata: {}, secretHash: null, createdAt, blockedAt: null };
}
