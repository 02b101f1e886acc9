/**
 * CSRF protection of the /account forms (revoke, sign out). The person cookie is SameSite=Lax (it must come back on
 * the IdP's redirect), so a POST carries, and must pass, three checks:
 * 1. the browser must not say it comes from another site (`Sec-Fetch-Site`, `Origin`; src/http/same-origin.ts;
 *    the account pages use `Referrer-Policy: same-origin`, so the browser sends keyhole's own Origin, and `null` is refused);
 * 2. a bounded urlencoded body;
 * 3. its `csrf` field equals HMAC-SHA256(key, "account-csrf|" + the person session's hash): bound to this sign-in,
 *    computable only by keyhole (constant-time compare).
 * @see https://cheatsheetseries.owasp.org/cheatsheets/Cross-Site_Request_Forgery_Prevention_Cheat_Sheet.html
 */
import { createHmac } from 'node:crypto';
import { safeEqual } from '../store/crypto/hash.js';
import { isSameOriginRequest, type OriginHeaders } from '../http/same-origin.js';

export const ACCOUNT_FORM_MAX_BYTES = 8 * 1024;

export function accountCsrf(key: Buffer, sessionHash: string): string {
  return createHmac('sha256', key).update(`account-csrf|${sessionHash}`).digest('base64url');
}

export function csrfValid(key: Buffer, sessionHash: string, given: readonly string[]): boolean {
  return given.length === 1 && given[0]!.length > 0 && safeEqual(given[0]!, accountCsrf(key, sessionHash));
}

export function fromKeyhole(headers: OriginHeaders, publicOrigin: string): boolean {
  return isSameOriginRequest(headers, publicOrigin, { allowNullOrigin: false });
}
