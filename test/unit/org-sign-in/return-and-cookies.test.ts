/**
 * The pieces of organization sign-in that need no IdP: the return path (no open redirect), the sealed sign-in
 * transaction cookie (tamper-proof, single use, bound to its state) and the person-session cookie's attributes
 * (`__Host-` + Secure on https, HttpOnly, SameSite=Lax, Path=/, Max-Age = sessionSeconds; only the hash stored).
 */
import { describe, expect, it } from 'vitest';
import { Hono } from 'hono';
import { randomBytes } from 'node:crypto';
import { DEFAULT_RETURN_PATH, safeReturnPath } from '../../../src/org-sign-in/return-path.js';
import { signInTransactions } from '../../../src/org-sign-in/sign-in-transaction.js';
import { PersonSessions } from '../../../src/people/person-session.js';
import { VaultCipher, keyringFromMasterKey } from '../../../src/store/crypto/vault-cipher.js';
import { openSqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import { SqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import { sha256Hex } from '../../../src/store/crypto/hash.js';

const T0 = 1_700_000_000;

describe('safeReturnPath', () => {
  it('keeps paths on keyhole, query included', () => {
    expect(safeReturnPath('/authorize?client_id=c_1&scope=a%20b')).toBe('/authorize?client_id=c_1&scope=a%20b');
    expect(safeReturnPath('/account')).toBe('/account');
  });
  it.each([
    null, '', 'https://evil.example/', '//evil.example/x', '/\\evil.example', '\\\\evil', 'javascript:alert(1)', 'account',
    '/\tevil', `/${'a'.repeat(2100)}`, '/%0d%0aSet-Cookie:x=1'.replace('%0d%0a', '\r\n'),
  ])('refuses %j (the default instead)', (value) => {
    expect(safeReturnPath(value)).toBe(DEFAULT_RETURN_PATH);
  });
});

function cipher() {
  return new VaultCipher(keyringFromMasterKey(randomBytes(32).toString('base64url')));
}

describe('sign-in transaction cookie', () => {
  it('is sealed (no value readable in the cookie), taken once, only for its own state, and refused when tampered or expired', async () => {
    let now = T0;
    const tx = signInTransactions('https://keyhole.example', cipher(), () => now);
    const app = new Hono();
    app.get('/save', async (c) => {
      await tx.save(c, { state: 'state-1', nonce: 'nonce-VALUE', codeVerifier: 'verifier-VALUE', returnTo: '/authorize?x=1' });
      return c.text('ok');
    });
    app.get('/take', async (c) => c.json((await tx.take(c, c.req.query('state')!)) ?? null));
    const saved = await app.request('https://keyhole.example/save');
    const setCookie = saved.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/^__Host-keyhole-signin-[0-9a-f]{16}=eyJ/);
    expect(setCookie).toMatch(/Max-Age=600/);
    expect(setCookie).toMatch(/Path=\//);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/Secure/);
    expect(setCookie).toMatch(/SameSite=Lax/);
    expect(setCookie).not.toContain('verifier-VALUE');
    expect(setCookie).not.toContain('nonce-VALUE');
    const cookie = setCookie.split(';')[0]!;
    const take = (state: string, c = cookie) => app.request(`https://keyhole.example/take?state=${state}`, { headers: { cookie: c } });
    expect(await (await take('state-2')).json()).toBeNull();
    const [name, value] = cookie.split('=') as [string, string];
    expect(await (await take('state-1', `${name}=${value.slice(0, -2)}AA`)).json()).toBeNull();
    const taken = await take('state-1');
    expect(await taken.json()).toMatchObject({ state: 'state-1', nonce: 'nonce-VALUE', codeVerifier: 'verifier-VALUE', returnTo: '/authorize?x=1' });
    expect(taken.headers.get('set-cookie')).toMatch(/^__Host-keyhole-signin-[0-9a-f]{16}=;.*Max-Age=0/);
    now = T0 + 601;
    expect(await (await take('state-1')).json()).toBeNull();
  });
});

describe('person-session cookie', () => {
  it('on https: __Host-, Secure, HttpOnly, SameSite=Lax, Path=/, Max-Age; only the hash is stored; ended sessions are gone', async () => {
    const store = openSqliteStore(':memory:');
    try {
      await store.people.create({ id: 'u_1', iss: 'i', sub: 's', email: null, name: null, groups: [], status: 'active', offboardedAt: null, offboardedBy: null, offboardedVia: null, externalId: null, userName: null, scimActive: null, createdAt: T0, lastSeenAt: null });
      const sessions = new PersonSessions({ store, publicUrl: 'https://keyhole.example', sessionSeconds: 3600, clock: () => T0 });
      const app = new Hono();
      app.get('/start', async (c) => c.json(await sessions.start(c, 'u_1')));
      app.get('/who', async (c) => c.json((await sessions.read(c))?.person.id ?? null));
      app.get('/end', async (c) => {
        await sessions.end(c);
        return c.text('ok');
      });
      const started = await app.request('https://keyhole.example/start');
      const setCookie = started.headers.get('set-cookie')!;
      expect(setCookie).toMatch(/^__Host-keyhole-person=kh_ps_[A-Za-z0-9_-]{43}; Max-Age=3600; Path=\/; HttpOnly; Secure; SameSite=Lax$/);
      const value = /=([^;]+)/.exec(setCookie)![1]!;
      const record = (await started.json()) as { hash: string };
      expect(record.hash).toBe(sha256Hex(value));
      expect(SqliteStore.connectionOf(store).serialize().toString('latin1')).not.toContain(value);
      const cookie = setCookie.split(';')[0]!;
      expect(await (await app.request('https://keyhole.example/who', { headers: { cookie } })).json()).toBe('u_1');
      // The unprefixed name is not read on https (a sibling subdomain or an http page could have set it).
      expect(await (await app.request('https://keyhole.example/who', { headers: { cookie: `keyhole-person=${value}` } })).json()).toBeNull();
      await app.request('https://keyhole.example/end', { headers: { cookie } });
      expect(await (await app.request('https://keyhole.example/who', { headers: { cookie } })).json()).toBeNull();
    } finally {
      await store.close();
    }
  });
});
