/**
 * Relays the upstream's answer to the client: status and headers (minus hop-by-hop fields, upstream cookies and
 * challenges, CORS owned by keyhole), same-origin redirects only, SSE marked never to be buffered, and the body
 * piped as it arrives, through the `tools/list` filter when the route asked for one.
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#streamable-http
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-7.6.1 (Connection, hop-by-hop fields)
 */
import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import type { Transform } from 'node:stream';
import type { Context } from 'hono';
import { connectionTokens } from './request-headers.js';
import { jsonRpcErrorBody } from './jsonrpc-errors.js';
import { discard } from './upstream-send.js';
import type { OpenStream, OpenStreams } from './open-streams.js';
import type { ForwardTarget } from './forward-target.js';

const UPSTREAM_REDIRECT = jsonRpcErrorBody('UPSTREAM_REDIRECT_REFUSED');
const UPSTREAM_BAD_RESPONSE = jsonRpcErrorBody('UPSTREAM_BAD_RESPONSE');

// RFC 9110 §7.6.1: hop-by-hop fields, plus the legacy ones proxies traditionally drop. (Request headers go
// through an allow-list instead: request-headers.ts.)
const HOP_BY_HOP = [
  'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection',
  'te', 'trailer', 'transfer-encoding', 'upgrade',
];

/**
 * Upstream response fields that never reach the client (lower-case). `access-control-*` is handled by prefix:
 * keyhole's CORS policy (cors.ts) owns those headers.
 * - `www-authenticate` names the upstream's authorization server; the client authorizes against keyhole only.
 * - `set-cookie` would plant upstream cookies on keyhole's origin (where they could shadow keyhole's own
 *   consent/CSRF cookies); they would never travel back upstream anyway: `Cookie` is not on the request allow-list.
 * - `alt-svc` advertises the upstream's alternative services for keyhole's host.
 */
const RESPONSE_DROP = new Set([...HOP_BY_HOP, 'www-authenticate', 'set-cookie', 'alt-svc']);

function isCrossOrigin(location: string, base: URL): { cross: boolean; rewritten: string } {
  let resolved: URL;
  try {
    resolved = new URL(location, base);
  } catch {
    return { cross: true, rewritten: '' };
  }
  if (resolved.origin !== base.origin) return { cross: true, rewritten: '' };
  // A same-origin absolute URL would send the client straight to the upstream host (and reveal it):
  // keep only the origin-relative part. Relative references pass through as they are.
  const absolute = /^[a-z][a-z0-9+.-]*:|^\/\//i.test(location.trim());
  return { cross: false, rewritten: absolute ? resolved.pathname + resolved.search + resolved.hash : location };
}

/** Headers other middleware set on the Hono context before the route ran (CORS, request id, …). */
function contextHeaders(c: Context): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const h = c.res.headers;
  h.forEach((value, name) => {
    if (name === 'content-type' || name === 'content-length' || name === 'set-cookie') return;
    out.push([name, value]);
  });
  for (const cookie of h.getSetCookie()) out.push(['set-cookie', cookie]);
  return out;
}

/** The Transforms of a (chain of) response rewrite(s) for this answer, in order; those answering null are skipped. */
function rewritesFor(transform: ForwardTarget['transformResponse'], kind: { sse: boolean; status: number }): Transform[] {
  if (!transform) return [];
  const out: Transform[] = [];
  for (const f of typeof transform === 'function' ? [transform] : transform) {
    const t = f(kind);
    if (t) out.push(t);
  }
  return out;
}

export function relayResponse(
  c: Context, outgoing: ServerResponse, upstream: URL, grantId: string, req: ClientRequest, res: IncomingMessage,
  streams: OpenStreams, transform?: ForwardTarget['transformResponse'],
): Response | null {
  const raw = res.rawHeaders;
  const status = res.statusCode ?? 0;
  const named = connectionTokens(raw);
  let isSse = false;
  let lengthDelimited = false;
  let location: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i]!.toLowerCase();
    if (lower === 'content-type') isSse = raw[i + 1]!.trimStart().toLowerCase().startsWith('text/event-stream');
    else if (lower === 'content-length') lengthDelimited = true;
    else if (lower === 'location') location = raw[i + 1]!;
  }
  if (status < 100 || status > 599) {
    req.destroy();
    return c.json(UPSTREAM_BAD_RESPONSE, 502);
  }

  let rewrittenLocation: string | undefined;
  if (location !== undefined && status >= 300 && status < 400) {
    // No cross-origin redirects on the MCP endpoint: clients drop Authorization on them, and a redirect must
    // not steer the client (with keyhole's token) to another host. Redirects are never followed here.
    const check = isCrossOrigin(location, upstream);
    if (check.cross) {
      discard({ kind: 'response', req, res });
      return c.json(UPSTREAM_REDIRECT, 502);
    }
    rewrittenLocation = check.rewritten;
  }

  const rewrites = status >= 200 && status < 300 ? rewritesFor(transform, { sse: isSse, status }) : [];
  const rewrite = rewrites.length > 0;
  if (rewrite) lengthDelimited = false;
  const fromContext = contextHeaders(c);
  const overridden = new Set<string>();
  for (const [name] of fromContext) if (name !== 'vary') overridden.add(name);
  const headers: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (RESPONSE_DROP.has(lower) || lower.startsWith('access-control-') || named?.has(lower) || overridden.has(lower)) continue;
    if (rewrite && lower === 'content-length') continue;
    if (isSse && (lower === 'cache-control' || lower === 'x-accel-buffering')) continue;
    if (lower === 'location' && rewrittenLocation !== undefined) {
      headers.push(name, rewrittenLocation);
      continue;
    }
    headers.push(name, raw[i + 1]!);
  }
  if (isSse) {
    // Stream, never buffer: no intermediary may cache or transform (compress) the event stream, and nginx
    // must not buffer it. (docs/client-requirements.md F.26)
    headers.push('Cache-Control', 'no-cache, no-transform', 'X-Accel-Buffering', 'no');
  }
  for (const [name, value] of fromContext) headers.push(name, value);

  try {
    outgoing.writeHead(status, headers);
  } catch {
    req.destroy();
    return c.json(UPSTREAM_BAD_RESPONSE, 502);
  }
  // Streams (SSE, chunked) get their headers at once; a length-delimited body follows immediately, so its
  // headers go out with the first chunk (one write instead of two on the hot path).
  if (isSse || !lengthDelimited) outgoing.flushHeaders();

  const listen = isSse && c.req.method === 'GET';
  const s: OpenStream = { grantId, outgoing, req, res, lengthDelimited, closing: false, listen };
  streams.track(s);
  res.on('error', () => {
    /* reported through 'close' below */
  });
  // Upstream reset mid-stream: end the client response too (reset, so the truncation is visible).
  res.on('close', () => {
    if (!res.complete && !s.closing) outgoing.destroy();
  });
  // Client gone (or response finished): stop tracking; abort the upstream request if it is still running.
  outgoing.on('close', () => {
    streams.untrack(s);
    if (!res.complete) req.destroy();
  });
  if (s.closing) return null; // a draining keyhole ended this GET event stream as soon as it was tracked
  if (rewrite) {
    // res → first rewrite → … → last rewrite → client; a failing rewrite ends the client response (never the
    // unrewritten bytes).
    let from: NodeJS.ReadableStream = res;
    for (const t of rewrites) {
      t.on('error', () => outgoing.destroy());
      from = from.pipe(t);
    }
    s.source = from;
    from.pipe(outgoing);
  } else {
    res.pipe(outgoing);
  }
  return null;
}
