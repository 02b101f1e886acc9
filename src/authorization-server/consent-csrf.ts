/**
 * Consent CSRF protection: a per-browser random nonce in a cookie (HttpOnly, SameSite=Lax, `__Host-` + Secure
 * on https), and in the form an HMAC over (nonce, pending id, client id). A cross-site POST carries no cookie
 * (SameSite) and cannot know the nonce; a token made for one client cannot approve another.
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-10.12
 * @see MCP-AUTH-REQUIREMENTS E.22
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { Context } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { safeEqual } from '../store/crypto/hash.js';

/** Base name; on https hono adds the `__Host-` prefix itself (setCookie `prefix: 'host'`, getCookie third argument). */
const COOKIE = 'keyhole-consent';

export function consentCsrf(publicUrl: string, key: Buffer) {
  const secure = publicUrl.startsWith('https://');
  // https://datatracker.ietf.org/doc/html/draft-ietf-httpbis-rfc6265bis#section-4.1.3.2 — `__Host-` cookies: Secure, Path=/, no Domain.
  // Passing a pre-prefixed name to hono as well would set `__Host-__Host-…`, which the check below never reads.
  const prefix = secure ? ('host' as const) : undefined;
  const mac = (nonce: string, pendingId: string, clientId: string) =>
    createHmac('sha256', key).update(`consent\0${nonce}\0${pendingId}\0${clientId}`).digest('base64url');
  return {
    /** Ensure the browser has a nonce cookie and return the form token for this pending authorization. */
    issue(c: Context, pendingId: string, clientId: string): string {
      let nonce = getCookie(c, COOKIE, prefix);
      if (!nonce || !/^[A-Za-z0-9_-]{32,64}$/.test(nonce)) {
        nonce = randomBytes(32).toString('base64url');
        setCookie(c, COOKIE, nonce, { path: '/', httpOnly: true, sameSite: 'Lax', secure, maxAge: 600, ...(prefix ? { prefix } : {}) });
      }
      return mac(nonce, pendingId, clientId);
    },
    verify(c: Context, pendingId: string, clientId: string, token: string | null): boolean {
      const nonce = getCookie(c, COOKIE, prefix);
      if (!nonce || !token) return false;
      return safeEqual(mac(nonce, pendingId, clientId), token);
    },
  };
}
