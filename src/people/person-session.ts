/**
 * keyhole's person session (issue 13): after an organization sign-in, a random session id in a cookie spares the
 * person a second sign-in for `identity.sessionSeconds`. Surfaces (authorization server, admin, a future /account)
 * all read it through {@link PersonSessions.read}, so none imports another.
 *
 * Cookie `keyhole-person` (`__Host-keyhole-person` + Secure on https): HttpOnly, SameSite=Lax (it must come along on
 * the top-level navigation to /authorize from the MCP client and back from the IdP), Path=/, Max-Age = sessionSeconds.
 * The value is `kh_ps_` + 43 base64url (256 bits); only its SHA-256 is stored (`person_sessions`). A session counts
 * only while it is unexpired and unrevoked AND its person is active: offboarding deletes the sessions too.
 * @see https://datatracker.ietf.org/doc/html/draft-ietf-httpbis-rfc6265bis#section-4.1.3.2 (`__Host-` prefix)
 */
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { PersonRecord, PersonSessionRecord, Store } from '../store/types.js';
import { randomToken, sha256Hex } from '../store/crypto/hash.js';

export const PERSON_SESSION_COOKIE = 'keyhole-person';
export const PERSON_SESSION_PREFIX = 'kh_ps_';
const SESSION_VALUE = /^kh_ps_[A-Za-z0-9_-]{43}$/;

export interface PersonSession {
  person: PersonRecord;
  session: PersonSessionRecord;
}

export interface PersonSessionsDeps {
  store: Store;
  publicUrl: string;
  sessionSeconds: number;
  clock: () => number;
}

export class PersonSessions {
  readonly #secure: boolean;
  readonly #options;

  constructor(private readonly deps: PersonSessionsDeps) {
    this.#secure = deps.publicUrl.startsWith('https://');
    // hono adds `__Host-` itself with prefix 'host' (and reads it back with the same argument).
    this.#options = { path: '/', httpOnly: true, sameSite: 'Lax' as const, secure: this.#secure, ...(this.#secure ? { prefix: 'host' as const } : {}) };
  }

  /** Starts a session for the person and sets its cookie. Returns the stored record (never the cookie value). */
  async start(c: Context, personId: string): Promise<PersonSessionRecord> {
    const { store, sessionSeconds, clock } = this.deps;
    const value = randomToken(PERSON_SESSION_PREFIX);
    const now = clock();
    const record: PersonSessionRecord = { hash: sha256Hex(value), personId, createdAt: now, expiresAt: now + sessionSeconds, revokedAt: null };
    await store.personSessions.deleteExpired(now); // bounded table: sessions that ended are swept at each sign-in
    await store.personSessions.create(record);
    setCookie(c, PERSON_SESSION_COOKIE, value, { ...this.#options, maxAge: sessionSeconds });
    return record;
  }

  /** The signed-in, active person of this request, or undefined (no cookie, unknown, expired, revoked, offboarded). */
  async read(c: Context): Promise<PersonSession | undefined> {
    const value = getCookie(c, PERSON_SESSION_COOKIE, this.#secure ? 'host' : undefined);
    if (!value || !SESSION_VALUE.test(value)) return undefined;
    const { store, clock } = this.deps;
    const session = await store.personSessions.findValid(sha256Hex(value), clock());
    if (!session) return undefined;
    const person = await store.people.get(session.personId);
    if (!person || person.status !== 'active') return undefined;
    return { person, session };
  }

  /** Ends this browser's session (sign-out): revoked in the store, cookie cleared. */
  async end(c: Context): Promise<void> {
    const value = getCookie(c, PERSON_SESSION_COOKIE, this.#secure ? 'host' : undefined);
    if (value && SESSION_VALUE.test(value)) await this.deps.store.personSessions.revoke(sha256Hex(value), this.deps.clock());
    deleteCookie(c, PERSON_SESSION_COOKIE, this.#options);
  }
}
