/**
 * Byte-streaming forwarder for `/mcp/{server}`: swaps the bearer token, forwards only allow-listed request
 * headers (request-headers.ts), strips what must not cross back, and pipes the upstream answer (JSON or SSE) into the client's socket as it arrives.
 *
 * Built on `node:http`/`node:https` with one keep-alive Agent per upstream origin: on Node 20 the global
 * `fetch` costs about 4x as much per call (see shared/PERFORMANCE-NOTES.md). Hono stays in charge of routing;
 * the relay writes to the raw `ServerResponse` from `@hono/node-server` and returns an "already sent" marker
 * (see responseAlreadySent()).
 *
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#streamable-http
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/security_best_practices#token-passthrough
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-7.6.1 (Connection, hop-by-hop fields)
 */
import {
  Agent as HttpAgent,
  request as httpRequest,
  type ClientRequest,
  type IncomingMessage,
  type RequestOptions,
  type ServerResponse,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Transform } from 'node:stream';
import type { HttpBindings } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { Context } from 'hono';
import { connectionTokens, upstreamRequestHeaders } from './request-headers.js';
import { jsonRpcErrorBody } from './jsonrpc-errors.js';
import { createSessionBindings, type SessionBindings } from './session-binding.js';

export interface ForwardTarget {
  /** Upstream MCP endpoint, used as is (path and query). */
  url: URL;
  /** No upstream response headers within this many ms → 504. Does not apply once streaming has started. */
  timeoutMs: number;
  /** keyhole's own `WWW-Authenticate` value, sent when the upstream rejects a freshly refreshed token. */
  challenge401?: string;
  /**
   * Optional rewrite of a successful response body (used to filter `tools/list` results by scope). Called with
   * whether the upstream answers in SSE; returning a Transform pipes the body through it (the upstream
   * `Content-Length` is dropped), returning null leaves the bytes untouched.
   */
  transformResponse?: (kind: { sse: boolean; status: number }) => Transform | null;
}

export interface ForwardAuth {
  grantId: string;
  /**
   * Returns the upstream credential; force=true means "the upstream said 401, refresh now". May throw.
   * A string is an access token sent as `Authorization: Bearer <token>`; `{ header, value }` is sent as that header
   * (identity JWTs, static API keys), replacing any client header of the same name.
   */
  getAccessToken(force: boolean): Promise<string | { header: string; value: string }>;
}

export interface ForwarderOptions {
  maxBodyBytes: number;
  onUpstreamError?(info: { grantId: string; kind: 'timeout' | 'unreachable' }): void;
  /** Which grant created which MCP session (session-binding.ts); one bounded map per forwarder by default. */
  sessions?: SessionBindings;
}

export interface Forwarder {
  /**
   * Forward the current request (POST, GET or DELETE) to `target` with the grant's upstream token.
   * `body` is the already-read request body (replayed as is on the 401 retry), or null for none.
   * Resolves to an "already sent" marker (x-hono-already-sent) once the upstream answer is being piped to the client, or to a
   * JSON-RPC error Response (401/405/502/504) when nothing was sent yet. Errors of `getAccessToken` propagate.
   */
  forward<E extends { Bindings: HttpBindings }>(
    c: Context<E>,
    target: ForwardTarget,
    auth: ForwardAuth,
    body: Buffer | null,
  ): Promise<Response>;
  /** Close every open response stream of a grant (used when a grant is revoked). Returns how many were closed. */
  closeStreams(grantId: string): number;
  /** Forget the MCP sessions a grant created (used when a grant is revoked). Returns how many. */
  forgetSessions(grantId: string): number;
  openStreamCount(): number;
  /** Destroy the upstream agents (and with them every open upstream socket). */
  close(): void;
}

/** Thrown by {@link readRequestBody} when the body exceeds the cap; map it to 413. */
export class BodyTooLargeError extends Error {
  override readonly name = 'BodyTooLargeError';
  constructor(readonly maxBytes: number) {
    super(`request body exceeds ${maxBytes} bytes`);
  }
}

/**
 * Read the whole request body, refusing anything past `maxBytes` without buffering more than `maxBytes`.
 * A declared `Content-Length` over the cap is refused before reading. After a refusal the rest of the body is
 * left unread (paused); `@hono/node-server` drains or closes the connection once the response is sent.
 */
export async function readRequestBody(incoming: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = incoming.headers['content-length'];
  if (declared !== undefined) {
    const n = Number(declared);
    if (Number.isFinite(n) && n > maxBytes) throw new BodyTooLargeError(maxBytes);
  }
  if (incoming.readableDidRead) throw new Error('request body was already consumed');
  if (incoming.readableEnded) return Buffer.alloc(0);
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let settled = false;
    const done = (err: Error | null): void => {
      if (settled) return;
      settled = true;
      incoming.off('data', onData);
      incoming.off('end', onEnd);
      incoming.off('error', onError);
      incoming.off('close', onClose);
      if (err) {
        chunks.length = 0;
        reject(err);
      } else {
        resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total));
      }
    };
    const onData = (chunk: Buffer | string): void => {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      total += buf.length;
      if (total > maxBytes) {
        incoming.pause();
        done(new BodyTooLargeError(maxBytes));
        return;
      }
      chunks.push(buf);
    };
    const onEnd = (): void => done(null);
    const onError = (err: Error): void => done(err);
    const onClose = (): void => {
      if (!incoming.readableEnded) done(new Error('request aborted by the client'));
    };
    incoming.on('data', onData);
    incoming.on('end', onEnd);
    incoming.on('error', onError);
    incoming.on('close', onClose);
  });
}

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
 *   consent/CSRF cookies); they would never travel back upstream anyway since `cookie` is stripped above.
 * - `alt-svc` advertises the upstream's alternative services for keyhole's host.
 */
const RESPONSE_DROP = new Set([...HOP_BY_HOP, 'www-authenticate', 'set-cookie', 'alt-svc']);

const METHODS = new Set(['POST', 'GET', 'DELETE']);

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
function responseAlreadySent(): Response {
  if (alreadySent && alreadySent.constructor === globalThis.Response) return alreadySent;
  // Same header as the adapter's RESPONSE_ALREADY_SENT, built with the Response class in use now.
  const marker = new Response(null, { headers: RESPONSE_ALREADY_SENT.headers });
  void marker.body; // materialise: clones then copy a real Response instead of the adapter's cache tuple
  alreadySent = marker;
  return marker;
}

// keyhole's own errors, from the one table (jsonrpc-errors.ts).
const UPSTREAM_REJECTED = jsonRpcErrorBody('UPSTREAM_CREDENTIAL_REJECTED');
const UPSTREAM_UNREACHABLE = jsonRpcErrorBody('UPSTREAM_UNREACHABLE');
const UPSTREAM_TIMEOUT = jsonRpcErrorBody('UPSTREAM_TIMEOUT');
const UPSTREAM_REDIRECT = jsonRpcErrorBody('UPSTREAM_REDIRECT_REFUSED');
const UPSTREAM_BAD_RESPONSE = jsonRpcErrorBody('UPSTREAM_BAD_RESPONSE');
const METHOD_NOT_ALLOWED = jsonRpcErrorBody('METHOD_NOT_ALLOWED');
const SESSION_NOT_FOUND = jsonRpcErrorBody('SESSION_NOT_FOUND');

/** Every `Mcp-Session-Id` value the client sent (each field, and each comma-separated part of it). */
function presentedSessionIds(incoming: IncomingMessage): string[] {
  if (incoming.headers['mcp-session-id'] === undefined) return []; // hot path: most requests carry none
  const values = incoming.headersDistinct['mcp-session-id'];
  if (!values) return [];
  const out: string[] = [];
  for (const v of values) {
    out.push(v);
    if (v.includes(',')) for (const part of v.split(',')) out.push(part.trim());
  }
  return out;
}

type Outcome =
  | { kind: 'response'; req: ClientRequest; res: IncomingMessage }
  | { kind: 'timeout' }
  | { kind: 'unreachable' }
  | { kind: 'client-gone' };

interface OpenStream {
  grantId: string;
  outgoing: ServerResponse;
  req: ClientRequest;
  res: IncomingMessage;
  /** The client response carries Content-Length: cutting it short must reset the connection, not end it. */
  lengthDelimited: boolean;
  closing: boolean;
}

/** A flat raw header array without `name` (case-insensitive): a client must not supply the upstream credential's header. */
function withoutHeader(raw: string[], name: string): string[] {
  const lower = name.toLowerCase();
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() !== lower) out.push(raw[i]!, raw[i + 1]!);
  return out;
}

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

/** Drop an upstream response we will not relay, letting a small body free the keep-alive socket. */
function discard(o: Outcome): void {
  if (o.kind !== 'response') return;
  const len = Number(o.res.headers['content-length']);
  if (Number.isFinite(len) && len <= 65_536) o.res.resume();
  else o.req.destroy();
}

function clientGone(outgoing: ServerResponse): boolean {
  return outgoing.destroyed || outgoing.writableEnded || outgoing.headersSent;
}

export function createForwarder(opts: ForwarderOptions): Forwarder {
  if (!Number.isInteger(opts.maxBodyBytes) || opts.maxBodyBytes < 0) {
    throw new TypeError('createForwarder: maxBodyBytes must be a non-negative integer');
  }
  const agents = new Map<string, HttpAgent>();
  const sessions = opts.sessions ?? createSessionBindings();
  const streams = new Map<string, Set<OpenStream>>();

  function agentFor(url: URL): HttpAgent {
    let agent = agents.get(url.origin);
    if (!agent) {
      const agentOpts = {
        keepAlive: true,
        // No cap on sockets in use: each open SSE stream holds one for its whole life, so a cap of N would make
        // stream N+1 wait in the agent's queue until the upstream timeout (504). Only the idle pool is bounded.
        maxSockets: Infinity,
        maxFreeSockets: 256,
        scheduling: 'lifo' as const,
        // Idle keep-alive sockets are dropped after 4 s, before the usual 5 s server keepAliveTimeout. Sockets
        // in use are unaffected (no 'timeout' listener on the request), so long SSE streams stay open.
        timeout: 4_000,
      };
      agent = url.protocol === 'https:' ? new HttpsAgent(agentOpts) : new HttpAgent(agentOpts);
      agents.set(url.origin, agent);
    }
    return agent;
  }

  function send(
    url: URL,
    method: string,
    headers: string[],
    body: Buffer | null,
    timeoutMs: number,
    outgoing: ServerResponse,
    mayRetryReusedSocket: boolean,
  ): Promise<Outcome> {
    return new Promise<Outcome>((resolve) => {
      const options: RequestOptions = {
        agent: agentFor(url),
        hostname: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
        port: url.port || undefined,
        path: url.pathname + url.search,
        method,
        headers: headers as unknown as RequestOptions['headers'], // Node ≥ 18.? accepts a raw [name, value, …] array
        setHost: false,
      };
      const req = url.protocol === 'https:' ? httpsRequest(options) : httpRequest(options);
      let settled = false;
      const finish = (o: Outcome): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        outgoing.off('close', onClientClose);
        resolve(o);
      };
      const timer = setTimeout(() => {
        finish({ kind: 'timeout' });
        req.destroy();
      }, timeoutMs);
      // Client disconnect before the upstream answered: abort the upstream request.
      const onClientClose = (): void => {
        finish({ kind: 'client-gone' });
        req.destroy();
      };
      outgoing.once('close', onClientClose);
      req.on('response', (res) => {
        if (settled) {
          res.destroy();
          return;
        }
        finish({ kind: 'response', req, res });
      });
      // Stays attached for the life of the request: socket errors after the response are handled by the relay.
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (settled) return;
        // A pooled keep-alive socket the upstream closed while idle: nothing was processed, resend once on a
        // fresh socket (the pattern the Node.js docs give for `request.reusedSocket`).
        if (mayRetryReusedSocket && req.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE')) {
          settled = true;
          clearTimeout(timer);
          outgoing.off('close', onClientClose);
          if (clientGone(outgoing)) resolve({ kind: 'client-gone' });
          else resolve(send(url, method, headers, body, timeoutMs, outgoing, false));
          return;
        }
        finish({ kind: 'unreachable' });
      });
      if (body) req.end(body);
      else req.end();
    });
  }

  function track(s: OpenStream): void {
    let set = streams.get(s.grantId);
    if (!set) streams.set(s.grantId, (set = new Set()));
    set.add(s);
  }

  function untrack(s: OpenStream): void {
    const set = streams.get(s.grantId);
    if (!set) return;
    set.delete(s);
    if (set.size === 0) streams.delete(s.grantId);
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

  function report(grantId: string, kind: 'timeout' | 'unreachable'): void {
    try {
      opts.onUpstreamError?.({ grantId, kind });
    } catch {
      /* a failing observer must not turn a 502/504 into a 500 */
    }
  }

  function relay(c: Context, outgoing: ServerResponse, upstream: URL, grantId: string, req: ClientRequest, res: IncomingMessage, transform?: ForwardTarget['transformResponse']): Response | null {
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

    const rewrite = status >= 200 && status < 300 ? (transform?.({ sse: isSse, status }) ?? null) : null;
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
      // must not buffer it. (shared/MCP-AUTH-REQUIREMENTS.md §F.26)
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

    const s: OpenStream = { grantId, outgoing, req, res, lengthDelimited, closing: false };
    track(s);
    res.on('error', () => {
      /* reported through 'close' below */
    });
    // Upstream reset mid-stream: end the client response too (reset, so the truncation is visible).
    res.on('close', () => {
      if (!res.complete && !s.closing) outgoing.destroy();
    });
    // Client gone (or response finished): stop tracking; abort the upstream request if it is still running.
    outgoing.on('close', () => {
      untrack(s);
      if (!res.complete) req.destroy();
    });
    if (rewrite) {
      rewrite.on('error', () => outgoing.destroy());
      res.pipe(rewrite).pipe(outgoing);
    } else {
      res.pipe(outgoing);
    }
    return null;
  }

  return {
    async forward(c, target, auth, body) {
      const env = c.env as HttpBindings | undefined;
      if (!env?.incoming || !env.outgoing) {
        throw new TypeError('forward() needs the @hono/node-server HttpBindings (c.env.incoming / c.env.outgoing)');
      }
      const { incoming, outgoing } = env;
      const ctx = c as unknown as Context;
      const method = (incoming.method ?? 'GET').toUpperCase();
      if (!METHODS.has(method)) return ctx.json(METHOD_NOT_ALLOWED, 405, { Allow: 'GET, POST, DELETE' });
      if (body && body.length > opts.maxBodyBytes) throw new BodyTooLargeError(opts.maxBodyBytes);
      const url = target.url;
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        throw new TypeError('forward(): the upstream URL must be http(s)');
      }
      // MCP-AUTH-REQUIREMENTS E.24: a session another grant created is unknown to this one: 404, as the
      // transport answers an unknown session (https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#session-management).
      // Session ids are the upstream's: keyed by upstream URL, so two upstreams minting the same id never clash
      // (ids are visible ASCII, so a space cannot occur in one).
      const presented = presentedSessionIds(incoming).map((id) => `${url.href} ${id}`);
      for (const key of presented) {
        const owner = sessions.owner(key);
        if (owner !== undefined && owner !== auth.grantId) return ctx.json(SESSION_NOT_FOUND, 404);
      }
      const base = upstreamRequestHeaders(incoming.rawHeaders, url, body);
      const attempt = async (force: boolean): Promise<Outcome> => {
        const credential = await auth.getAccessToken(force);
        if (clientGone(outgoing)) return { kind: 'client-gone' };
        // Only the upstream credential goes upstream (no token passthrough).
        const headers = typeof credential === 'string'
          ? base.concat('Authorization', `Bearer ${credential}`)
          : withoutHeader(base, credential.header).concat(credential.header, credential.value);
        return send(url, method, headers, body, target.timeoutMs, outgoing, true);
      };

      let outcome = await attempt(false);
      if (outcome.kind === 'response' && outcome.res.statusCode === 401) {
        // The upstream refused the token: refresh once and replay the same body once.
        discard(outcome);
        outcome = await attempt(true);
        if (outcome.kind === 'response' && outcome.res.statusCode === 401) {
          discard(outcome);
          // Rejected even with a fresh token. Nothing upstream-specific reaches the client: keyhole's own challenge.
          return ctx.json(UPSTREAM_REJECTED, 401, target.challenge401 ? { 'WWW-Authenticate': target.challenge401 } : undefined);
        }
      }

      switch (outcome.kind) {
        case 'client-gone':
          return responseAlreadySent();
        case 'timeout':
          report(auth.grantId, 'timeout');
          return ctx.json(UPSTREAM_TIMEOUT, 504);
        case 'unreachable':
          report(auth.grantId, 'unreachable');
          return ctx.json(UPSTREAM_UNREACHABLE, 502);
        case 'response': {
          if (clientGone(outgoing)) {
            outcome.req.destroy();
            return responseAlreadySent();
          }
          const status = outcome.res.statusCode ?? 0;
          if (status >= 200 && status < 300) {
            const minted = outcome.res.headers['mcp-session-id'];
            if (typeof minted === 'string' && minted) sessions.bind(`${url.href} ${minted}`, auth.grantId);
            if (method === 'DELETE') for (const key of presented) sessions.forget(key);
          }
          return relay(ctx, outgoing, url, auth.grantId, outcome.req, outcome.res, target.transformResponse) ?? responseAlreadySent();
        }
      }
    },

    forgetSessions(grantId) {
      return sessions.forgetGrant(grantId);
    },

    closeStreams(grantId) {
      const set = streams.get(grantId);
      if (!set) return 0;
      streams.delete(grantId);
      let n = 0;
      for (const s of set) {
        s.closing = true;
        s.res.unpipe(s.outgoing);
        s.req.destroy();
        if (s.lengthDelimited) {
          s.outgoing.destroy();
        } else {
          // Chunked/SSE: a clean end; the client reconnects and meets the revoked grant (401).
          s.outgoing.end();
          const t = setTimeout(() => s.outgoing.destroy(), 2_000);
          t.unref();
          s.outgoing.once('close', () => clearTimeout(t));
        }
        n++;
      }
      return n;
    },

    openStreamCount() {
      let n = 0;
      for (const set of streams.values()) n += set.size;
      return n;
    },

    close() {
      for (const agent of agents.values()) agent.destroy();
      agents.clear();
      for (const set of streams.values()) for (const s of set) s.req.destroy();
      streams.clear();
    },
  };
}
