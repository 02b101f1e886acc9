/** Bounds request bodies on the OAuth endpoints; oversize gets a 413 OAuth error, never a 500. */
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { PayloadTooLargeError } from '../oauth/errors.js';

export function oauthBodyLimit(maxSize: number): MiddlewareHandler {
  const onError = (c: Context): never => {
    // The route's no-store middleware never runs for a refused body: https://www.rfc-editor.org/rfc/rfc6749#section-5.1
    c.header('Cache-Control', 'no-store');
    c.header('Pragma', 'no-cache');
    throw new PayloadTooLargeError(`the request body is larger than ${maxSize} bytes`);
  };
  const streamed = bodyLimit({ maxSize, onError });
  return async function oauthBodyLimit(c, next) {
    // A declared Content-Length (and no Transfer-Encoding) is checked from the header alone, as hono's bodyLimit does,
    // but without `c.req.raw.body`, which would build a web Request and stream around the Node request (issue 17: the
    // /token hot path then reads the body straight from the socket). Node's parser holds the body to that length
    // (https://www.rfc-editor.org/rfc/rfc9112#section-6.3). Chunked or undeclared bodies are counted as they stream.
    const length = c.req.header('content-length');
    if (length !== undefined && c.req.header('transfer-encoding') === undefined) {
      return Number.parseInt(length, 10) > maxSize ? onError(c) : next();
    }
    return streamed(c, next);
  };
}
