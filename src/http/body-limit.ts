/** Bounds request bodies on the OAuth endpoints; oversize gets a 413 OAuth error, never a 500. */
import { bodyLimit } from 'hono/body-limit';
import { PayloadTooLargeError } from '../oauth/errors.js';

export function oauthBodyLimit(maxSize: number) {
  return bodyLimit({
    maxSize,
    onError: () => {
      throw new PayloadTooLargeError(`the request body is larger than ${maxSize} bytes`);
    },
  });
}
