/**
 * A keyhole app with an in-memory store and an admin token, driven through app.request(). The upstream is
 * unreachable on purpose (127.0.0.1:9): grants seeded here have no decryptable upstream token, so revocations
 * stay local. Real upstream revocation is covered by test/e2e/admin*.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { parseConfig } from '../../../src/config/load-config.js';
import { createKeyhole, type Keyhole } from '../../../src/keyhole.js';
import { keyringFromMasterKey } from '../../../src/store/crypto/vault-cipher.js';
import { openSqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import type { ClientRecord, GrantRecord, Store } from '../../../src/store/types.js';
import * as contract from '../store/store-contract.js';

export const ADMIN_TOKEN = 'admin-token-for-unit-tests-0123456789';
export const T0 = 1_800_000_000;

export interface Harness {
  keyhole: Keyhole;
  store: Store;
  logs: string[];
  publicUrl: string;
  request(path: string, init?: RequestInit & { cookie?: string }): Promise<Response>;
  /** Signs in through the form; returns the cookie header value and the session's CSRF token. */
  signIn(): Promise<{ cookie: string; csrf: string }>;
  post(path: string, form: Record<string, string>, cookie?: string, headers?: Record<string, string>): Promise<Response>;
  api(path: string, init?: RequestInit & { token?: string | null; json?: unknown }): Promise<Response>;
  close(): Promise<void>;
}

/** The store-contract builders, with this harness's defaults (a plain DCR client; Alice's grant). */
export function makeClient(over: Partial<ClientRecord> = {}): ClientRecord {
  return contract.makeClient({ createdAt: T0, metadata: { client_name: 'Test client', redirect_uris: ['http://127.0.0.1:33418/callback'] }, ...over });
}

export function makeGrant(over: Partial<GrantRecord> = {}): GrantRecord {
  return contract.makeGrant({ createdAt: T0, clientId: 'c_none', subject: 'alice', subjectName: 'Alice Example', scopes: ['mcp:tools'], ...over });
}

export function csrfFrom(html: string): string {
  const m = /name="csrf" value="([^"]+)"/.exec(html);
  if (!m) throw new Error(`no csrf field in: ${html.slice(0, 200)}`);
  return m[1]!;
}

export function cookieFrom(res: Response): string {
  const set = res.headers.getSetCookie().find((c) => /keyhole-admin=/.test(c));
  if (!set) throw new Error('no admin cookie set');
  return set.split(';')[0]!;
}

export async function startHarness(opts: { admin?: boolean; publicUrl?: string; clock?: () => number } = {}): Promise<Harness> {
  const publicUrl = opts.publicUrl ?? 'http://127.0.0.1:8787';
  const config = parseConfig({
    publicUrl,
    listen: { host: '127.0.0.1', port: 0 },
    storage: { sqlite: ':memory:', vault: 'sqlite' },
    ...(opts.admin === false ? {} : { admin: { token: ADMIN_TOKEN } }),
    servers: {
      demo: { upstream: 'http://127.0.0.1:9/mcp', oauth: { issuer: 'http://127.0.0.1:9', clientId: 'keyhole', clientSecret: 's3cret-upstream', scopes: ['mcp:tools'] } },
      other: { upstream: 'http://127.0.0.1:9/other', oauth: { issuer: 'http://127.0.0.1:9', clientId: 'keyhole', clientSecret: 's3cret-upstream', scopes: ['mcp:tools'] } },
    },
  });
  const logs: string[] = [];
  const store = openSqliteStore(':memory:');
  const keyhole = await createKeyhole({
    config,
    store,
    keyring: keyringFromMasterKey(randomBytes(32).toString('base64url')),
    log: (l) => logs.push(l),
    clock: opts.clock ?? (() => Math.floor(Date.now() / 1000)),
  });
  const base = publicUrl;
  const request: Harness['request'] = async (path, init = {}) => {
    const { cookie, ...rest } = init;
    const headers = new Headers(rest.headers);
    if (cookie) headers.set('cookie', cookie);
    return await Promise.resolve(keyhole.app.request(`${base}${path}`, { ...rest, headers }));
  };
  const post: Harness['post'] = (path, form, cookie, headers = {}) =>
    request(path, { method: 'POST', body: new URLSearchParams(form).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, ...(cookie ? { cookie } : {}) });
  return {
    keyhole,
    store,
    logs,
    publicUrl,
    request,
    post,
    async signIn() {
      const res = await post('/admin/login', { token: ADMIN_TOKEN });
      if (res.status !== 303) throw new Error(`sign-in failed: ${res.status}`);
      const cookie = cookieFrom(res);
      const page = await request('/admin/grants', { cookie });
      return { cookie, csrf: csrfFrom(await page.text()) };
    },
    api(path, init = {}) {
      const { token, json, ...rest } = init;
      const headers = new Headers(rest.headers);
      const t = token === undefined ? ADMIN_TOKEN : token;
      if (t !== null) headers.set('authorization', `Bearer ${t}`);
      if (json !== undefined) headers.set('content-type', 'application/json');
      return request(path, { ...rest, headers, ...(json !== undefined ? { body: JSON.stringify(json), method: rest.method ?? 'POST' } : {}) });
    },
    close: () => keyhole.close(),
  };
}
