/**
 * CSRF protection for every state-changing admin form (POST). Three checks, any failure is a 403 page:
 * 1. the browser must not say it comes from another site (`Sec-Fetch-Site`, `Origin`: see isSameOrigin);
 * 2. the body is a bounded urlencoded form;
 * 3. its `csrf` field equals the session's token (constant-time).
 * The session cookie is SameSite=Strict as well; the admin JSON API takes no cookies (bearer only), so it needs none.
 * @see https://cheatsheetseries.owasp.org/cheatsheets/Cross-Site_Request_Forgery_Prevention_Cheat_Sheet.html
 */
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { safeEqual } from '../store/crypto/hash.js';
import { isSameOriginRequest } from '../http/same-origin.js';
import type { AdminSession, SessionEnv } from './session.js';
import { adminMessage } from './page.js';
import { mediaType } from '../http/media-type.js';

export const ADMIN_FORM_MAX_BYTES = 16 * 1024;

export type FormEnv = { Variables: SessionEnv['Variables'] & { form: URLSearchParams } };

/**
 * True unless the browser says the request comes from another site: `Sec-Fetch-Site` (when sent) must be
 * `same-origin` (or `none`: typed by the user), and `Origin` (when sent and not `null`) must be keyhole's.
 * `Origin: null` carries no information: browsers send it for form POSTs from pages with `Referrer-Policy:
 * no-referrer`, which keyhole's pages use; such requests are judged by `Sec-Fetch-Site` and the CSRF token.
 * @see https://fetch.spec.whatwg.org/#origin-header
 * @see https://www.w3.org/TR/fetch-metadata/#sec-fetch-site-header
 */
export function isSameOrigin(headers: { origin?: string | undefined; fetchSite?: string | undefined }, publicOrigin: string): boolean {
  return isSameOriginRequest(headers, publicOrigin, { allowNullOrigin: true });
}

export function csrfMatches(session: AdminSession, token: string | null | undefined): boolean {
  return typeof token === 'string' && token.length > 0 && safeEqual(token, session.csrf);
}

/** Reads at most ADMIN_FORM_MAX_BYTES of body (413 beyond). */
export const adminBodyLimit: MiddlewareHandler = bodyLimit({
  maxSize: ADMIN_FORM_MAX_BYTES,
  onError: (c) => adminMessage(c, 413, 'Request too large', `Admin forms are limited to ${ADMIN_FORM_MAX_BYTES} bytes.`),
});

/** After requireSession: checks origin and CSRF token, then exposes the parsed form as `c.get('form')`. */
export function csrfProtect(publicUrl: string): MiddlewareHandler<FormEnv> {
  const publicOrigin = new URL(publicUrl).origin;
  return async function adminCsrf(c, next) {
    const session = c.get('session');
    if (!isSameOrigin({ origin: c.req.header('origin'), fetchSite: c.req.header('sec-fetch-site') }, publicOrigin)) {
      return adminMessage(c, 403, 'Forbidden', 'This form was sent from another site and was refused.', session.csrf);
    }
    const type = mediaType(c.req.header('content-type'));
    const form = type === 'application/x-www-form-urlencoded' ? new URLSearchParams(await c.req.text()) : new URLSearchParams();
    if (form.getAll('csrf').length !== 1 || !csrfMatches(session, form.get('csrf'))) {
      return adminMessage(c, 403, 'Forbidden', 'The form could not be verified (missing or invalid CSRF token). Reload the page and try again.', session.csrf);
    }
    c.set('form', form);
    await next();
  };
}
