import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteStore, type SqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import { sha256Hex } from '../../../src/store/crypto/hash.js';
import { sqliteConnection } from '../../helpers/sqlite-engine.js';
import { Hono } from 'hono';
import { AdminSessions, adminCookie } from '../../../src/admin/session.js';
import { FailureLimiter } from '../../../src/http/failure-limiter.js';
import { csrfMatches, isSameOrigin } from '../../../src/admin/csrf.js';

describe('AdminSessions', () => {
  const stores: SqliteStore[] = [];
  const store = () => {
    const s = openSqliteStore(':memory:');
    stores.push(s);
    return s;
  };
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
  });

  it('creates a random 256-bit cookie value and finds the session by it', async () => {
    const sessions = new AdminSessions(store().adminSessions);
    const a = await sessions.create();
    const b = await sessions.create();
    expect(a.cookieValue).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a.cookieValue).not.toBe(b.cookieValue);
    expect(a.session.csrf).not.toBe(b.session.csrf);
    expect(await sessions.get(a.cookieValue)).toMatchObject({ key: a.session.key, csrf: a.session.csrf, expiresAt: a.session.expiresAt });
    expect(await sessions.get(undefined)).toBeUndefined();
    expect(await sessions.get('x'.repeat(43))).toBeUndefined();
    expect(await sessions.get('not valid!')).toBeUndefined();
  });

  it('stores neither the cookie value nor the CSRF token, only the hash of the cookie value', async () => {
    const s = store();
    const sessions = new AdminSessions(s.adminSessions);
    const { cookieValue, session } = await sessions.create();
    expect(JSON.stringify(session)).not.toContain(cookieValue);
    const rows = sqliteConnection(s).prepare('SELECT * FROM admin_sessions').all();
    expect(rows).toEqual([{ key_hash: sha256Hex(cookieValue), created_at_ms: session.createdAt, last_seen_at_ms: session.createdAt, expires_at_ms: session.expiresAt }]);
    expect(JSON.stringify(rows)).not.toContain(session.csrf);
  });

  it('a session made by one instance is known to another on the same database, and sign-out anywhere ends it', async () => {
    const s = store();
    const a = new AdminSessions(s.adminSessions);
    const b = new AdminSessions(s.adminSessions);
    const { cookieValue, session } = await a.create();
    expect((await b.get(cookieValue))?.csrf).toBe(session.csrf); // same CSRF token on every instance
    await b.destroy(session);
    expect(await a.get(cookieValue)).toBeUndefined();
  });

  it('ends a session after its lifetime and after the idle timeout', async () => {
    let now = 0;
    const sessions = new AdminSessions(store().adminSessions, { ttlMs: 10_000, idleMs: 3_000, now: () => now });
    const a = await sessions.create();
    now = 2_000;
    expect(await sessions.get(a.cookieValue)).toBeDefined(); // used: idle timer restarts
    now = 4_500;
    expect(await sessions.get(a.cookieValue)).toBeDefined();
    now = 7_600; // 3.1 s idle
    expect(await sessions.get(a.cookieValue)).toBeUndefined();

    now = 0;
    const b = await sessions.create();
    for (now = 2_000; now < 10_000; now += 2_000) expect(await sessions.get(b.cookieValue)).toBeDefined();
    now = 10_000;
    expect(await sessions.get(b.cookieValue)).toBeUndefined();
  });

  it('destroys a session (sign-out) and bounds the number of sessions', async () => {
    let now = 1_000;
    const sessions = new AdminSessions(store().adminSessions, { maxSessions: 2, now: () => now++ });
    const a = await sessions.create();
    const b = await sessions.create();
    await sessions.destroy(b.session);
    expect(await sessions.get(b.cookieValue)).toBeUndefined();
    await sessions.create();
    await sessions.create();
    expect(await sessions.size()).toBe(2);
    expect(await sessions.get(a.cookieValue)).toBeUndefined(); // the oldest was dropped
  });
});

describe('adminCookie', () => {
  async function setCookieFor(publicUrl: string) {
    const app = new Hono();
    app.get('/', (c) => {
      adminCookie(publicUrl, 3600).write(c, 'v');
      return c.text('ok');
    });
    return (await app.request('/')).headers.get('set-cookie')!;
  }

  it('on http: HttpOnly, SameSite=Strict, Path=/admin, not Secure', async () => {
    const h = await setCookieFor('http://127.0.0.1:8787');
    expect(h).toMatch(/^keyhole-admin=v;/);
    expect(h).toContain('HttpOnly');
    expect(h).toContain('SameSite=Strict');
    expect(h).toContain('Path=/admin');
    expect(h).not.toContain('Secure');
    expect(h).toContain('Max-Age=3600');
  });

  it('on https: __Host- prefix, Secure, HttpOnly, SameSite=Strict, Path=/ (the prefix requires it)', async () => {
    const h = await setCookieFor('https://keyhole.example.com');
    expect(h).toMatch(/^__Host-keyhole-admin=v;/);
    expect(h).toContain('Secure');
    expect(h).toContain('HttpOnly');
    expect(h).toContain('SameSite=Strict');
    expect(h).toContain('Path=/;');
    expect(h).not.toContain('Domain');
  });
});

describe('FailureLimiter', () => {
  it('blocks an address after `limit` failures until the window ends', () => {
    const l = new FailureLimiter(3, 60_000);
    for (let i = 0; i < 2; i++) l.fail('a', 1_000);
    expect(l.isBlocked('a', 1_000)).toBe(false);
    l.fail('a', 1_000);
    expect(l.isBlocked('a', 1_000)).toBe(true);
    expect(l.retryAfter('a', 31_000)).toBe(30);
    expect(l.isBlocked('b', 1_000)).toBe(false);
    expect(l.isBlocked('a', 61_000)).toBe(false);
  });

  it('refuses nonsense limits', () => {
    expect(() => new FailureLimiter(0, 1000)).toThrow(RangeError);
    expect(() => new FailureLimiter(1, 0)).toThrow(RangeError);
  });
});

describe('admin CSRF helpers', () => {
  const origin = 'https://keyhole.example.com';
  it('accepts same-origin requests and requests without Origin (non-browser)', () => {
    expect(isSameOrigin({ origin, fetchSite: 'same-origin' }, origin)).toBe(true);
    expect(isSameOrigin({}, origin)).toBe(true);
  });
  it('judges Origin: null (sent under Referrer-Policy: no-referrer) by Sec-Fetch-Site', () => {
    expect(isSameOrigin({ origin: 'null', fetchSite: 'same-origin' }, origin)).toBe(true);
    expect(isSameOrigin({ origin: 'null', fetchSite: 'cross-site' }, origin)).toBe(false);
  });
  it('refuses other origins and cross-site or same-site fetches', () => {
    expect(isSameOrigin({ origin: 'https://evil.example' }, origin)).toBe(false);
    expect(isSameOrigin({ fetchSite: 'cross-site' }, origin)).toBe(false);
    expect(isSameOrigin({ origin, fetchSite: 'same-site' }, origin)).toBe(false);
  });
  it('compares the CSRF token exactly', async () => {
    const store = openSqliteStore(':memory:');
    const s = (await new AdminSessions(store.adminSessions).create()).session;
    await store.close();
    expect(csrfMatches(s, s.csrf)).toBe(true);
    expect(csrfMatches(s, `${s.csrf}x`)).toBe(false);
    expect(csrfMatches(s, '')).toBe(false);
    expect(csrfMatches(s, null)).toBe(false);
  });
});
