/**
 * Consent CSRF protection: for every rendered consent page a fresh random nonce in a cookie of its own,
 * `keyhole-consent-<pending id>` (HttpOnly, SameSite=Lax, Max-Age 600, `__Host-` + Secure on https), and in the form
 * an HMAC over (nonce, pending id, client id). A cross-site POST carries no cookie (SameSite) and cannot know the
 * nonce; a token made for one client cannot approve another.
 *
 * The nonce is never taken from the request (issue 9 F5: a client-supplied cookie value was adopted, so whoever could
 * plant a cookie knew the nonce). One cookie per pending authorization keeps two open consent pages in one browser
 * working: a new page never replaces the nonce of an older one.
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-10.12
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/security_best_practices#required-protections ("Consent UI Requirements")
 * @see docs/client-requirements.md E.22
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { safeEqual } from '../store/crypto/hash.js';

/** Base name; on https hono adds the `__Host-` prefix itself (setCookie `prefix: 'host'`, getCookie third argument). */
const COOKIE_BASE = 'keyhole-consent-';
const PENDING_ID = /^p_[A-Za-z0-9_-]{22}$/;
/** Open consent pages per browser whose cookies are kept; beyond this the older cookies are dropped (bounded headers). */
const MAX_OPEN_PAGES = 8;

export function consentCsrf(publicUrl: string, key: Buffer) {
  const secure = publicUrl.startsWith('https://');
  // https://datatracker.ietf.org/doc/html/draft-ietf-httpbis-rfc6265bis#section-4.1.3.2 — `__Host-` cookies: Secure, Path=/, no Domain.
  // Passing a pre-prefixed name to hono as well would set `__Host-__Host-…`, which the check below never reads.
  const prefix = secure ? ('host' as const) : undefined;
  const fullPrefix = `${secure ? '__Host-' : ''}${COOKIE_BASE}`;
  const options = { path: '/', httpOnly: true, sameSite: 'Lax' as const, secure, ...(prefix ? { prefix } : {}) };
  const mac = (nonce: string, pendingId: string, clientId: string) =>
    createHmac('sha256', key).update(`consent\0${nonce}\0${pendingId}\0${clientId}`).digest('base64url');
  const nameOf = (pendingId: string) => {
    if (!PENDING_ID.test(pendingId)) throw new Error('consent csrf: malformed pending id');
    return `${COOKIE_BASE}${pendingId}`;
  };
  return {
    /** Sets a fresh nonce cookie for this pending authorization and returns the form token. */
    issue(c: Context, pendingId: string, clientId: string): string {
      const open = Object.keys(getCookie(c)).filter((n) => n.startsWith(fullPrefix));
      if (open.length >= MAX_OPEN_PAGES) {
        for (const name of open) deleteCookie(c, name.slice(secure ? '__Host-'.length : 0), options);
      }
      const nonce = randomBytes(32).toString('base64url');
      setCookie(c, nameOf(pendingId), nonce, { ...options, maxAge: 600 });
      return mac(nonce, pendingId, clientId);
    },
    verify(c: Context, pendingId: string, clientId: string, token: string | null): boolean {
      if (!PENDING_ID.test(pendingId)) return false;
      const nonce = getCookie(c, nameOf(pendingId), prefix);
      if (!nonce || !token) return false;
      return safeEqual(mac(nonce, pendingId, clientId), token);
    },
    /** The page was answered: its nonce is no longer needed. */
    clear(c: Context, pendingId: string): void {
      if (PENDING_ID.test(pendingId)) deleteCookie(c, nameOf(pendingId), options);
    },
  };
}
