import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../../src/store/crypto/hash.js';
import { createHarness, oauthError, type Harness } from './harness.js';
import { REAL_PAYLOADS } from './real-registrations.js';
import { sqliteRows } from '../../helpers/sqlite-engine.js';

describe('register', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness();
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
    expect(await h.events('client.registered')).toHaveLength(0);
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
      const stored = await h.store.clients.find(body.client_id as string);
      expect(stored?.kind).toBe('dcr');
      expect(stored?.secretHash).toBeNull();
      expect(stored?.metadata.redirect_uris).toEqual(payload.redirect_uris);
      expect(await h.events('client.registered')).toHaveLength(1);
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
    const row = sqliteRows(h.store, 'clients').find((r) => r.client_id === body.client_id)!;
    expect(row.secret_hash).toBe(sha256Hex(body.client_secret));
    expect(JSON.stringify(row)).not.toContain(body.client_secret);
    // …and nowhere else in the database or the logs.
    for (const table of ['events'] as const) {
      expect(JSON.stringify(sqliteRows(h.store, table))).not.toContain(body.client_secret);
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
    const stored = (await h.store.clients.find(body.client_id as string))!;
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
      const fresh = await createHarness();
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
