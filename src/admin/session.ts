/**
 * Admin sessions: a random id in a cookie, the state server-side in the database (store.adminSessions), so that
 * every instance behind a load balancer knows every session: sign in on one, act on another, sign out anywhere; a
 * restart signs nobody out. Only the SHA-256 of the cookie value is stored; the per-session CSRF token is derived
 * from the cookie value (a one-way hash, domain-separated), so it is not stored either.
 * The cookie is HttpOnly and SameSite=Strict. On an https publicUrl it is `__Host-keyhole-admin` with Secure
 * (the `__Host-` prefix requires `Path=/`); on plain http (local use) it is `keyhole-admin` with `Path=/admin`.
 * Each session has an absolute lifetime and an idle timeout; use is written at most once per `touchEveryMs`.
 * @see https://cheatsheetseries.owasp.org/cheatsheets/Session_Management_Cheat_Sheet.html
 * @see https://www.rfc-editor.org/rfc/rfc6265bis-14#section-4.1.3.2 (the __Host- prefix)
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { sha256Hex } from '../store/crypto/hash.js';
import type { AdminSessionRepository } from '../store/types.js';

/**
 * Who did an admin action, as recorded in events (`detail.actor`, `approved_by`…): `admin:token` for the shared
 * admin token (the JSON API, and the pages without admin SSO), `person:<person id>` for an admin signed in through the
 * organization's IdP (issue 13 §4, ./sso-session.ts).
 */
export type AdminActor = 'admin:token' | `person:${string}`;
export const TOKEN_ACTOR: AdminActor = 'admin:token';

export interface AdminSession {
  /** SHA-256 of the cookie value: the row key (the cookie value itself is not kept). */
  key: string;
  /** Per-session CSRF token, put in a hidden field of every state-changing form. */
  csrf: string;
  createdAt: number;
  lastSeenAt: number;
  /** Absolute end (ms since the epoch). */
  expiresAt: number;
  /** Who acts through this session: `admin:token` (signed in with the admin token) or `person:<id>` (admin SSO). */
  actor: AdminActor;
  /** The admin's person id, with admin SSO. */
  personId?: string;
  /** Who the page header says is signed in: the person's name and email with admin SSO; absent for the admin token. */
  displayName?: string;
}

export interface AdminSessionOptions {
  /** Absolute lifetime, ms. Default 8 hours. */
  ttlMs?: number;
  /** Ends a session unused for this long, ms. Default 1 hour. */
  idleMs?: number;
  /** At most this many live sessions; the oldest is dropped beyond it. Default 1000. */
  maxSessions?: number;
  now?: () => number;
}

const COOKIE_VALUE = /^[A-Za-z0-9_-]{43}$/;

/** The CSRF token of the session whose cookie holds `cookieValue`. */
function csrfOf(cookieValue: string): string {
  return createHash('sha256').update(`keyhole admin csrf\0${cookieValue}`).digest('base64url');
}

export class AdminSessions {
  readonly ttlMs: number;
  readonly idleMs: number;
  private readonly maxSessions: number;
  private readonly now: () => number;
  /** Use is recorded at most this often (idle accuracy vs. one write per admin request). */
  private readonly touchEveryMs: number;

  constructor(private readonly repository: AdminSessionRepository, opts: AdminSessionOptions = {}) {
    this.ttlMs = opts.ttlMs ?? 8 * 3_600_000;
    this.idleMs = opts.idleMs ?? 3_600_000;
    this.maxSessions = opts.maxSessions ?? 1_000;
    this.now = opts.now ?? Date.now;
    this.touchEveryMs = Math.min(60_000, Math.floor(this.idleMs / 10));
    if (this.ttlMs <= 0 || this.idleMs <= 0 || this.maxSessions < 1) throw new RangeError('AdminSessions: lifetimes and maxSessions must be positive');
  }

  /** A new session; returns the cookie value (256 random bits) to send once. */
  async create(): Promise<{ cookieValue: string; session: AdminSession }> {
    const now = this.now();
    await this.repository.deleteExpired(now, now - this.idleMs);
    const cookieValue = randomBytes(32).toString('base64url');
    const session: AdminSession = { key: sha256Hex(cookieValue), csrf: csrfOf(cookieValue), createdAt: now, lastSeenAt: now, expiresAt: now + this.ttlMs, actor: TOKEN_ACTOR };
    await this.repository.create({ keyHash: session.key, createdAtMs: now, lastSeenAtMs: now, expiresAtMs: session.expiresAt });
    await this.repository.trim(this.maxSessions);
    return { cookieValue, session };
  }

  /** The live session for a cookie value (and marks it used), or undefined. */
  async get(cookieValue: string | undefined): Promise<AdminSession | undefined> {
    if (!cookieValue || !COOKIE_VALUE.test(cookieValue)) return undefined;
    const key = sha256Hex(cookieValue);
    const row = await this.repository.find(key);
    if (!row) return undefined;
    const now = this.now();
    if (now >= row.expiresAtMs || now - row.lastSeenAtMs >= this.idleMs) {
      await this.repository.delete(key);
      return undefined;
    }
    if (now - row.lastSeenAtMs >= this.touchEveryMs) await this.repository.touch(key, now);
    return { key, csrf: csrfOf(cookieValue), createdAt: row.createdAtMs, lastSeenAt: now, expiresAt: row.expiresAtMs, actor: TOKEN_ACTOR };
  }

  async destroy(session: AdminSession): Promise<void> {
    await this.repository.delete(session.key);
  }

  size(): Promise<number> {
    return this.repository.count();
  }
}

/** The admin session cookie for a publicUrl: name and attributes, read, write and clear. */
export function adminCookie(publicUrl: string, maxAgeSeconds: number) {
  const secure = publicUrl.startsWith('https://');
  const name = secure ? '__Host-keyhole-admin' : 'keyhole-admin';
  const base = secure
    ? ({ httpOnly: true, sameSite: 'Strict', secure: true, path: '/' } as const)
    : ({ httpOnly: true, sameSite: 'Strict', path: '/admin' } as const);
  return {
    name,
    read(c: Context): string | undefined {
      return getCookie(c, name);
    },
    write(c: Context, value: string): void {
      setCookie(c, name, value, { ...base, maxAge: maxAgeSeconds });
    },
    clear(c: Context): void {
      setCookie(c, name, '', { ...base, maxAge: 0 });
    },
  };
}

export type AdminCookie = ReturnType<typeof adminCookie>;

export type SessionEnv = { Variables: { session: AdminSession } };

/** Pages that need a signed-in admin (admin token sessions): without a live session, a 303 to the sign-in page. */
export function requireSession(sessions: AdminSessions, cookie: AdminCookie): MiddlewareHandler<SessionEnv> {
  return async function requireAdminSession(c, next) {
    const session = await sessions.get(cookie.read(c));
    if (!session) {
      c.header('Cache-Control', 'no-store');
      return c.redirect('/admin/login', 303);
    }
    c.set('session', session);
    await next();
  };
}
