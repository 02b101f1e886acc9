import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';

let alreadySent: Response | undefined;

/**
 * The "response already sent" marker to return from the route once the relay owns the socket.
 *
 * `RESPONSE_ALREADY_SENT` alone is not enough with @hono/node-server 2.1.8: when any middleware touches the
 * response headers after `await next()` (CORS, secure headers, a request id…), Hono clones the marker with the
 * global `Response`, which @hono/node-server replaced by its lightweight class. That clone takes the adapter's
 * cached-response path, which ignores `x-hono-already-sent`, calls `writeHead` again and, on the resulting
 * ERR_HTTP_HEADERS_SENT, writes "Error: …" into the streaming body and ends it.
 * A marker built with the adapter's own `Response` class and materialised (reading `.body`) is cloned into a
 * regular response, whose `x-hono-already-sent` header the adapter honours. With native globals
 * (`overrideGlobalObjects: false`) the same construction yields a native Response, which is fine as well.
 */
export function responseAlreadySent(): Response {
  if (alreadySent && alreadySent.constructor === globalThis.Response) return alreadySent;
  // Same header as the adapter's RESPONSE_ALREADY_SENT, built with the Response class in use now.
  const marker = new Response(null, { headers: RESPONSE_ALREADY_SENT.headers });
  void marker.body; // materialise: clones then copy a real Response instead of the adapter's cache tuple
  alreadySent = marker;
  return marker;
}
