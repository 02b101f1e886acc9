/**
 * Binds a pending authorization to the browser that approved keyhole's consent page, so that the upstream
 * callback completes only in that browser (issue 9 F1: without it, an attacker approves consent in their own
 * browser, sends the resulting upstream authorization URL to a victim signed in at the upstream, and receives the
 * victim's keyhole code at their own redirect_uri).
 *
 * On approval keyhole sets one cookie per transaction, `keyhole-tx-<pending id>` (`__Host-` prefixed on https),
 * holding 32 fresh random bytes; only their SHA-256 is stored with the pending row. The callback requires the
 * cookie of the pending row its `state` names and compares the hashes in constant time before anything else.
 * One cookie name per transaction lets parallel authorizations in one browser (parallel 401s start parallel flows)
 * each keep their own binding.
 *
 * SameSite=Lax, not Strict: the callback is a top-level cross-site GET navigation from the upstream.
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/security_best_practices#required-protections ("OAuth State Parameter Validation")
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/security_best_practices#required-protections ("Consent Cookie Security")
 * @see https://www.rfc-editor.org/rfc/rfc9700#section-4.7.1 (CSRF: state bound to the user agent)
 */
import { randomBytes } from 'node:crypto';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { safeEqual, sha256Hex } from '../store/crypto/hash.js';

/** Base name; on https hono adds the `__Host-` prefix itself (setCookie `prefix: 'host'`): never pre-prefix it. */
const COOKIE_BASE = 'keyhole-tx-';
/** Pending ids are `p_<22 base64url>`: every character is valid in a cookie name. */
const PENDING_ID = /^p_[A-Za-z0-9_-]{22}$/;
const VALUE = /^[A-Za-z0-9_-]{43}$/;

export interface TransactionBinding {
  /** Sets the binding cookie for this pending authorization and returns the hash to store with it. */
  bind(c: Context, pendingId: string, maxAgeSeconds: number): string;
  /** True when the request carries this transaction's cookie and its hash equals `storedHash` (constant time). */
  matches(c: Context, pendingId: string, storedHash: string | null | undefined): boolean;
  /** Expires this transaction's cookie. */
  clear(c: Context, pendingId: string): void;
}

export function transactionBinding(publicUrl: string): TransactionBinding {
  const secure = publicUrl.startsWith('https://');
  // https://datatracker.ietf.org/doc/html/draft-ietf-httpbis-rfc6265bis#section-4.1.3.2 — `__Host-`: Secure, Path=/, no Domain.
  const prefix = secure ? ('host' as const) : undefined;
  const nameOf = (pendingId: string) => {
    if (!PENDING_ID.test(pendingId)) throw new Error('transaction binding: malformed pending id');
    return `${COOKIE_BASE}${pendingId}`;
  };
  const options = { path: '/', httpOnly: true, sameSite: 'Lax' as const, secure, ...(prefix ? { prefix } : {}) };
  return {
    bind(c, pendingId, maxAgeSeconds) {
      const value = randomBytes(32).toString('base64url');
      setCookie(c, nameOf(pendingId), value, { ...options, maxAge: Math.max(1, Math.min(600, Math.floor(maxAgeSeconds))) });
      return sha256Hex(value);
    },
    matches(c, pendingId, storedHash) {
      if (!storedHash || !PENDING_ID.test(pendingId)) return false;
      const value = getCookie(c, nameOf(pendingId), prefix);
      if (!value || !VALUE.test(value)) return false;
      // https://modelcontextprotocol.io/specification/2025-11-25/basic/security_best_practices#required-protections ("OAuth State Parameter Validation")
      // — the callback MUST match the state against the approving browser's cookie; reject when it does not.
      return safeEqual(sha256Hex(value), storedHash);
    },
    clear(c, pendingId) {
      if (!PENDING_ID.test(pendingId)) return;
      deleteCookie(c, nameOf(pendingId), options);
    },
  };
}
