import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { sha256Hex } from '../../../src/store/crypto/hash.js';
import { createHarness, oauthError, type Harness } from './harness.js';

/** Registration payloads as real clients send them (MCP-AUTH-REQUIREMENTS C.11). */
const REAL_PAYLOADS: Record<string, Record<string, unknown>> = {
  'mcp-remote': {
    redirect_uris: ['http://localhost:3334/oauth/callback'],
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    client_name: 'MCP CLI Client',
    client_uri: 'https://github.com/modelcontextprotocol/mcp-cli',
    software_id: '2e6dc280-f3c3-4e01-99a7-8181dbd1d23d',
    software_version: '0.1.16',
  },
  'MCP Inspector': {
    redirect_uris: ['http://localhost:6274/oauth/callback'],
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    client_name: 'MCP Inspector',
    client_uri: 'https://github.com/modelcontextprotocol/inspector',
    scope: 'mcp',
  },
  'VS Code': {
    client_name: 'Visual Studio Code',
    client_uri: 'https://code.visualstudio.com',
    grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'].slice(0, 2),
    response_types: ['code'],
    redirect_uris: ['http://127.0.0.1/', 'http://127.0.0.1:33418/', 'https://vscode.dev/redirect'],
    token_endpoint_auth_method: 'none',
    application_type: 'native',
  },
  'claude.ai': {
    client_name: 'Claude',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    redirect_uris: ['https://claude.ai/api/mcp/auth_callback'],
  },
  Cursor: {
    client_name: 'Cursor',
    redirect_uris: ['cursor://anysphere.cursor-retrieval/oauth/user-mcp/callback'],
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
  },
  /** Cursor's current registration: three redirect URIs at once (e.g. bytebase/bytebase#20510, soflyy/agent-connector-for-wp#111). */
  'Cursor (three redirect URIs)': {
    client_name: 'Cursor',
    redirect_uris: ['cursor://anysphere.cursor-mcp/oauth/callback', 'https://www.cursor.com/agents/mcp/oauth/callback', 'http://localhost:8787/callback'],
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
  },
};

describe('register', () => {
  let h: Harness;
  beforeEach(() => {
    h = createHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  const register = (body: unknown, headers: Record<string, string> = {}) =>
    h.request('/register', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

  /** The refusal contract: status, exact error code, JSON, no-store, and nothing stored. */
  async function expectRefused(res: Response, status: number, error: string) {
    expect(res.status).toBe(status);
    expect((await oauthError(res)).error).toBe(error);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(h.count('clients')).toBe(0);
    expect(h.events('client.registered')).toHaveLength(0);
  }

  for (const [name, payload] of Object.entries(REAL_PAYLOADS)) {
    it(`accepts the ${name} payload with 201, echoing redirect_uris and unknown fields`, async () => {
      const res = await register(payload);
      expect(res.status).toBe(201);
      expect(res.headers.get('cache-control')).toBe('no-store');
      const body = (await res.json()) as Record<string, unknown>;
      expect(body.client_id).toMatch(/^c_[A-Za-z0-9_-]{22}$/);
      expect(body.client_id_issued_at).toBe(h.clock.now);
      expect(body.redirect_uris).toEqual(payload.redirect_uris);
      for (const [k, v] of Object.entries(payload)) expect(body[k], k).toEqual(v);
      expect(body.client_secret).toBeUndefined();
      const stored = h.store.getClient(body.client_id as string);
      expect(stored?.kind).toBe('dcr');
      expect(stored?.secretHash).toBeNull();
      expect(stored?.metadata.redirect_uris).toEqual(payload.redirect_uris);
      expect(h.events('client.registered')).toHaveLength(1);
    });
  }

  it('echoes application_type and other unknown fields', async () => {
    const res = await register({ ...REAL_PAYLOADS['claude.ai'], application_type: 'web', x_vendor: { nested: [1, 2] } });
    expect(res.status).toBe(201);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body.application_type).toBe('web');
    expect(body.x_vendor).toEqual({ nested: [1, 2] });
  });

  it('defaults grant_types to authorization_code + refresh_token when omitted', async () => {
    const res = await register({ redirect_uris: ['https://app.example/cb'], token_endpoint_auth_method: 'none' });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { grant_types: string[] }).grant_types).toEqual(['authorization_code', 'refresh_token']);
  });

  it('returns a client_secret to a confidential client and stores only its hash', async () => {
    const res = await register({ redirect_uris: ['https://app.example/cb'], token_endpoint_auth_method: 'client_secret_basic' });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { client_id: string; client_secret: string; client_secret_expires_at: number };
    expect(body.client_secret).toMatch(/^kh_cs_/);
    expect(body.client_secret_expires_at).toBe(0);
    const row = h.store.db.prepare('SELECT * FROM clients WHERE client_id = ?').get(body.client_id) as Record<string, unknown>;
    expect(row.secret_hash).toBe(sha256Hex(body.client_secret));
    expect(JSON.stringify(row)).not.toContain(body.client_secret);
    // …and nowhere else in the database or the logs.
    for (const table of ['events']) {
      expect(JSON.stringify(h.store.db.prepare(`SELECT * FROM ${table}`).all())).not.toContain(body.client_secret);
    }
    expect(h.logs.join('\n')).not.toContain(body.client_secret);
  });

  it('defaults token_endpoint_auth_method to client_secret_basic (RFC 7591 §2) and issues a secret', async () => {
    const res = await register({ redirect_uris: ['https://app.example/cb'] });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { token_endpoint_auth_method: string; client_secret?: string };
    expect(body.token_endpoint_auth_method).toBe('client_secret_basic');
    expect(body.client_secret).toBeDefined();
  });

  it('never takes server-assigned fields (client_id, client_secret, …) from the request', async () => {
    const res = await register({
      ...REAL_PAYLOADS['mcp-remote'],
      client_id: 'attacker-chosen',
      client_secret: 'attacker-secret',
      client_secret_expires_at: 99,
      client_id_issued_at: 1,
      registration_access_token: 'x',
      registration_client_uri: 'https://evil.example/',
    });
    expect(res.status).toBe(201);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body.client_id).not.toBe('attacker-chosen');
    expect(body.client_secret).toBeUndefined();
    expect(body.client_secret_expires_at).toBeUndefined();
    expect(body.client_id_issued_at).toBe(h.clock.now);
    expect(body.registration_access_token).toBeUndefined();
    expect(body.registration_client_uri).toBeUndefined();
    const stored = h.store.getClient(body.client_id as string)!;
    expect(stored.metadata.client_secret).toBeUndefined();
    expect(stored.metadata.client_id).toBeUndefined();
  });

  describe('refusals', () => {
    it('rejects missing redirect_uris with invalid_redirect_uri', async () => {
      await expectRefused(await register({ client_name: 'x', token_endpoint_auth_method: 'none' }), 400, 'invalid_redirect_uri');
    });

    it('rejects empty or non-array redirect_uris with invalid_redirect_uri', async () => {
      for (const redirect_uris of [[], 'https://app.example/cb', [42], null]) {
        await expectRefused(await register({ redirect_uris }), 400, 'invalid_redirect_uri');
      }
    });

    it('rejects http://evil.example/cb (plain http, not loopback) with invalid_redirect_uri', async () => {
      await expectRefused(await register({ redirect_uris: ['http://evil.example/cb'] }), 400, 'invalid_redirect_uri');
    });

    it('rejects a javascript: redirect URI with invalid_redirect_uri', async () => {
      await expectRefused(await register({ redirect_uris: ['javascript:alert(1)'] }), 400, 'invalid_redirect_uri');
    });

    it('rejects other dangerous schemes with invalid_redirect_uri', async () => {
      for (const uri of ['data:text/html,hi', 'file:///etc/passwd', 'vbscript:x', 'JAVASCRIPT:alert(1)']) {
        await expectRefused(await register({ redirect_uris: [uri] }), 400, 'invalid_redirect_uri');
      }
    });

    it('rejects a redirect URI with a fragment with invalid_redirect_uri', async () => {
      for (const uri of ['https://app.example/cb#frag', 'https://app.example/cb#', 'http://127.0.0.1/cb#x']) {
        await expectRefused(await register({ redirect_uris: [uri] }), 400, 'invalid_redirect_uri');
      }
    });

    it('rejects a relative redirect URI with invalid_redirect_uri', async () => {
      await expectRefused(await register({ redirect_uris: ['/cb'] }), 400, 'invalid_redirect_uri');
    });

    it('rejects a registration whose redirect URIs are all invalid with invalid_redirect_uri naming the first bad one', async () => {
      const res = await register({ redirect_uris: ['ftp://files.example/cb', 'http://evil.example/cb'], token_endpoint_auth_method: 'none' });
      expect((await oauthError(res.clone())).error_description).toBe(
        'redirect_uris.0 "ftp://files.example/cb" uses the forbidden scheme ftp:',
      );
      await expectRefused(res, 400, 'invalid_redirect_uri');
    });

    it('rejects malformed JSON with invalid_client_metadata', async () => {
      await expectRefused(await register('{"redirect_uris": ['), 400, 'invalid_client_metadata');
      await expectRefused(await register(''), 400, 'invalid_client_metadata');
    });

    it('rejects an array body with invalid_client_metadata', async () => {
      await expectRefused(await register([{ redirect_uris: ['https://app.example/cb'] }]), 400, 'invalid_client_metadata');
    });

    it('rejects null, a string and a number body with invalid_client_metadata', async () => {
      for (const body of ['null', '"str"', '42', 'true']) await expectRefused(await register(body), 400, 'invalid_client_metadata');
    });

    it('rejects a body over 16 KiB (but under the 64 KiB transport limit) with invalid_client_metadata', async () => {
      const res = await register({ redirect_uris: ['https://app.example/cb'], client_uri: 'x', x_pad: 'p'.repeat(20_000) });
      await expectRefused(res, 400, 'invalid_client_metadata');
    });

    it('rejects a body over the 64 KiB transport limit with 413 invalid_request', async () => {
      const res = await register({ redirect_uris: ['https://app.example/cb'], x_pad: 'p'.repeat(70_000) });
      await expectRefused(res, 413, 'invalid_request');
    });

    it('rejects a 413 by Content-Length before reading the body', async () => {
      const body = JSON.stringify({ redirect_uris: ['https://app.example/cb'], x_pad: 'p'.repeat(70_000) });
      await expectRefused(await register(body, { 'content-length': String(Buffer.byteLength(body)) }), 413, 'invalid_request');
    });

    it('rejects unknown grant_types with invalid_client_metadata', async () => {
      for (const grant_types of [['implicit'], ['client_credentials'], ['password'], 'authorization_code']) {
        await expectRefused(await register({ redirect_uris: ['https://app.example/cb'], grant_types }), 400, 'invalid_client_metadata');
      }
    });

    it('rejects grant_types without authorization_code with invalid_client_metadata', async () => {
      await expectRefused(await register({ redirect_uris: ['https://app.example/cb'], grant_types: ['refresh_token'] }), 400, 'invalid_client_metadata');
    });

    it('rejects response_types other than code with invalid_client_metadata', async () => {
      await expectRefused(await register({ redirect_uris: ['https://app.example/cb'], response_types: ['token'] }), 400, 'invalid_client_metadata');
    });

    it('rejects an unsupported token_endpoint_auth_method with invalid_client_metadata', async () => {
      await expectRefused(await register({ redirect_uris: ['https://app.example/cb'], token_endpoint_auth_method: 'private_key_jwt' }), 400, 'invalid_client_metadata');
    });

    it('rejects a non-string or overlong client_name with invalid_client_metadata', async () => {
      await expectRefused(await register({ redirect_uris: ['https://app.example/cb'], client_name: 42 }), 400, 'invalid_client_metadata');
      await expectRefused(await register({ redirect_uris: ['https://app.example/cb'], client_name: 'n'.repeat(201) }), 400, 'invalid_client_metadata');
    });

    it('rejects more than 20 redirect URIs with invalid_redirect_uri', async () => {
      const redirect_uris = Array.from({ length: 21 }, (_, i) => `https://app.example/cb${i}`);
      await expectRefused(await register({ redirect_uris }), 400, 'invalid_redirect_uri');
    });

    it('rejects more than 40 metadata fields with invalid_client_metadata', async () => {
      const extra = Object.fromEntries(Array.from({ length: 45 }, (_, i) => [`x_${i}`, i]));
      await expectRefused(await register({ redirect_uris: ['https://app.example/cb'], ...extra }), 400, 'invalid_client_metadata');
    });

    it('rejects GET /register without a 5xx', async () => {
      const res = await h.request('/register');
      expect(res.status).toBe(404);
      expect(h.count('clients')).toBe(0);
    });
  });

  describe('rate limit', () => {
    it('rejects the 31st registration in a minute from one address with 429 too_many_requests', async () => {
      const fresh = createHarness();
      try {
        const payload = JSON.stringify(REAL_PAYLOADS['mcp-remote']);
        for (let i = 0; i < 30; i++) {
          const ok = await fresh.request('/register', { method: 'POST', headers: { 'content-type': 'application/json' }, body: payload });
          expect(ok.status).toBe(201);
        }
        const res = await fresh.request('/register', { method: 'POST', headers: { 'content-type': 'application/json' }, body: payload });
        expect(res.status).toBe(429);
        expect((await oauthError(res)).error).toBe('too_many_requests');
        expect(res.headers.get('cache-control')).toBe('no-store');
        expect(fresh.count('clients')).toBe(30);
      } finally {
        await fresh.close();
      }
    });
  });

  describe('CORS', () => {
    it('answers a preflight with 204 and Access-Control-Allow-Origin: *', async () => {
      const res = await h.request('/register', { method: 'OPTIONS', headers: { origin: 'https://inspector.example', 'access-control-request-method': 'POST' } });
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
    });

    it('sends Access-Control-Allow-Origin: * on errors too', async () => {
      const res = await register('nope', { origin: 'https://inspector.example' });
      expect(res.status).toBe(400);
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
    });
  });
});

describe('register (hygiene)', () => {
  let h: Harness;
  beforeEach(() => {
    h = createHarness();
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
      expect(h.store.getClient(body.client_id)?.metadata.redirect_uris).toEqual(cursor.redirect_uris);
      expect(h.events('client.registered')[0]?.detail).toMatchObject({ dropped_redirect_uris: 3, redirect_hosts: ['anysphere.cursor-mcp', 'www.cursor.com', 'localhost:8787'] });
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
    expect(h.store.getClient(body.client_id)?.metadata.grant_types).toEqual(['authorization_code', 'refresh_token']);
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
      expect(h.store.getClient(web.client_id)?.metadata.application_type).toBe('web');
    });
  });

  describe('global rate limit (config dcr.globalPerHour, default 600)', () => {
    it('rejects a registration beyond the global hourly cap with 429 too_many_requests and Retry-After, whatever the address', async () => {
      const oldest = h.clock.now - 1_000;
      h.store.transaction(() => {
        for (let i = 0; i < 600; i++) h.store.createClient(makeDcrClient(i === 0 ? oldest : h.clock.now - 10));
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
      h.store.transaction(() => {
        for (let i = 0; i < 600; i++) h.store.createClient(makeDcrClient(h.clock.now - 3_600));
        for (let i = 0; i < 300; i++) h.store.createClient({ ...makeDcrClient(h.clock.now), clientId: `static-${i}`, kind: 'static' });
        for (let i = 0; i < 300; i++) h.store.createClient({ ...makeDcrClient(h.clock.now), clientId: `https://app${i}.example/c.json`, kind: 'cimd' });
      });
      expect((await register(ok)).status).toBe(201);
    });
  });
});

function makeDcrClient(createdAt: number) {
  return { clientId: `c_${randomBytes(16).toString('base64url')}`, kind: 'dcr' as const, metadata: {}, secretHash: null, createdAt, blockedAt: null };
}
