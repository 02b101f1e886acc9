/**
 * Bearer authentication of the SCIM surface: `Authorization: Bearer <identity.scim.token>` (RFC 7644 §2: SCIM uses
 * OAuth bearer tokens, RFC 6750), compared in constant time. Missing or wrong: 401 with the SCIM error body
 * (RFC 7644 §3.12) and a `WWW-Authenticate: Bearer` challenge (RFC 6750 §3). The token is never logged or recorded;
 * only the fact of a refusal is (`detail.reason`).
 */
import type { MiddlewareHandler } from 'hono';
import { safeEqual } from '../store/crypto/hash.js';
import { scimError, ScimError } from './scim-response.js';

export const SCIM_REALM = 'keyhole-scim';

export function scimBearer(token: string): MiddlewareHandler {
  if (typeof token !== 'string' || token.length < 24) throw new TypeError('scimBearer: the SCIM token must be at least 24 characters');
  return async function scimBearerAuth(c, next) {
    const header = c.req.header('authorization');
    // https://www.rfc-editor.org/rfc/rfc6750#section-2.1 — credentials = "Bearer" 1*SP b64token
    const match = header === undefined ? null : /^Bearer +(\S+) *$/i.exec(header);
    if (!match) {
      c.header('WWW-Authenticate', `Bearer realm="${SCIM_REALM}"`);
      return scimError(c, new ScimError(401, 'SCIM requests need Authorization: Bearer <the SCIM token>'));
    }
    if (!safeEqual(match[1]!, token)) {
      c.header('WWW-Authenticate', `Bearer realm="${SCIM_REALM}", error="invalid_token"`);
      return scimError(c, new ScimError(401, 'the SCIM token is not valid'));
    }
    await next();
  };
}
