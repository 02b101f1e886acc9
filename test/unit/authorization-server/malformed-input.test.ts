/**
 * Invariant 7: bad input gets a clear 4xx (OAuth JSON, JSON-RPC JSON or an HTML page), never a 500 or a stack trace,
 * and loses no stored data. A table of garbage bodies, queries and headers over every endpoint.
 */
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClientRecord, GrantRecord } from '../../../src/store/types.js';
import { CHALLENGE, CLIENT_REDIRECT, createHarness, RESOURCE_A, type Harness } from './harness.js';
import { CONTROL_REDIRECTS, CSP_INJECTION_REDIRECTS, FORBIDDEN_REDIRECTS } from './garbage-redirects.js';
import { sqliteRows } from '../../helpers/sqlite-engine.js';

const GARBAGE_BODIES: Array<[string, BodyInit]> = [
  ['empty', ''],
  ['NUL bytes', '\u0000\u0000\u0000'],
  ['invalid UTF-8', new Uint8Array([0xff, 0xfe, 0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1])],
  ['lone percent', '%'],
  ['bad percent escapes', 'grant_type=%ZZ&code=%E0%A4%A&token=%&client_id=%C0%AF'],
  ['only separators', '&&&===&&'],
  ['keys without values', 'grant_type&code&client_id&token&pending&csrf&decision'],
  ['duplicated everything', 'grant_type=a&grant_type=b&token=x&token=y&pending=p&pending=q'],
  ['JSON object', '{"grant_type":"authorization_code","redirect_uris":["https://x.example/cb"]}'],
  ['JSON array', '[1,2,3]'],
  ['JSON null', 'null'],
  ['JSON proto pollution', '{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}},"redirect_uris":["https://x.example/cb"]}'],
  ['deep JSON', `${'['.repeat(5000)}${']'.repeat(5000)}`],
  ['XML', '<?xml version="1.0"?><a>&lt;</a>'],
  ['huge key', `${'k'.repeat(30_000)}=v`],
  ['form with arrays', 'redirect_uris[]=https://x.example/cb&client_id[]=x&scope[0]=a'],
  ['form with unicode', 'client_id=%F0%9F%92%A9&token=%E2%80%AE&scope=%C3%A9'],
];

const CONTENT_TYPES = [
  undefined,
  'application/x-www-form-urlencoded',
  'application/x-www-form-urlencoded; charset=utf-8',
  'application/json',
  'text/plain',
  'multipart/form-data; boundary=----x',
  'application/x-www-form-urlencoded;;;=;',
  '*/*',
];

const AUTH_HEADERS = [undefined, 'Basic', 'Basic !!!', 'Basic Og==', `Basic ${Buffer.from('%zz:%zz').toString('base64')}`, 'Bearer x', 'Digest abc', `Basic ${'A'.repeat(8000)}`];

const POST_PATHS = ['/register', '/token', '/revoke', '/consent', '/authorize', '/oauth/callback', '/mcp/a', '/mcp/nope', '/.well-known/oauth-authorization-server', '/'];

const GARBAGE_QUERIES = [
  '',
  '%',
  '%ZZ=%ZZ',
  'client_id',
  'client_id=',
  'client_id=%00',
  'client_id[]=x',
  'client_id=a&client_id=b',
  'response_type=code&response_type=token',
  'redirect_uri=javascript:alert(1)',
  `client_id=${'x'.repeat(8000)}`,
  'state=%F0%9F%92%A9&code=%E0%A4%A&iss=http://evil',
  'error=access_denied&state=x',
  'resource=%3Cscript%3E',
];

const GET_PATHS = [
  '/authorize',
  '/oauth/callback',
  '/token',
  '/revoke',
  '/register',
  '/consent',
  '/.well-known/oauth-authorization-server',
  '/.well-known/oauth-protected-resource',
  '/.well-known/oauth-protected-resource/mcp/a',
  '/.well-known/oauth-protected-resource/mcp/%2e%2e',
  '/.well-known/oauth-protected-resource/mcp/a%2Fb',
  '/mcp/a',
  '/mcp/%00',
  '/mcp/a/extra',
  '/nope',
];

/** Tool names that cannot go into a header as they are (issue 9 F4): every character class. */
const TOOL_NAMES = ['a\u0000b', 'a\nb', 'a\r\nSet-Cookie: x=1', 'a\u007fb', 'a\u0085b', 'a"b', 'a\\b', 'caf\u00e9', '中文', 'a😀b', 'a\ud800b', '\udc00'];

describe('malformed input', () => {
  let h: Harness;
  let client: ClientRecord;
  let grant: GrantRecord;
  let snapshot: string;

  const dump = () =>
    JSON.stringify((['clients', 'grants', 'codes', 'access_tokens', 'refresh_tokens', 'upstream_credentials'] as const).map((t) => sqliteRows(h.store, t)));

  beforeAll(async () => {
    h = await createHarness();
    client = await h.seedClient({ metadata: { client_name: 'Victim', redirect_uris: [CLIENT_REDIRECT] } });
    grant = await h.seedGrant(client);
    await h.seedUpstreamCredential(grant);
    await h.seedCode(grant);
    await h.seedTokens(grant);
    snapshot = dump();
  });
  afterAll(async () => {
    await h.close();
  });

  /** < 500, a JSON / HTML / empty body, no stack frame, no internal error names. */
  async function expectClean(res: Response, what: string) {
    expect(res.status, what).toBeLessThan(500);
    expect(res.status, what).toBeGreaterThanOrEqual(200);
    const type = res.headers.get('content-type') ?? '';
    const body = await res.text();
    if (body.length > 0) expect(type, `${what}: content-type`).toMatch(/application\/json|text\/html/);
    if (type.includes('application/json')) expect(() => JSON.parse(body), what).not.toThrow();
    expect(body, what).not.toMatch(/\n\s+at \S/);
    expect(body, what).not.toMatch(/\bat [\w.<>]+ \(.*:\d+:\d+\)/);
    expect(body, what).not.toMatch(/TypeError|ReferenceError|SyntaxError|SqliteError|node_modules/);
  }

  it('never answers a garbage body on any endpoint with a 5xx', async () => {
    for (const path of POST_PATHS) {
      for (const [name, body] of GARBAGE_BODIES) {
        for (const type of CONTENT_TYPES) {
          const headers: Record<string, string> = type ? { 'content-type': type } : {};
          const res = await h.request(path, { method: 'POST', headers, body });
          await expectClean(res, `POST ${path} ${name} ${type}`);
        }
      }
    }
  });

  it('never answers a garbage query on any endpoint with a 5xx', async () => {
    for (const path of GET_PATHS) {
      for (const q of GARBAGE_QUERIES) {
        const res = await h.request(`${path}?${q}`);
        await expectClean(res, `GET ${path}?${q}`);
      }
    }
  });

  it('never answers garbage Authorization or Cookie headers with a 5xx', async () => {
    const cookies = [undefined, 'keyhole-consent=%E0%A4%A', 'keyhole-consent', '=;=;=', `keyhole-consent=${'a'.repeat(5000)}`, '__Host-keyhole-consent=x; keyhole-consent="quoted"'];
    for (const path of ['/token', '/revoke', '/consent', '/mcp/a']) {
      for (const authorization of AUTH_HEADERS) {
        for (const cookie of cookies) {
          const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
          if (authorization) headers.authorization = authorization;
          if (cookie) headers.cookie = cookie;
          const res = await h.request(path, { method: 'POST', headers, body: `grant_type=refresh_token&refresh_token=x&token=x&client_id=${client.clientId}&pending=p_x&csrf=x&decision=approve` });
          await expectClean(res, `POST ${path} auth=${authorization?.slice(0, 20)} cookie=${cookie?.slice(0, 20)}`);
        }
      }
    }
  });

  it('never answers an authorize request with garbage parameter values with a 5xx', async () => {
    const good = {
      response_type: 'code', client_id: client.clientId, redirect_uri: CLIENT_REDIRECT, code_challenge: CHALLENGE, code_challenge_method: 'S256', state: 's', resource: RESOURCE_A, scope: 'mcp',
    };
    const values = ['', '%', '\u0000', '\u202e', 'x'.repeat(5000), '"><svg onload=alert(1)>', 'javascript:alert(1)', 'http://[::1', '🙂'];
    for (const key of Object.keys(good)) {
      for (const v of values) {
        const res = await h.request(`/authorize?${new URLSearchParams({ ...good, [key]: v }).toString()}`);
        await expectClean(res, `authorize ${key}=${v.slice(0, 20)}`);
      }
    }
  });

  it('refuses every garbage redirect URI at /register with invalid_redirect_uri and stores nothing (F7)', async () => {
    const before = h.count('clients');
    for (const uri of [...FORBIDDEN_REDIRECTS, ...CONTROL_REDIRECTS, ...CSP_INJECTION_REDIRECTS]) {
      for (const application_type of [undefined, 'native', 'web']) {
        h.clock.now += 60; // past the per-address minute of dcr.perAddressPerMinute
        const res = await h.request('/register', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ redirect_uris: [uri], token_endpoint_auth_method: 'none', ...(application_type ? { application_type } : {}) }),
        });
        const what = `register ${JSON.stringify(uri)} ${application_type}`;
        expect(res.status, what).toBe(400);
        expect(((await res.json()) as { error: string }).error, what).toBe('invalid_redirect_uri');
      }
    }
    expect(h.count('clients')).toBe(before);
  });

  it('never lets a stored redirect URI inject into the consent page CSP (client stored before the rules)', async () => {
    for (const uri of ['https://a;b.example/cb', "https://x;script-src-elem'unsafe-inline'.example/cb", 'https://a%3bb.example/cb']) {
      const legacy = await h.seedClient({ metadata: { client_name: 'Legacy', redirect_uris: [uri] } });
      const res = await h.request(`/authorize?${new URLSearchParams({
        response_type: 'code', client_id: legacy.clientId, redirect_uri: uri, code_challenge: CHALLENGE, code_challenge_method: 'S256', state: 's', resource: RESOURCE_A,
      }).toString()}`);
      await expectClean(res.clone(), `authorize ${uri}`);
      const csp = res.headers.get('content-security-policy') ?? '';
      const directives = csp.split(';').map((d) => d.trim().split(/\s+/)[0]);
      expect(directives, uri).toEqual(['default-src', 'style-src', 'img-src', 'form-action', 'frame-ancestors', 'base-uri']);
      expect(csp, uri).not.toContain('a;b');
      await h.store.clients.delete(legacy.clientId);
    }
  });

  it('never answers unusual methods with a 5xx', async () => {
    for (const path of ['/register', '/token', '/revoke', '/consent', '/authorize', '/oauth/callback', '/mcp/a', '/.well-known/oauth-authorization-server']) {
      for (const method of ['PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD']) {
        const res = await h.request(path, { method });
        expect(res.status, `${method} ${path}`).toBeLessThan(500);
      }
    }
  });

  it('never answers a tools/call naming a tool with control, quote, non-Latin-1 or emoji characters with a 5xx', async () => {
    const scoped = await h.seedGrant(client, { server: 'b', scopes: ['b:read'] });
    const { access } = await h.seedTokens(scoped);
    // Over a real socket: the body is read from the Node request, and Node validates the response headers.
    const server = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: h.app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
    });
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const call = (name: string) => fetch(`${base}/mcp/b`, {
      method: 'POST',
      headers: { authorization: `Bearer ${access}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: {} } }),
    });
    for (const name of TOOL_NAMES) {
      // `set_*` is named by the scope b:write, which the grant lacks: the name goes into the step-up challenge.
      const stepUp = await call(`set_${name}`);
      expect(stepUp.status, JSON.stringify(name)).toBe(403);
      expect(stepUp.headers.get('www-authenticate'), JSON.stringify(name)).toMatch(/^Bearer error="insufficient_scope", error_description="[\x20\x21\x23-\x5B\x5D-\x7E]*", /);
      await expectClean(stepUp, `tools/call ${JSON.stringify(`set_${name}`)}`);
      // No scope names the bare name: a JSON-RPC error, no challenge.
      const unavailable = await call(name);
      expect(unavailable.status, JSON.stringify(name)).toBe(200);
      expect(unavailable.headers.get('www-authenticate'), JSON.stringify(name)).toBeNull();
      expect(((await unavailable.clone().json()) as { error: { code: number } }).error.code).toBe(-32013);
      await expectClean(unavailable, `tools/call ${JSON.stringify(name)}`);
    }
    await new Promise<void>((r) => server.close(() => r()));
    snapshot = dump(); // the grant and tokens seeded here are the only change
  });

  it('lost and changed no stored data, and reported no unhandled error', () => {
    expect(dump()).toBe(snapshot);
    expect(h.logs.filter((l) => l.includes('keyhole.unhandled'))).toEqual([]);
    expect(h.count('pending_authorizations')).toBeLessThanOrEqual(1_000);
  });
});
