/**
 * CORS and Origin rules.
 * - {@link mcpCors} guards `/mcp/{server}`: Origin validation against DNS rebinding, CORS for allowed browser origins.
 * - `publicCors` (src/http/cors.ts) opens the discovery and OAuth endpoints (well-known metadata, /register, /token,
 *   /revoke) to every origin: they carry no ambient credential, and browser clients must be able to read them.
 *
 * Mount either one before any authentication middleware: a CORS preflight carries no credentials.
 *
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#security-warning
 * @see https://fetch.spec.whatwg.org/#http-cors-protocol
 */
import type { MiddlewareHandler } from 'hono';
import { applyCorsHeadersAfter, CORS_MAX_AGE } from '../http/cors.js';
import { jsonRpcErrorBody } from './jsonrpc-errors.js';

const MCP_ALLOW_METHODS = 'GET, POST, DELETE, OPTIONS';
const MCP_ALLOW_HEADERS =
  'Authorization, Content-Type, Accept, Mcp-Session-Id, MCP-Protocol-Version, Last-Event-ID, Mcp-Method, Mcp-Name, traceparent, tracestate';
const MCP_EXPOSE_HEADERS = 'Mcp-Session-Id, WWW-Authenticate, MCP-Protocol-Version';

/** The MCP spec allows a JSON-RPC error without an id as the body of the 403. */
const INVALID_ORIGIN = jsonRpcErrorBody('ORIGIN_REFUSED');

/** `scheme://host[:port]` in its serialised form (what browsers send), or a TypeError naming the bad value. */
function canonicalOrigin(value: string, what: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`mcpCors: ${what} is not a URL: ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`mcpCors: ${what} must be an http(s) origin: ${JSON.stringify(value)}`);
  }
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash || url.username || url.password) {
    throw new TypeError(`mcpCors: ${what} must be an origin (scheme://host[:port]) without path: ${JSON.stringify(value)}`);
  }
  return url.origin;
}

/**
 * Origin validation and CORS for the MCP endpoints.
 * - `Origin` present and not `publicOrigin` nor in `allowedOrigins` → 403 (before authentication).
 * - No `Origin` (non-browser clients) → accepted.
 * - `OPTIONS` → 204 preflight answer, without authentication.
 *
 * The Origin check is what keeps keyhole safe from DNS rebinding, so it rejects a wildcard.
 */
export function mcpCors(opts: { publicOrigin: string; allowedOrigins: string[] }): MiddlewareHandler {
  if (!opts || typeof opts.publicOrigin !== 'string') throw new TypeError('mcpCors: publicOrigin is required');
  if (!Array.isArray(opts.allowedOrigins)) throw new TypeError('mcpCors: allowedOrigins must be an array');
  const allowed = new Set<string>([canonicalOrigin(opts.publicOrigin, 'publicOrigin')]);
  for (const o of opts.allowedOrigins) {
    if (typeof o !== 'string' || o.trim() === '*') throw new TypeError('mcpCors: allowedOrigins takes explicit origins, no wildcard');
    allowed.add(canonicalOrigin(o, 'allowedOrigins entry'));
  }

  return async function mcpCorsMiddleware(c, next) {
    const origin = c.req.header('origin');
    // MUST: "Servers MUST validate the Origin header on all incoming connections to prevent DNS rebinding
    // attacks. If the Origin header is present and invalid, servers MUST respond with HTTP 403 Forbidden."
    // https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#security-warning
    // Requests without Origin come from non-browser clients and are accepted. `Origin: null` is never allowed.
    if (origin !== undefined && !allowed.has(origin)) {
      return c.json(INVALID_ORIGIN, 403, { Vary: 'Origin' });
    }

    if (c.req.method === 'OPTIONS') {
      // Preflight: answered before (and without) authentication; it carries no credentials.
      const headers: Record<string, string> = {
        'Access-Control-Allow-Methods': MCP_ALLOW_METHODS,
        'Access-Control-Allow-Headers': MCP_ALLOW_HEADERS,
        'Access-Control-Max-Age': CORS_MAX_AGE,
        Vary: 'Origin',
      };
      if (origin !== undefined) headers['Access-Control-Allow-Origin'] = origin;
      return c.body(null, 204, headers);
    }

    const headers: Record<string, string> = origin !== undefined
      ? { 'Access-Control-Allow-Origin': origin, 'Access-Control-Expose-Headers': MCP_EXPOSE_HEADERS }
      : {};
    // Set before the route runs, so the forwarder (which writes straight to the socket) sends them too…
    for (const [name, value] of Object.entries(headers)) c.header(name, value);
    c.header('Vary', 'Origin', { append: true });
    await next();
    // …and again on whatever response the route returned, in case it replaced the prepared headers.
    applyCorsHeadersAfter(c, headers, true);
  };
}
