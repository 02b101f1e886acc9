/**
 * MCP authorization discovery and auto-registration against a scripted upstream (a plain node:http server that
 * plays the MCP endpoint, its PRM and its authorization server): the PRM probe order, the 401-challenge fallback,
 * CIMD vs DCR, the token endpoint auth method, persistence and reuse. The real DCR flow with oidc-provider is in
 * test/e2e/auto-registration.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { openSqliteStore, type SqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import { VaultCipher, keyringFromMasterKey } from '../../../src/store/crypto/vault-cipher.js';
import { EventRecorder } from '../../../src/events/recorder.js';
import { McpUpstreamRegistrar, keyholeClientMetadata, pickAuthMethod, registrationSealContext } from '../../../src/upstream/auto-registration.js';
import { discoverMcpAuthorization, prmCandidates, resourceMatches, resourceMetadataFromChallenge, UpstreamDiscoveryError } from '../../../src/upstream/mcp-discovery.js';
import { UpstreamOAuthClient } from '../../../src/upstream/oauth-client.js';
import { upstreamOAuthSchema } from '../../../src/config/schema.js';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

interface Fake {
  origin: string;
  hits: string[];
  registrations: Array<Record<string, unknown>>;
  /** Per path override; default routes below. */
  routes: Map<string, Handler>;
  close(): Promise<void>;
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

async function startFake(opts: { asMeta?: Record<string, unknown>; prmAt?: 'path' | 'root' | 'challenge' } = {}): Promise<Fake> {
  const server: Server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const fake: Fake = { origin, hits: [], registrations: [], routes: new Map(), close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }) };
  const prm = { resource: `${origin}/mcp`, authorization_servers: [`${origin}/as`], bearer_methods_supported: ['header'], scopes_supported: ['mcp:tools', 'mcp:read'] };
  const prmAt = opts.prmAt ?? 'path';
  const asMeta = {
    issuer: `${origin}/as`,
    authorization_endpoint: `${origin}/as/authorize`,
    token_endpoint: `${origin}/as/token`,
    registration_endpoint: `${origin}/as/register`,
    response_types_supported: ['code'],
    code_challenge_methods_supported: ['S256'],
    ...opts.asMeta,
  };
  server.on('request', (req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const path = new URL(req.url ?? '/', origin).pathname;
      fake.hits.push(`${req.method} ${path}`);
      const custom = fake.routes.get(path);
      if (custom) return custom(req, res, body);
      if (path === '/.well-known/oauth-protected-resource/mcp' && prmAt === 'path') return json(res, 200, prm);
      if (path === '/.well-known/oauth-protected-resource' && prmAt === 'root') return json(res, 200, prm);
      if (path === '/hidden-prm' && prmAt === 'challenge') return json(res, 200, prm);
      if (path === '/mcp') {
        return json(res, 401, { error: 'invalid_token' }, { 'www-authenticate': `Bearer error="invalid_token", resource_metadata="${origin}/hidden-prm"` });
      }
      // RFC 8414 path-inserted metadata for an issuer with a path.
      if (path === '/.well-known/oauth-authorization-server/as') return json(res, 200, asMeta);
      if (path === '/as/register' && req.method === 'POST') {
        const meta = JSON.parse(body) as Record<string, unknown>;
        fake.registrations.push(meta);
        const secretless = meta.token_endpoint_auth_method === 'none';
        return json(res, 201, {
          ...meta,
          client_id: `client-${fake.registrations.length}`,
          ...(secretless ? {} : { client_secret: `secret-${fake.registrations.length}-${randomBytes(8).toString('hex')}`, client_secret_expires_at: 0 }),
          registration_access_token: 'rat-value',
          registration_client_uri: `${origin}/as/register/client-${fake.registrations.length}`,
        });
      }
      json(res, 404, { error: 'not_found' });
    });
  });
  return fake;
}

describe('MCP authorization discovery', () => {
  let fake: Fake;
  afterEach(async () => fake?.close());

  it('lists the path-inserted PRM URL first, then the root', () => {
    expect(prmCandidates(new URL('https://up.example.com/v1/mcp'))).toEqual([
      'https://up.example.com/.well-known/oauth-protected-resource/v1/mcp',
      'https://up.example.com/.well-known/oauth-protected-resource',
    ]);
    expect(prmCandidates(new URL('https://up.example.com/'))).toEqual(['https://up.example.com/.well-known/oauth-protected-resource']);
  });

  it('accepts a PRM resource equal to the upstream or a same-origin path prefix, and nothing else', () => {
    const up = new URL('https://up.example.com/v1/mcp');
    expect(resourceMatches('https://up.example.com/v1/mcp', up)).toBe(true);
    expect(resourceMatches('https://up.example.com/v1/mcp/', up)).toBe(true);
    expect(resourceMatches('https://up.example.com', up)).toBe(true);
    expect(resourceMatches('https://up.example.com/v1/mc', up)).toBe(false);
    expect(resourceMatches('https://evil.example.com/v1/mcp', up)).toBe(false);
  });

  it('reads resource_metadata from a Bearer challenge', () => {
    expect(resourceMetadataFromChallenge('Bearer error="invalid_token", resource_metadata="https://x.example/prm"')).toBe('https://x.example/prm');
    expect(resourceMetadataFromChallenge('Bearer resource_metadata=https://x.example/prm, scope="a"')).toBe('https://x.example/prm');
    expect(resourceMetadataFromChallenge('Bearer realm="x"')).toBeUndefined();
    expect(resourceMetadataFromChallenge(null)).toBeUndefined();
  });

  it('finds the PRM at the path-inserted URL and the AS by RFC 8414', async () => {
    fake = await startFake();
    const d = await discoverMcpAuthorization(`${fake.origin}/mcp`);
    expect(d.resource).toBe(`${fake.origin}/mcp`);
    expect(d.as.issuer).toBe(`${fake.origin}/as`);
    expect(fake.hits.slice(0, 2)).toEqual(['GET /.well-known/oauth-protected-resource/mcp', 'GET /.well-known/oauth-authorization-server/as']);
  });

  it('falls back to the root PRM', async () => {
    fake = await startFake({ prmAt: 'root' });
    const d = await discoverMcpAuthorization(`${fake.origin}/mcp`);
    expect(d.prmUrl).toBe(`${fake.origin}/.well-known/oauth-protected-resource`);
    expect(fake.hits[0]).toBe('GET /.well-known/oauth-protected-resource/mcp');
  });

  it('falls back to the resource_metadata of the 401 challenge', async () => {
    fake = await startFake({ prmAt: 'challenge' });
    const d = await discoverMcpAuthorization(`${fake.origin}/mcp`);
    expect(d.prmUrl).toBe(`${fake.origin}/hidden-prm`);
    expect(fake.hits).toContain('POST /mcp');
  });

  it('refuses a PRM that describes another resource', async () => {
    fake = await startFake();
    fake.routes.set('/.well-known/oauth-protected-resource/mcp', (_q, res) => json(res, 200, { resource: 'https://elsewhere.example/mcp', authorization_servers: [`${fake.origin}/as`] }));
    await expect(discoverMcpAuthorization(`${fake.origin}/mcp`)).rejects.toBeInstanceOf(UpstreamDiscoveryError);
  });

  it('refuses a configured issuer the PRM does not list', async () => {
    fake = await startFake();
    await expect(discoverMcpAuthorization(`${fake.origin}/mcp`, 'http://127.0.0.1:1/other')).rejects.toThrow(/does not list the configured issuer/);
  });

  it('a 5xx PRM aborts with a server error', async () => {
    fake = await startFake();
    fake.routes.set('/.well-known/oauth-protected-resource/mcp', (_q, res) => json(res, 503, {}));
    await expect(discoverMcpAuthorization(`${fake.origin}/mcp`)).rejects.toMatchObject({ kind: 'server' });
  });
});

describe('auto-registration', () => {
  let fake: Fake;
  let store: SqliteStore;
  let cipher: VaultCipher;
  let events: EventRecorder;
  const clock = () => 1_700_000_000;

  beforeEach(() => {
    store = openSqliteStore(':memory:');
    cipher = new VaultCipher(keyringFromMasterKey(randomBytes(32).toString('base64url')));
    events = new EventRecorder(store, () => undefined, clock);
  });
  afterEach(async () => {
    await fake?.close();
    await store.close();
  });

  const registrar = (publicUrl = 'http://127.0.0.1:8787') =>
    new McpUpstreamRegistrar({ server: 'up', upstream: `${fake.origin}/mcp`, oauth: upstreamOAuthSchema.parse({ discovery: 'mcp', scopes: ['openid'] }), publicUrl, store, cipher, events, clock });

  it('registers once by DCR with client_secret_basic, seals the secret, and reuses the stored registration', async () => {
    fake = await startFake();
    const creds = await registrar().credentials();
    expect(creds).toMatchObject({ clientId: 'client-1', tokenEndpointAuthMethod: 'client_secret_basic' });
    expect(fake.registrations).toEqual([expect.objectContaining({
      redirect_uris: ['http://127.0.0.1:8787/oauth/callback'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      client_name: 'keyhole (http://127.0.0.1:8787)',
    })]);
    const saved = (await store.upstreamRegistrations.find('up', `${fake.origin}/as`))!;
    expect(saved.clientSecret).not.toContain(creds.clientSecret!);
    expect(await cipher.open(saved.clientSecret!, registrationSealContext.clientSecret('up', `${fake.origin}/as`))).toBe(creds.clientSecret);
    expect(await cipher.open(saved.registrationAccessToken!, registrationSealContext.registrationToken('up', `${fake.origin}/as`))).toBe('rat-value');
    expect(saved.metadata).not.toHaveProperty('client_secret');
    expect(saved.metadata).not.toHaveProperty('registration_access_token');

    // A second registrar (a restart) finds the stored registration.
    const again = await registrar().credentials();
    expect(again).toEqual(creds);
    expect(fake.registrations).toHaveLength(1);
  });

  it('registers once for concurrent callers', async () => {
    fake = await startFake();
    const r = registrar();
    const all = await Promise.all(Array.from({ length: 10 }, () => r.credentials()));
    expect(new Set(all.map((c) => c.clientId)).size).toBe(1);
    expect(fake.registrations).toHaveLength(1);
  });

  it('uses client_secret_post or none when that is what the AS supports', async () => {
    expect(pickAuthMethod(undefined)).toBe('client_secret_basic');
    expect(pickAuthMethod(['client_secret_post', 'none'])).toBe('client_secret_post');
    expect(pickAuthMethod(['none'])).toBe('none');
    expect(() => pickAuthMethod(['private_key_jwt'])).toThrow(UpstreamDiscoveryError);
    fake = await startFake({ asMeta: { token_endpoint_auth_methods_supported: ['none'] } });
    expect(await registrar().credentials()).toMatchObject({ clientId: 'client-1', tokenEndpointAuthMethod: 'none', clientSecret: undefined });
  });

  it('uses keyhole\'s client ID metadata document when the AS supports CIMD (https publicUrl), without registering', async () => {
    fake = await startFake({ asMeta: { client_id_metadata_document_supported: true, token_endpoint_auth_methods_supported: ['none', 'client_secret_basic'] } });
    const creds = await registrar('https://kh.example.com').credentials();
    expect(creds).toEqual({ clientId: 'https://kh.example.com/oauth/client-metadata.json', clientSecret: undefined, tokenEndpointAuthMethod: 'none', expiresAt: null });
    expect(fake.registrations).toHaveLength(0);
    expect(await store.upstreamRegistrations.find('up', `${fake.origin}/as`)).toMatchObject({ kind: 'cimd', clientId: creds.clientId });
    expect(keyholeClientMetadata('https://kh.example.com')).toMatchObject({ client_id: creds.clientId, redirect_uris: ['https://kh.example.com/oauth/callback'], token_endpoint_auth_method: 'none' });
  });

  it('falls back to DCR for CIMD when keyhole\'s publicUrl is not https (a client_id URL must be https)', async () => {
    fake = await startFake({ asMeta: { client_id_metadata_document_supported: true } });
    expect(await registrar('http://127.0.0.1:8787').credentials()).toMatchObject({ clientId: 'client-1' });
  });

  it('explains when the AS offers neither DCR nor CIMD', async () => {
    fake = await startFake({ asMeta: { registration_endpoint: undefined } });
    await expect(registrar().credentials()).rejects.toThrow(/neither dynamic client registration nor client ID metadata documents/);
  });

  it('registers again when the stored secret cannot be opened any more (vault key gone)', async () => {
    fake = await startFake();
    await registrar().credentials();
    cipher = new VaultCipher(keyringFromMasterKey(randomBytes(32).toString('base64url')));
    expect(await registrar().credentials()).toMatchObject({ clientId: 'client-2' });
  });

  it('feeds UpstreamOAuthClient: authorization URL with the registered client_id and the PRM resource', async () => {
    fake = await startFake();
    const oauthCfg = upstreamOAuthSchema.parse({ discovery: 'mcp', scopes: ['openid'] });
    const client = new UpstreamOAuthClient('up', oauthCfg, 'http://127.0.0.1:8787/oauth/callback', registrar());
    const url = await client.authorizationUrl({ state: 's', codeChallenge: 'c', scopes: ['openid'] });
    expect(url.origin + url.pathname).toBe(`${fake.origin}/as/authorize`);
    expect(url.searchParams.get('client_id')).toBe('client-1');
    expect(url.searchParams.get('resource')).toBe(`${fake.origin}/mcp`);
    expect(url.searchParams.get('redirect_uri')).toBe('http://127.0.0.1:8787/oauth/callback');
  });

  it('asks for the PRM\'s scopes_supported when the config names no upstream scopes', async () => {
    fake = await startFake();
    const client = new UpstreamOAuthClient('up', upstreamOAuthSchema.parse({ discovery: 'mcp' }), 'http://127.0.0.1:8787/oauth/callback', registrar());
    expect((await client.authorizationUrl({ state: 's', codeChallenge: 'c', scopes: [] })).searchParams.get('scope')).toBe('mcp:tools mcp:read');
    expect((await client.authorizationUrl({ state: 's', codeChallenge: 'c', scopes: ['openid'] })).searchParams.get('scope')).toBe('openid');
  });

  it('metadata() discovers without registering (the consent page only shows the upstream host)', async () => {
    fake = await startFake();
    const client = new UpstreamOAuthClient('up', upstreamOAuthSchema.parse({ discovery: 'mcp' }), 'http://127.0.0.1:8787/oauth/callback', registrar());
    expect((await client.metadata()).issuer).toBe(`${fake.origin}/as`);
    expect(fake.registrations).toHaveLength(0);
  });
});

describe('auto-registration: a registration the upstream forgot', () => {
  let fake: Fake;
  let store: SqliteStore;
  const clock = () => 1_700_000_000;
  afterEach(async () => {
    await fake?.close();
    await store.close();
  });

  it('invalid_client at the token endpoint forgets the registration; the next use registers again', async () => {
    fake = await startFake();
    fake.routes.set('/as/token', (_q, res) => json(res, 401, { error: 'invalid_client' }));
    store = openSqliteStore(':memory:');
    const cipher = new VaultCipher(keyringFromMasterKey(randomBytes(32).toString('base64url')));
    const events = new EventRecorder(store, () => undefined, clock);
    const oauthCfg = upstreamOAuthSchema.parse({ discovery: 'mcp' });
    const reg = new McpUpstreamRegistrar({ server: 'up', upstream: `${fake.origin}/mcp`, oauth: oauthCfg, publicUrl: 'http://127.0.0.1:8787', store, cipher, events, clock });
    const client = new UpstreamOAuthClient('up', oauthCfg, 'http://127.0.0.1:8787/oauth/callback', reg);
    await expect(client.refresh('some-refresh-token')).rejects.toMatchObject({ name: 'UpstreamGrantError', oauthError: 'invalid_client' });
    expect(await store.upstreamRegistrations.find('up', `${fake.origin}/as`)).toBeUndefined();
    expect((await reg.credentials()).clientId).toBe('client-2');
    expect(fake.registrations).toHaveLength(2);
  });
});
