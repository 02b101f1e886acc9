/**
 * Identity-mode signing keys (next → active → retired → deleted, JWKS contents, undecryptable keys replaced),
 * identity JWT caching, static credential sealing, and the config rules of every upstream kind.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { openSqliteStore, type SqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import { VaultCipher, keyringFromMasterKey } from '../../../src/store/crypto/vault-cipher.js';
import { EventRecorder } from '../../../src/events/recorder.js';
import { SigningKeys } from '../../../src/upstream/signing-keys.js';
import { IdentityJwtSource } from '../../../src/upstream/identity-jwt.js';
import { StaticCredentialSource, staticCredentialSealContext } from '../../../src/upstream/static-credential.js';
import { UpstreamUnavailableError } from '../../../src/upstream/errors.js';
import { parseConfig, ConfigError } from '../../../src/config/load-config.js';

const T0 = 1_700_000_000;
const DAY = 86_400;

describe('identity mode', () => {
  let store: SqliteStore;
  let cipher: VaultCipher;
  let events: EventRecorder;
  let now: number;
  const clock = () => now;
  const keysOf = (c = cipher) => new SigningKeys({ store, cipher: c, events, clock, rotationSeconds: DAY, maxTokenTtlSeconds: 300 });
  const grant = { id: 'g_1', server: 'internal', clientId: 'c_client', subject: 'alice', scopes: ['read', 'write'] };

  beforeEach(() => {
    now = T0;
    store = openSqliteStore(':memory:');
    cipher = new VaultCipher(keyringFromMasterKey(randomBytes(32).toString('base64url')));
    events = new EventRecorder(store, () => undefined, clock);
  });
  afterEach(async () => await store.close());

  it('several instances on one database: a rotation by one is adopted by the others (notice or due rotation), never doubled', async () => {
    const a = keysOf();
    const b = keysOf();
    await a.ready();
    await b.ready();
    expect(b.activeKid).toBe(a.activeKid); // the second instance adopts the key the first created
    const first = a.activeKid;
    // Instance A rotates (admin action); B hears the `signing-keys` notice (keyhole.ts calls reload) and signs with the new key.
    const rotated = await a.rotate();
    expect(rotated).not.toBe(first);
    await b.reload();
    expect(b.activeKid).toBe(rotated);
    expect((await b.jwks()).keys.map((k) => k.kid)).toContain(rotated);
    // When the key is due, whichever instance gets there first rotates; the other adopts it instead of rotating again.
    now += DAY + 1;
    const c = keysOf();
    await c.ready();
    const viaA = (await a.signingKey()).kid;
    const viaB = (await b.signingKey()).kid;
    expect(viaB).toBe(viaA);
    expect((await store.signingKeys.list()).filter((k) => k.activatedAt !== null && k.retiredAt === null).map((k) => k.kid)).toEqual([viaA]);
    expect((await c.signingKey()).kid).toBe(viaA);
  });

  it('creates an active and a next key on first start, and publishes both (public parts only)', async () => {
    const keys = keysOf();
    await keys.ready();
    const rows = await store.signingKeys.list();
    expect(rows).toHaveLength(2);
    expect(rows.filter((k) => k.activatedAt !== null)).toHaveLength(1);
    const jwks = await keys.jwks();
    expect(jwks.keys.map((k) => k.kid).sort()).toEqual(rows.map((k) => k.kid).sort());
    for (const k of jwks.keys) expect(Object.keys(k).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
    // A second instance on the same database loads, it does not create.
    await keysOf().ready();
    expect(await store.signingKeys.list()).toHaveLength(2);
  });

  it('promotes the pre-published next key on rotation, keeps the old one published for 5 min + leeway, then deletes it', async () => {
    const keys = keysOf();
    await keys.ready();
    const first = keys.activeKid!;
    const published = (await keys.jwks()).keys.map((k) => k.kid);
    const second = await keys.rotate();
    expect(published).toContain(second); // verifiers that cached the JWKS before the rotation already know it
    expect((await keys.jwks()).keys.map((k) => k.kid)).toEqual(expect.arrayContaining([first, second]));
    now += 300 + 61;
    await keys.rotate();
    const kids = (await keys.jwks()).keys.map((k) => k.kid);
    expect(kids).not.toContain(first);
    expect((await store.signingKeys.list()).map((k) => k.kid)).not.toContain(first);
  });

  it('rotates by itself when the active key is older than the rotation period', async () => {
    const keys = keysOf();
    const a = (await keys.signingKey()).kid;
    now += DAY - 1;
    expect((await keys.signingKey()).kid).toBe(a);
    now += 1;
    expect((await keys.signingKey()).kid).not.toBe(a);
  });

  it('replaces keys whose private half can no longer be opened (vault key gone)', async () => {
    await keysOf().ready();
    const before = (await store.signingKeys.list()).map((k) => k.kid);
    const other = new VaultCipher(keyringFromMasterKey(randomBytes(32).toString('base64url')));
    const keys = keysOf(other);
    const { kid } = await keys.signingKey();
    expect(before).not.toContain(kid);
  });

  it('keeps at most maxCached grants\' JWTs (least recently used evicted: a new JWT for an evicted grant) (issue 17)', async () => {
    const keys = keysOf();
    const source = new IdentityJwtSource({ keys, store, issuer: 'https://kh.example.com', audience: 'https://internal.example.com/mcp', ttlSeconds: 300, clock, maxCached: 2 });
    const g = (id: string) => ({ ...grant, id });
    const jwtOf = async (id: string) => (await source.getCredential(g(id), false)).value;
    const a = await jwtOf('g_a');
    const b = await jwtOf('g_b');
    expect(await jwtOf('g_a')).toBe(a); // a is now the most recent
    await jwtOf('g_c'); // evicts b
    expect(source.cachedJwts).toBe(2);
    expect(await jwtOf('g_a')).toBe(a);
    expect(await jwtOf('g_b')).not.toBe(b);
    expect(source.cachedJwts).toBe(2);
  });

  it('mints a verifiable at+jwt, reuses it, and mints anew on force, scope change, rotation or near expiry', async () => {
    const keys = keysOf();
    const source = new IdentityJwtSource({ keys, store, issuer: 'https://kh.example.com', audience: 'https://internal.example.com/mcp', ttlSeconds: 300, clock });
    const jwtOf = async (g = grant, force = false) => (await source.getCredential(g, force)).value.replace(/^Bearer /, '');
    const a = await jwtOf();
    const { payload, protectedHeader } = await jwtVerify(a, createLocalJWKSet(await keys.jwks()), {
      issuer: 'https://kh.example.com', audience: 'https://internal.example.com/mcp', typ: 'at+jwt', algorithms: ['ES256'], currentDate: new Date(now * 1000),
    });
    expect(protectedHeader.kid).toBe(keys.activeKid);
    expect(payload).toMatchObject({ sub: 'alice', client_id: 'c_client', scope: 'read write', iat: now, exp: now + 300 });
    expect(await jwtOf()).toBe(a);
    const b = await jwtOf(grant, true);
    expect(b).not.toBe(a);
    expect(await jwtOf({ ...grant, scopes: ['read'] })).not.toBe(b);
    const c = await jwtOf({ ...grant, scopes: ['read'] });
    now += 300 - 30 - 1;
    expect(await jwtOf({ ...grant, scopes: ['read'] })).toBe(c);
    now += 1;
    expect(await jwtOf({ ...grant, scopes: ['read'] })).not.toBe(c);
    const d = await jwtOf();
    await keys.rotate();
    const e = await jwtOf();
    expect(e).not.toBe(d);
    expect(decodeProtectedHeader(e).kid).toBe(keys.activeKid);
    expect(decodeJwt(e).jti).not.toBe(decodeJwt(d).jti);
  });
});

describe('static credential', () => {
  let store: SqliteStore;
  let cipher: VaultCipher;
  const clock = () => T0;
  beforeEach(() => {
    store = openSqliteStore(':memory:');
    cipher = new VaultCipher(keyringFromMasterKey(randomBytes(32).toString('base64url')));
  });
  afterEach(async () => await store.close());
  const source = (value: string, prefix = '') =>
    new StaticCredentialSource({ server: 'saas', config: { type: 'static', header: 'Authorization', prefix, value }, store, cipher, events: new EventRecorder(store, () => undefined, clock), clock });
  const grant = { id: 'g_1', server: 'saas', clientId: 'c', subject: 'alice' };

  it('seals the key at startup, injects it with its prefix, and re-seals only when the key changes', async () => {
    const s = source('key-one', 'Bearer ');
    await s.prepare();
    const sealed = (await store.sealedSecrets.find(staticCredentialSealContext('saas')))!;
    expect(sealed).not.toContain('key-one');
    expect(await s.getCredential(grant, false)).toEqual({ header: 'Authorization', value: 'Bearer key-one' });
    await source('key-one').prepare();
    expect(await store.sealedSecrets.find(staticCredentialSealContext('saas'))).toBe(sealed);
    await source('key-two').prepare();
    expect(await cipher.open((await store.sealedSecrets.find(staticCredentialSealContext('saas')))!, 'static-credential:saas')).toBe('key-two');
  });

  it('does not retry a refused key: force → UpstreamUnavailableError (502), recorded', async () => {
    const s = source('key-one');
    await expect(s.getCredential(grant, true)).rejects.toBeInstanceOf(UpstreamUnavailableError);
    expect(await store.events.list({ type: 'upstream.credential_rejected' })).toHaveLength(1);
  });
});

describe('config: every kind of upstream', () => {
  const base = (server: Record<string, unknown>) => ({ publicUrl: 'https://kh.example.com', servers: { s: { upstream: 'https://up.example.com/mcp', ...server } } });
  const idp = { issuer: 'https://idp.example.com', clientId: 'keyhole', clientSecret: 'secret' };
  const problems = (raw: unknown, env: NodeJS.ProcessEnv = {}) => {
    try {
      parseConfig(raw, env);
      return [];
    } catch (e) {
      if (e instanceof ConfigError) return e.problems;
      throw e;
    }
  };

  it('accepts discovery "mcp" without a client id, and still requires one otherwise', () => {
    expect(problems(base({ oauth: { discovery: 'mcp' } }))).toEqual([]);
    expect(problems(base({ oauth: { issuer: 'https://idp.example.com' } }))).toEqual(['servers.s.oauth.clientId: is required (unless "discovery" is "mcp")']);
    expect(problems(base({ oauth: { discovery: 'mcp', tokenEndpoint: 'https://as.example.com/token' } }))[0]).toMatch(/^servers\.s\.oauth\.discovery: explicit endpoints/);
  });

  it('accepts identity-jwt with defaults and caps its lifetime at 5 minutes', () => {
    const c = parseConfig(base({ oauth: idp, credential: { type: 'identity-jwt' } }), {});
    expect(c.servers.s!.credential).toEqual({ type: 'identity-jwt', ttlSeconds: 300 });
    expect(c.identityTokens.keyRotationSeconds).toBe(86_400);
    expect(problems(base({ oauth: idp, credential: { type: 'identity-jwt', ttlSeconds: 301 } }))).toEqual(['servers.s.credential.ttlSeconds: must be at most 300 (5 minutes)']);
  });

  it('accepts a static key from the environment and refuses reserved headers', () => {
    const c = parseConfig(base({ oauth: idp, credential: { type: 'static', header: 'X-API-Key', value: '${KEY}' } }), { KEY: 'k-123' });
    expect(c.servers.s!.credential).toEqual({ type: 'static', header: 'X-API-Key', prefix: '', value: 'k-123' });
    expect(problems(base({ oauth: idp, credential: { type: 'static', header: 'Cookie', value: 'x' } }))[0]).toMatch(/^servers\.s\.credential\.header: this header is reserved/);
  });

  it('refuses a credential combined with discovery "mcp" (oauth must be the identity provider then)', () => {
    expect(problems(base({ oauth: { discovery: 'mcp' }, credential: { type: 'identity-jwt' } }))[0]).toMatch(/^servers\.s\.credential: an identity-jwt or static credential needs/);
  });
});
