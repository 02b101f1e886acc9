/**
 * Token, registration and revocation responses must not be cached.
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-5.1 ("Cache-Control: no-store", "Pragma: no-cache")
 */
import type { MiddlewareHandler } from 'hono';

export const noStore: MiddlewareHandler = async function noStore(c, next) {
  await next();
  c.header('Cache-Control', 'no-store');
  c.header('Pragma', 'no-cache');
};
