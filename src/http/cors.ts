/**
 * CORS for the public discovery and OAuth endpoints, and the header plumbing the MCP endpoint's CORS shares
 * (src/proxy/cors.ts builds the Origin-checked variant on it).
 * Mount before any authentication middleware: a CORS preflight carries no credentials.
 * @see https://fetch.spec.whatwg.org/#http-cors-protocol
 */
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { Context, MiddlewareHandler } from 'hono';

const PUBLIC_ALLOW_METHODS = 'GET, POST, OPTIONS';
const PUBLIC_ALLOW_HEADERS = 'Content-Type, Authorization, MCP-Protocol-Version';
export const CORS_MAX_AGE = '600';

/** Header of @hono/node-server's "the route wrote to the socket itself" marker (x-hono-already-sent). */
const ALREADY_SENT = [...RESPONSE_ALREADY_SENT.headers.keys()][0] ?? 'x-hono-already-sent';

/** Set headers on the response a later handler produced, whatever way it built it (c.json, new Response, …). */
export function applyCorsHeadersAfter(c: Context, headers: Record<string, string>, vary: boolean): void {
  const h = c.res.headers;
  // The forwarder already sent these headers (it copies the prepared ones); the marker needs nothing more.
  if (h.has(ALREADY_SENT)) return;
  for (const [name, value] of Object.entries(headers)) if (!h.has(name)) c.header(name, value);
  if (vary) {
    const current = c.res.headers.get('vary');
    if (!current) c.header('Vary', 'Origin');
    else if (!current.split(',').some((t) => t.trim().toLowerCase() === 'origin' || t.trim() === '*')) {
      c.header('Vary', `${current}, Origin`);
    }
  }
}

/**
 * CORS for the public discovery and OAuth endpoints (RFC 8414 / RFC 9728 metadata, /register, /token, /revoke):
 * `Access-Control-Allow-Origin: *`, and a 204 preflight answer without authentication.
 * @see https://www.rfc-editor.org/rfc/rfc8414#section-3 (metadata is fetched by browser-based clients too)
 */
export function publicCors(): MiddlewareHandler {
  return async function publicCorsMiddleware(c, next) {
    if (c.req.method === 'OPTIONS') {
      return c.body(null, 204, {
        'Access-Control-Allow-Origin': '*',
        'Access-Control-Allow-Methods': PUBLIC_ALLOW_METHODS,
        'Access-Control-Allow-Headers': PUBLIC_ALLOW_HEADERS,
        'Access-Control-Max-Age': CORS_MAX_AGE,
      });
    }
    c.header('Access-Control-Allow-Origin', '*');
    await next();
    applyCorsHeadersAfter(c, { 'Access-Control-Allow-Origin': '*' }, false);
  };
}
