/**
 * Bearer authentication for the admin JSON API: `Authorization: Bearer <admin token>`, compared in constant
 * time. Without credentials: 401 with `WWW-Authenticate: Bearer realm="keyhole-admin"`; with a wrong token the
 * challenge adds `error="invalid_token"` and the failure counts against the address and the budget shared by
 * all addresses (AdminAttemptGuard: 429 with `Retry-After` once over either, before any comparison). Cookies
 * are never accepted here, so the API needs no CSRF token.
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3
 */
import type { MiddlewareHandler } from 'hono';
import type { EventRecorder } from '../events/recorder.js';
import { clientAddress } from '../http/client-address.js';
import { safeEqual } from '../store/crypto/hash.js';
import type { AdminAttemptGuard } from '../http/failure-limiter.js';

export const ADMIN_REALM = 'keyhole-admin';

export function adminBearer(opts: { token: string; limiter: AdminAttemptGuard; events: EventRecorder }): MiddlewareHandler {
  if (typeof opts.token !== 'string' || opts.token.length < 24) throw new TypeError('adminBearer: the admin token must be at least 24 characters');
  const { token, limiter, events } = opts;
  return async function adminBearerAuth(c, next) {
    c.header('Cache-Control', 'no-store');
    const address = clientAddress(c);
    const refused = limiter.refusal(address);
    if (refused) {
      // https://www.rfc-editor.org/rfc/rfc6585#section-4 — 429 MAY include Retry-After.
      c.header('Retry-After', String(refused.retryAfter));
      const from = refused.scope === 'address' ? ' from this address' : '';
      return c.json({ error: 'too_many_requests', error_description: `too many failed attempts${from}; retry in ${refused.retryAfter} s` }, 429);
    }
    const header = c.req.header('authorization');
    // https://www.rfc-editor.org/rfc/rfc6750#section-2.1 — credentials = "Bearer" 1*SP b64token
    const match = header === undefined ? null : /^Bearer +(\S+) *$/i.exec(header);
    if (!match) {
      // https://www.rfc-editor.org/rfc/rfc6750#section-3.1 — no error code when the request has no credentials.
      c.header('WWW-Authenticate', `Bearer realm="${ADMIN_REALM}"`);
      return c.json({ error: 'unauthorized', error_description: 'the admin API needs Authorization: Bearer <admin token>' }, 401);
    }
    if (!safeEqual(match[1]!, token)) {
      const lockout = limiter.fail(address);
      await events.record({ type: 'admin.sign_in_failed', outcome: 'failure', detail: { via: 'api', address, ...(lockout ? { lockout_seconds: lockout } : {}) } });
      c.header('WWW-Authenticate', `Bearer realm="${ADMIN_REALM}", error="invalid_token", error_description="the admin token is not valid"`);
      return c.json({ error: 'invalid_token', error_description: 'the admin token is not valid' }, 401);
    }
    limiter.succeed(address);
    await next();
  };
}
