/**
 * A keyhole instance for unit tests of the authorization-server endpoints: in-memory SQLite, a random master key,
 * a controllable clock, and two servers (`a`, `b`) whose upstream OAuth uses explicit endpoints on 127.0.0.1
 * (no discovery, so no network is needed to render consent or build the upstream authorization URL).
 * Clients, grants, codes and tokens are seeded straight into the store, hashed like keyhole hashes them.
 */
import { randomBytes } from 'node:crypto';
import { parseConfig } from '../../../src/config/load-config.js';
import { createKeyhole, type Keyhole } from '../../../src/keyhole.js';
import { keyringFromMasterKey, VaultCipher } from '../../../src/store/crypto/vault-cipher.js';
import { openSqliteStore, type SqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import { randomToken, sha256Hex } from '../../../src/store/crypto/hash.js';
import { s256 } from '../../../src/oauth/pkce.js';
import { sealContext } from '../../../src/upstream/seal-context.js';
import type { ClientRecord, CodeRecord, EventRecord, GrantRecord } from '../../../src/store/types.js';
import { makeAccess, makeClient, makeCode, makeGrant, makeRefresh, makeCredential } from '../store/store-contract.js';
import { sqliteCount } from '../../helpers/sqlite-engine.js';

export const T0 = 1_700_000_000;
export const PUBLIC_URL = 'http://127.0.0.1:8787';
export const RESOURCE_A = `${PUBLIC_URL}/mcp/a`;
export const RESOURCE_B = `${PUBLIC_URL}/mcp/b`;
export const PRM_A = `${PUBLIC_URL}/.well-known/oauth-protected-resource/mcp/a`;
export const UPSTREAM_A_AUTHORIZE = 'http://127.0.0.1:9/a/authorize';
export const UPSTREAM_A_RESOURCE = 'http://127.0.0.1:9/a/mcp';
/** RFC 7636 Appendix B. */
export const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
export const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';
export const CLIENT_REDIRECT = 'http://127.0.0.1:33418/callback';

export function rawConfig(over: { publicUrl?: string; servers?: string[]; tokens?: Record<string, number> } = {}): Record<string, unknown> {
  const servers: Record<string, unknown> = {
    a: {
      upstream: UPSTREAM_A_RESOURCE,
      displayName: 'Server A',
      oauth: {
        authorizationEndpoint: UPSTREAM_A_AUTHORIZE,
        tokenEndpoint: 'http://127.0.0.1:9/a/token',
        clientId: 'keyhole-a',
        clientSecret: 'upstream-secret-a',
        scopes: ['openid', 'offline_access'],
        resource: UPSTREAM_A_RESOURCE,
      },
    },
    b: {
      upstream: 'http://127.0.0.1:9/b/mcp',
      oauth: {
        authorizationEndpoint: 'http://127.0.0.1:9/b/authorize',
        tokenEndpoint: 'http://127.0.0.1:9/b/token',
        clientId: 'keyhole-b',
        clientSecret: 'upstream-secret-b',
        scopes: ['openid'],
      },
      scopes: {
        'b:read': { description: 'Read things', upstreamScopes: ['read'], tools: ['get_*'] },
        'b:write': { description: 'Write things', upstreamScopes: ['write'], tools: ['set_*'] },
      },
    },
  };
  const names = over.servers ?? ['a', 'b'];
  return {
    publicUrl: over.publicUrl ?? PUBLIC_URL,
    storage: { sqlite: ':memory:', vault: 'sqlite' },
    ...(over.tokens ? { tokens: over.tokens } : {}),
    servers: Object.fromEntries(names.map((n) => [n, servers[n]])),
  };
}

export interface Harness {
  keyhole: Keyhole;
  app: Keyhole['app'];
  store: SqliteStore;
  cipher: VaultCipher;
  logs: string[];
  clock: { now: number };
  publicUrl: string;
  /** `app.request` against the public URL. */
  request(path: string, init?: RequestInit): Promise<Response>;
  /** POST an application/x-www-form-urlencoded body. */
  postForm(path: string, params: Record<string, string> | string, headers?: Record<string, string>): Promise<Response>;
  seedClient(over?: Partial<ClientRecord>): Promise<ClientRecord>;
  seedConfidentialClient(over?: Partial<ClientRecord>): Promise<{ client: ClientRecord; secret: string }>;
  seedGrant(client: ClientRecord, over?: Partial<GrantRecord>): Promise<GrantRecord>;
  /** A code value for the grant, with the RFC 7636 Appendix B challenge. */
  seedCode(grant: GrantRecord, over?: Partial<CodeRecord>): Promise<{ code: string; record: CodeRecord }>;
  /** An access + refresh token pair in a fresh (or given) family. */
  seedTokens(grant: GrantRecord, over?: { familyId?: string; scopes?: string[]; resource?: string; accessExpiresAt?: number; refreshExpiresAt?: number }): Promise<{ access: string; refresh: string; familyId: string }>;
  /** Seal an upstream credential for the grant, as the callback would. */
  seedUpstreamCredential(grant: GrantRecord): Promise<void>;
  events(type?: string): Promise<EventRecord[]>;
  count(table: 'clients' | 'pending_authorizations' | 'grants' | 'codes' | 'access_tokens' | 'refresh_tokens' | 'upstream_credentials' | 'events'): number;
  close(): Promise<void>;
}

export function resourceOf(server: string, publicUrl = PUBLIC_URL): string {
  return `${publicUrl}/mcp/${server}`;
}

export async function createHarness(opts: { publicUrl?: string; servers?: string[]; tokens?: Record<string, number>; edit?: (raw: Record<string, any>) => void } = {}): Promise<Harness> {
  const logs: string[] = [];
  const clock = { now: T0 };
  const raw = rawConfig(opts);
  opts.edit?.(raw);
  const config = parseConfig(raw, {});
  const keyring = keyringFromMasterKey(randomBytes(32).toString('base64url'));
  const store = openSqliteStore(':memory:');
  const keyhole = await createKeyhole({ config, keyring, store, log: (l) => logs.push(l), clock: () => clock.now });
  const cipher = new VaultCipher(keyring);
  const publicUrl = config.publicUrl;

  const request = async (path: string, init?: RequestInit) => (await Promise.resolve(keyhole.app.request(new URL(path, publicUrl).toString(), init)));

  return {
    keyhole,
    app: keyhole.app,
    store,
    cipher,
    logs,
    clock,
    publicUrl,
    request,
    postForm(path, params, headers = {}) {
      const body = typeof params === 'string' ? params : new URLSearchParams(params).toString();
      return request(path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body });
    },
    async seedClient(over = {}) {
      const client = makeClient({ createdAt: T0, ...over });
      await store.clients.create(client);
      return client;
    },
    async seedConfidentialClient(over = {}) {
      const secret = randomToken('kh_cs_');
      const client = makeClient({ createdAt: T0, secretHash: sha256Hex(secret), ...over });
      client.metadata = { ...client.metadata, token_endpoint_auth_method: 'client_secret_basic' };
      await store.clients.create(client);
      return { client, secret };
    },
    async seedGrant(client, over = {}) {
      const grant = makeGrant({ clientId: client.clientId, server: 'a', scopes: ['mcp'], createdAt: T0, ...over });
      await store.grants.create(grant);
      return grant;
    },
    async seedCode(grant, over = {}) {
      const code = randomToken('kh_code_');
      const record = makeCode(grant, {
        hash: sha256Hex(code),
        redirectUri: CLIENT_REDIRECT,
        codeChallenge: CHALLENGE,
        resource: resourceOf(grant.server, publicUrl),
        scopes: grant.scopes,
        expiresAt: clock.now + 60,
        ...over,
      });
      await store.tokens.createCode(record);
      return { code, record };
    },
    async seedTokens(grant, over = {}) {
      const familyId = over.familyId ?? `f_${randomBytes(16).toString('base64url')}`;
      const access = randomToken('kh_at_');
      const refresh = randomToken('kh_rt_');
      const common = { resource: over.resource ?? resourceOf(grant.server, publicUrl), scopes: over.scopes ?? grant.scopes };
      await store.tokens.createAccess(makeAccess(grant, familyId, { hash: sha256Hex(access), expiresAt: over.accessExpiresAt ?? clock.now + 900, ...common }));
      await store.tokens.createRefresh(makeRefresh(grant, familyId, { hash: sha256Hex(refresh), expiresAt: over.refreshExpiresAt ?? clock.now + 86_400, ...common }));
      return { access, refresh, familyId };
    },
    async seedUpstreamCredential(grant) {
      await store.upstreamCredentials.put(
        makeCredential(grant, {
          accessToken: await cipher.seal('upstream-access-value', sealContext.access(grant.id)),
          refreshToken: await cipher.seal('upstream-refresh-value', sealContext.refresh(grant.id)),
          accessExpiresAt: clock.now + 3600,
          updatedAt: clock.now,
        }),
      );
    },
    async events(type) {
      return await store.events.list({ ...(type ? { type } : {}), limit: 500 });
    },
    count(table) {
      return sqliteCount(store, table);
    },
    async close() {
      await keyhole.close();
    },
  };
}

/** A verifier/challenge pair other than the Appendix B one. */
export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: s256(verifier) };
}

/** Basic credentials per RFC 6749 §2.3.1 (form-urlencoded, then base64). */
export function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

/** Asserts an OAuth JSON error body and returns it. */
export async function oauthError(res: Response): Promise<{ error: string; error_description?: string }> {
  const type = res.headers.get('content-type') ?? '';
  if (!type.includes('application/json')) throw new Error(`expected a JSON error, got ${res.status} ${type}: ${(await res.text()).slice(0, 200)}`);
  return (await res.json()) as { error: string; error_description?: string };
}
