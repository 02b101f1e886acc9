/**
 * Token, registration and revocation responses must not be cached.
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-5.1 ("Cache-Control: no-store", "Pragma: no-cache")
 */
import type { MiddlewareHandler } from 'hono';

export const noStore: MiddlewareHandler = async function noStore(c, next) {
  // Set before the handler: the headers go into the response it (or the error handler) builds with c.json(). Setting
  // them afterwards with c.header() turns the finished response into a full web Response whose body is then streamed
  // (issue 17: with the body limit's web Request, over a third of /token's CPU). A handler that returned a Response of
  // its own gets them that slower way.
  c.header('Cache-Control', 'no-store');
  c.header('Pragma', 'no-cache');
  await next();
  if (c.res.headers.get('cache-control') !== 'no-store') c.header('Cache-Control', 'no-store');
  if (!c.res.headers.has('pragma')) c.header('Pragma', 'no-cache');
};
