/**
 * The sign-in transaction between /identity/login and /identity/callback: state, nonce, PKCE verifier and the return
 * path, sealed with the vault key (JWE, ctx `org-sign-in:<state hash>`) into a cookie of its own per transaction,
 * `keyhole-signin-<first 16 hex of SHA-256(state)>` (`__Host-` + Secure on https), HttpOnly, SameSite=Lax (it must
 * come back on the IdP's top-level redirect), Max-Age 600. The browser cannot read or change what is inside; a
 * callback whose state names no cookie of this browser is refused (login CSRF: a sign-in started elsewhere).
 * At most 8 are kept per browser; the callback deletes its own.
 * @see https://openid.net/specs/openid-connect-core-1_0.html#NonceNotes
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-10.12 (CSRF on the redirection URI)
 */
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { VaultCipher } from '../store/crypto/vault-cipher.js';
import { sha256Hex } from '../store/crypto/hash.js';

export const SIGN_IN_TTL_SECONDS = 600;
const COOKIE_BASE = 'keyhole-signin-';
const MAX_OPEN = 8;

export interface SignInTransaction {
  state: string;
  nonce: string;
  codeVerifier: string;
  returnTo: string;
  expiresAt: number;
}

export function signInTransactions(publicUrl: string, cipher: Pick<VaultCipher, 'seal' | 'open'>, clock: () => number) {
  const secure = publicUrl.startsWith('https://');
  const prefix = secure ? ('host' as const) : undefined;
  const fullPrefix = `${secure ? '__Host-' : ''}${COOKIE_BASE}`;
  const options = { path: '/', httpOnly: true, sameSite: 'Lax' as const, secure, ...(prefix ? { prefix } : {}) };
  const keyOf = (state: string) => sha256Hex(state).slice(0, 16);
  const ctxOf = (key: string) => `org-sign-in:${key}`;
  return {
    async save(c: Context, t: Omit<SignInTransaction, 'expiresAt'>): Promise<void> {
      const open = Object.keys(getCookie(c)).filter((n) => n.startsWith(fullPrefix));
      if (open.length >= MAX_OPEN) for (const name of open) deleteCookie(c, name.slice(secure ? '__Host-'.length : 0), options);
      const key = keyOf(t.state);
      const sealed = await cipher.seal(JSON.stringify({ ...t, expiresAt: clock() + SIGN_IN_TTL_SECONDS }), ctxOf(key));
      setCookie(c, `${COOKIE_BASE}${key}`, sealed, { ...options, maxAge: SIGN_IN_TTL_SECONDS });
    },
    /** The transaction of this `state` from this browser's cookie (and the cookie deleted), or undefined. */
    async take(c: Context, state: string): Promise<SignInTransaction | undefined> {
      const key = keyOf(state);
      const sealed = getCookie(c, `${COOKIE_BASE}${key}`, prefix);
      if (!sealed) return undefined;
      deleteCookie(c, `${COOKIE_BASE}${key}`, options);
      try {
        const t = JSON.parse(await cipher.open(sealed, ctxOf(key))) as SignInTransaction;
        return t.state === state && t.expiresAt > clock() ? t : undefined;
      } catch {
        return undefined; // not ours, tampered, or sealed under a key no longer in the keyring
      }
    },
  };
}
