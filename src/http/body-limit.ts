/** Bounds request bodies on the OAuth endpoints; oversize gets a 413 OAuth error, never a 500. */
import { bodyLimit } from 'hono/body-limit';
import { PayloadTooLargeError } from '../oauth/errors.js';

export function oauthBodyLimit(maxSize: number) {
  return bodyLimit({
    maxSize,
    onError: (c) => {
      // The route's no-store middleware never runs for a refused body: https://www.rfc-editor.org/rfc/rfc6749#section-5.1
      c.header('Cache-Control', 'no-store');
      c.header('Pragma', 'no-cache');
      throw new PayloadTooLargeError(`the request body is larger than ${maxSize} bytes`);
    },
  });
}
