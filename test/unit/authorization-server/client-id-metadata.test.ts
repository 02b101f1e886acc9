import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ClientIdMetadataResolver,
  ClientMetadataDocumentError,
  metadataDocumentUrlProblem,
  validateMetadataDocument,
} from '../../../src/authorization-server/client-id-metadata.js';
import { freshnessSeconds } from '../../../src/http/freshness.js';
import { cimdSchema } from '../../../src/config/schema.js';
import { openSqliteStore, type SqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import { EventRecorder } from '../../../src/events/recorder.js';
import { startDocumentServer, type DocumentServer } from '../../helpers/https-document-server.js';

const URL_ID = 'https://app.example.com/oauth/client.json';
const doc = (over: Record<string, unknown> = {}) => Buffer.from(JSON.stringify({ client_id: URL_ID, client_name: 'App', redirect_uris: ['http://localhost/callback'], ...over }));

describe('metadataDocumentUrlProblem', () => {
  it('accepts an https URL with a path (port and query allowed)', () => {
    expect(metadataDocumentUrlProblem(URL_ID)).toBeUndefined();
    expect(metadataDocumentUrlProblem('https://app.example.com:8443/c?v=1')).toBeUndefined();
  });
  it.each([
    ['http://app.example.com/client.json', /https/],
    ['https://app.example.com/', /path/],
    ['https://app.example.com', /path|normalised/],
    ['https://u:p@app.example.com/c.json', /user name/],
    ['https://app.example.com/c.json#x', /fragment/],
    ['https://app.example.com/a/../c.json', /normalised/],
    ['https://app.example.com/./c.json', /normalised/],
    ['https://APP.example.com/c.json', /normalised/],
    ['not a url', /valid URL/],
  ])('refuses %s', (id, why) => {
    expect(metadataDocumentUrlProblem(id)).toMatch(why);
  });
});

describe('validateMetadataDocument', () => {
  it('accepts a public-client document and normalises auth method, grant and response types', () => {
    const meta = validateMetadataDocument(URL_ID, doc({ application_type: 'native' }));
    expect(meta).toMatchObject({ client_id: URL_ID, client_name: 'App', token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], application_type: 'native' });
  });
  it.each([
    ['a client_id that is not the document URL', doc({ client_id: 'https://evil.example.com/oauth/client.json' }), /must equal the document URL exactly/],
    ['a client_id with a trailing slash', doc({ client_id: `${URL_ID}/` }), /must equal the document URL exactly/],
    ['no redirect URIs', doc({ redirect_uris: [] }), /redirect_uris: at least one/],
    ['a missing redirect_uris', Buffer.from(JSON.stringify({ client_id: URL_ID })), /redirect_uris/],
    ['a non-loopback http redirect URI', doc({ redirect_uris: ['http://evil.example.com/cb'] }), /must use https unless the host is loopback/],
    ['a javascript: redirect URI', doc({ redirect_uris: ['javascript:alert(1)'] }), /forbidden scheme/],
    ['a client_secret', doc({ client_secret: 'abc' }), /must not contain client_secret/],
    ['client_secret_basic', doc({ token_endpoint_auth_method: 'client_secret_basic' }), /only public clients/],
    ['private_key_jwt', doc({ token_endpoint_auth_method: 'private_key_jwt' }), /only public clients/],
    ['grant_types without authorization_code', doc({ grant_types: ['client_credentials'] }), /authorization_code/],
    ['an overlong client_name', doc({ client_name: 'x'.repeat(201) }), /client_name/],
    ['invalid JSON', Buffer.from('{"client_id":'), /not valid JSON/],
    ['a JSON array', Buffer.from('[]'), /not a JSON object/],
  ])('refuses %s', (_name, body, why) => {
    expect(() => validateMetadataDocument(URL_ID, body)).toThrow(why);
    try {
      validateMetadataDocument(URL_ID, body);
    } catch (e) {
      expect(e).toBeInstanceOf(ClientMetadataDocumentError);
      expect((e as ClientMetadataDocumentError).errorCode).toBe('invalid_client');
    }
  });
});

describe('freshnessSeconds', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it('uses max-age, s-maxage first, minus Age, clamped to the maximum', () => {
    expect(freshnessSeconds({ 'cache-control': 'public, max-age=600' }, now, 300, 86_400)).toBe(600);
    expect(freshnessSeconds({ 'cache-control': 'max-age=600, s-maxage=60' }, now, 300, 86_400)).toBe(60);
    expect(freshnessSeconds({ 'cache-control': 'max-age=600', age: '100' }, now, 300, 86_400)).toBe(500);
    expect(freshnessSeconds({ 'cache-control': 'max-age=31536000' }, now, 300, 86_400)).toBe(86_400);
  });
  it('does not cache no-store or no-cache', () => {
    expect(freshnessSeconds({ 'cache-control': 'no-store' }, now, 300, 86_400)).toBe(0);
    expect(freshnessSeconds({ 'cache-control': 'no-cache, max-age=600' }, now, 300, 86_400)).toBe(0);
  });
  it('uses Expires relative to Date, and treats an invalid Expires as expired', () => {
    expect(freshnessSeconds({ expires: 'Thu, 01 Jan 2026 00:10:00 GMT', date: 'Thu, 01 Jan 2026 00:00:00 GMT' }, now, 300, 86_400)).toBe(600);
    expect(freshnessSeconds({ expires: 'Thu, 01 Jan 2026 00:02:00 GMT' }, now, 300, 86_400)).toBe(120);
    expect(freshnessSeconds({ expires: '0' }, now, 300, 86_400)).toBe(0);
  });
  it('falls back to the default', () => {
    expect(freshnessSeconds({}, now, 300, 86_400)).toBe(300);
  });
});

describe('ClientIdMetadataResolver', () => {
  let docs: DocumentServer;
  let store: SqliteStore;
  let nowMs: number;
  let resolver: ClientIdMetadataResolver;
  const url = (p: string) => docs.url(p);
  const client = (p: string, over: Record<string, unknown> = {}) => ({ client_id: url(p), client_name: `Doc ${p}`, redirect_uris: ['http://localhost/callback'], ...over });

  beforeAll(async () => {
    docs = await startDocumentServer();
  });
  afterAll(async () => {
    await docs?.close();
  });
  beforeEach(() => {
    store = openSqliteStore(':memory:');
    nowMs = Date.parse('2026-01-01T00:00:00Z');
    resolver = new ClientIdMetadataResolver({
      store,
      events: new EventRecorder(store, () => undefined, () => Math.floor(nowMs / 1000)),
      clock: () => Math.floor(nowMs / 1000),
      nowMs: () => nowMs,
      config: cimdSchema.parse({ allowPrivateAddresses: true, extraCa: docs.cert.certPath, timeoutMs: 1_000 }),
    });
  });

  it('persists a cimd client with a client.registered event, and serves it from the cache while fresh', async () => {
    docs.json('/cached.json', client('/cached.json'), { 'cache-control': 'max-age=60' });
    const first = await resolver.resolve(url('/cached.json'));
    expect(first).toMatchObject({ clientId: url('/cached.json'), kind: 'cimd', secretHash: null, blockedAt: null });
    expect(first.metadata.client_name).toBe('Doc /cached.json');
    expect(await store.events.list({ type: 'client.registered' })).toHaveLength(1);
    expect((await store.events.list({ type: 'client.registered' }))[0]!.detail).toMatchObject({ kind: 'cimd', document_host: `localhost:${docs.port}` });
    await resolver.resolve(url('/cached.json'));
    await resolver.resolve(url('/cached.json'), 'token');
    expect(docs.hits.get('/cached.json')).toBe(1);
    // Stale after max-age: fetched again, the stored metadata refreshed, no second registration event.
    docs.json('/cached.json', client('/cached.json', { client_name: 'Renamed' }), { 'cache-control': 'max-age=60' });
    nowMs += 61_000;
    const again = await resolver.resolve(url('/cached.json'));
    expect(docs.hits.get('/cached.json')).toBe(2);
    expect(again.metadata.client_name).toBe('Renamed');
    expect(again.createdAt).toBe(first.createdAt);
    expect((await store.clients.find(url('/cached.json')))!.metadata.client_name).toBe('Renamed');
    expect(await store.events.list({ type: 'client.registered' })).toHaveLength(1);
  });

  it('fetches a no-store document every time', async () => {
    docs.json('/nostore.json', client('/nostore.json'), { 'cache-control': 'no-store' });
    await resolver.resolve(url('/nostore.json'));
    await resolver.resolve(url('/nostore.json'));
    expect(docs.hits.get('/nostore.json')).toBe(2);
  });

  it('fetches once for concurrent resolutions', async () => {
    docs.json('/concurrent.json', client('/concurrent.json'), { 'cache-control': 'no-store' });
    await Promise.all([1, 2, 3, 4, 5].map(() => resolver.resolve(url('/concurrent.json'))));
    expect(docs.hits.get('/concurrent.json')).toBe(1);
  });

  it('remembers a refusal briefly instead of re-fetching', async () => {
    docs.json('/wrong.json', client('/other.json'));
    await expect(resolver.resolve(url('/wrong.json'))).rejects.toThrow(/must equal the document URL/);
    await expect(resolver.resolve(url('/wrong.json'))).rejects.toThrow(/must equal the document URL/);
    expect(docs.hits.get('/wrong.json')).toBe(1);
    nowMs += 11_000;
    await expect(resolver.resolve(url('/wrong.json'))).rejects.toThrow(/must equal the document URL/);
    expect(docs.hits.get('/wrong.json')).toBe(2);
  });

  it('at the token endpoint: refuses an unknown client without fetching, and keeps a stored client through a transient failure', async () => {
    await expect(resolver.resolve(url('/never.json'), 'token')).rejects.toThrow(/authorize first/);
    expect(docs.hits.get('/never.json')).toBeUndefined();

    docs.json('/flaky.json', client('/flaky.json'), { 'cache-control': 'max-age=10' });
    await resolver.resolve(url('/flaky.json'));
    docs.route('/flaky.json', (_req, res) => res.writeHead(503).end());
    nowMs += 11_000;
    await expect(resolver.resolve(url('/flaky.json'))).rejects.toThrow(/HTTP 503/);
    expect((await resolver.resolve(url('/flaky.json'), 'token')).clientId).toBe(url('/flaky.json'));
    // A definite refusal (the document now names another client) is not papered over.
    docs.json('/flaky.json', client('/other.json'));
    await expect(resolver.resolve(url('/flaky.json'), 'token')).rejects.toThrow(/must equal the document URL/);
  });

  it('returns a blocked client without fetching (the caller refuses it)', async () => {
    docs.json('/blocked.json', client('/blocked.json'), { 'cache-control': 'no-store' });
    await resolver.resolve(url('/blocked.json'));
    await store.clients.block(url('/blocked.json'), 1);
    expect((await resolver.resolve(url('/blocked.json'))).blockedAt).toBe(1);
    expect(docs.hits.get('/blocked.json')).toBe(1);
  });

  it('bounds the cache', async () => {
    const small = new ClientIdMetadataResolver({
      store,
      events: new EventRecorder(store, () => undefined),
      clock: () => Math.floor(nowMs / 1000),
      nowMs: () => nowMs,
      config: cimdSchema.parse({ allowPrivateAddresses: true, extraCa: docs.cert.certPath, maxCacheEntries: 2 }),
    });
    for (const p of ['/b1.json', '/b2.json', '/b3.json']) docs.json(p, client(p), { 'cache-control': 'max-age=600' });
    for (const p of ['/b1.json', '/b2.json', '/b3.json']) await small.resolve(url(p));
    await small.resolve(url('/b3.json'));
    await small.resolve(url('/b1.json'));
    expect(docs.hits.get('/b3.json')).toBe(1);
    expect(docs.hits.get('/b1.json')).toBe(2);
  });

  it('bounds the number of concurrent fetches', async () => {
    const hanging = Array.from({ length: 16 }, (_, i) => `/hang-${i}.json`);
    for (const p of hanging) docs.route(p, () => undefined);
    const quick = new ClientIdMetadataResolver({
      store,
      events: new EventRecorder(store, () => undefined),
      clock: () => 0,
      config: cimdSchema.parse({ allowPrivateAddresses: true, extraCa: docs.cert.certPath, timeoutMs: 400 }),
    });
    const pending = hanging.map((p) => quick.resolve(url(p)).then(() => 'resolved', (e: Error) => e.message));
    await expect(quick.resolve(url('/one-too-many.json'))).rejects.toThrow(/too many client metadata documents/);
    expect((await Promise.all(pending)).every((m) => /within 400 ms/.test(m))).toBe(true);
  });

  it('refuses everything when disabled', async () => {
    const off = new ClientIdMetadataResolver({ store, events: new EventRecorder(store, () => undefined), clock: () => 0, config: cimdSchema.parse({ enabled: false }) });
    await expect(off.resolve(URL_ID)).rejects.toThrow(/does not accept client ID metadata documents/);
  });

  it('refuses an unreadable extraCa at construction', () => {
    expect(() => new ClientIdMetadataResolver({ store, events: new EventRecorder(store, () => undefined), clock: () => 0, config: cimdSchema.parse({ extraCa: '/nonexistent/ca.pem' }) })).toThrow(/cimd\.extraCa/);
  });
});
