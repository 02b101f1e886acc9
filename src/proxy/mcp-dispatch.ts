/**
 * The data plane's front door (issue 17): `/mcp/{server}` requests are dispatched straight from Node's
 * `IncomingMessage`/`ServerResponse` to the pipeline's steps (./pipeline/), before Hono, which keeps the
 * authorization server, admin, health and metrics (the control plane).
 *
 * The steps are the very same functions the Hono route mounts (./mcp-route.ts, `mcpPipeline`), shared, with their
 * state (touch intervals, limits, breakers); they run here on a {@link LiteContext}, which implements the part of
 * Hono's `Context` the steps use (`get`/`set`, `env`, `req.header`/`param`/`method`/`path`, `header`, `json`, `body`,
 * `res`, `error`) without building a web `Request`, `Headers` or Hono's context per request. The composition is
 * Hono's own rule (a step's error goes to the error handler at the level where it was thrown, outer steps
 * continue), so a step behaves alike on both paths. A refusal is still a web `Response` (rare path); a forwarded
 * answer is the forwarder's "already sent" marker and costs nothing more.
 *
 * Only plain paths are taken here: `/mcp/<name>` with unreserved characters, an optional query, and the methods
 * the route serves (POST, GET, DELETE, OPTIONS). Anything else (percent-encoding, trailing slash, absolute-form
 * targets, other methods: 405) falls through to Hono, which still mounts the same route.
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#streamable-http
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Context, MiddlewareHandler } from 'hono';

/** `/mcp/<server>` (RFC 3986 unreserved characters only) with an optional query. */
const MCP_PATH = /^\/mcp\/([A-Za-z0-9._~-]+)(?:\?.*)?$/;
const METHODS = new Set(['POST', 'GET', 'DELETE', 'OPTIONS']);
const ALREADY_SENT = 'x-hono-already-sent';

/** Longest a refused request's unread body is drained before its connection is closed (ms), and how much (bytes). */
const DRAIN_MS = 500;
const DRAIN_BYTES = 1 << 20;

export type ErrorHandler = (err: Error, c: Context) => Response | Promise<Response>;

/** Headers prepared before a response exists (CORS, challenges): what `c.res.headers` is until a step answers. */
class PendingHeaders {
  /** [lower-case name, value] pairs, in order. */
  readonly list: Array<[string, string]> = [];

  get(name: string): string | null {
    const lower = name.toLowerCase();
    let out: string | null = null;
    for (const [n, v] of this.list) if (n === lower) out = out === null ? v : `${out}, ${v}`;
    return out;
  }

  has(name: string): boolean {
    const lower = name.toLowerCase();
    return this.list.some(([n]) => n === lower);
  }

  set(name: string, value: string): void {
    this.delete(name);
    this.list.push([name.toLowerCase(), value]);
  }

  append(name: string, value: string): void {
    this.list.push([name.toLowerCase(), value]);
  }

  delete(name: string): void {
    const lower = name.toLowerCase();
    for (let i = this.list.length - 1; i >= 0; i--) if (this.list[i]![0] === lower) this.list.splice(i, 1);
  }

  forEach(fn: (value: string, name: string) => void): void {
    // As Headers: combined values per name (set-cookie apart, see getSetCookie), names sorted.
    const names: string[] = [];
    for (const [n] of this.list) if (n !== 'set-cookie' && !names.includes(n)) names.push(n);
    if (names.length > 1) names.sort();
    for (const n of names) fn(this.get(n)!, n);
  }

  getSetCookie(): string[] {
    return this.list.filter(([n]) => n === 'set-cookie').map(([, v]) => v);
  }
}

/** The body text of the responses built by {@link LiteContext.json}/`body`, so they are written without reading a stream. */
const bodies = new WeakMap<Response, string | null>();

/** The part of Hono's `Context` the `/mcp` steps use, on Node's request and response. */
export class LiteContext {
  readonly env: { incoming: IncomingMessage; outgoing: ServerResponse };
  readonly req: LiteRequest;
  error: Error | undefined = undefined;
  finalized = false;
  #vars: Record<string, unknown> = {};
  #pending: PendingHeaders | undefined;
  #res: Response | undefined;

  constructor(incoming: IncomingMessage, outgoing: ServerResponse, server: string, path: string) {
    this.env = { incoming, outgoing };
    this.req = new LiteRequest(incoming, server, path);
  }

  get(key: string): unknown {
    return this.#vars[key];
  }

  set(key: string, value: unknown): void {
    this.#vars[key] = value;
  }

  /** Until a step answers: the prepared headers; then the answer (Hono's `c.res`). */
  get res(): Response {
    if (this.#res) return this.#res;
    return { headers: (this.#pending ??= new PendingHeaders()), status: 200 } as unknown as Response;
  }

  set res(r: Response) {
    this.#res = r;
    this.finalized = true;
  }

  /** The answer, once a step gave one. */
  get answer(): Response | undefined {
    return this.#res;
  }

  header(name: string, value: string | undefined, opts?: { append?: boolean }): void {
    const h = this.#res ? this.#res.headers : (this.#pending ??= new PendingHeaders());
    if (value === undefined) h.delete(name);
    else if (opts?.append) h.append(name, value);
    else h.set(name, value);
  }

  json(object: unknown, status = 200, headers?: Record<string, string>): Response {
    return this.#respond(JSON.stringify(object), status, { 'content-type': 'application/json', ...lower(headers) });
  }

  body(data: string | null, status = 200, headers?: Record<string, string>): Response {
    return this.#respond(data, status, lower(headers));
  }

  #respond(text: string | null, status: number, headers: Record<string, string>): Response {
    const h = new Headers();
    if (this.#pending) for (const [n, v] of this.#pending.list) h.append(n, v);
    for (const [n, v] of Object.entries(headers)) h.set(n, v);
    const res = new Response(text, { status, headers: h });
    bodies.set(res, text);
    return res;
  }
}

function lower(headers: Record<string, string> | undefined): Record<string, string> {
  if (!headers) return {};
  const out: Record<string, string> = {};
  for (const [n, v] of Object.entries(headers)) out[n.toLowerCase()] = v;
  return out;
}

class LiteRequest {
  readonly method: string;
  constructor(readonly raw: IncomingMessage, private readonly server: string, readonly path: string) {
    this.method = raw.method ?? 'GET';
  }

  /** As the web `Headers.get`: every field of that name, comma-joined (Node's `headers` keeps only the first of some). */
  header(name: string): string | undefined {
    const lowerName = name.toLowerCase();
    const raw = this.raw.rawHeaders;
    let out: string | undefined;
    for (let i = 0; i < raw.length; i += 2) {
      const n = raw[i]!;
      if (n.length === lowerName.length && n.toLowerCase() === lowerName) out = out === undefined ? raw[i + 1]! : `${out}, ${raw[i + 1]!}`;
    }
    return out;
  }

  param(name: string): string | undefined {
    return name === 'server' ? this.server : undefined;
  }
}

const DONE: Promise<void> = Promise.resolve();

/**
 * Hono's composition rule (hono/compose): an error goes to `onError` where it was thrown; the outer steps go on.
 * Without an `async` wrapper per step (issue 17): a step's promise is chained once with `then`, so a request
 * through a dozen steps costs a dozen fewer promises, closures and microtask turns; a step that answers
 * synchronously (returns a Response or nothing, or throws) settles without any.
 */
function run(handlers: readonly MiddlewareHandler[], c: LiteContext, onError: ErrorHandler): Promise<void> {
  const ctx = c as unknown as Context;
  let index = -1;
  const settle = (res: Response | void, isError: boolean): void => {
    if (res && (!c.finalized || isError)) c.res = res;
  };
  const failed = (err: unknown): Promise<void> | void => {
    if (!(err instanceof Error)) throw err;
    c.error = err;
    const answer = onError(err, ctx);
    if (answer instanceof Promise) return answer.then((res) => settle(res, true));
    settle(answer, true);
  };
  const dispatch = (i: number): Promise<void> => {
    if (i <= index) return Promise.reject(new Error('next() called multiple times'));
    index = i;
    const handler = handlers[i];
    if (!handler) return DONE;
    let out: Response | void | Promise<Response | void>;
    try {
      out = handler(ctx, () => dispatch(i + 1));
    } catch (err) {
      try {
        return failed(err) ?? DONE;
      } catch (e) {
        return Promise.reject(e);
      }
    }
    if (out instanceof Promise) return out.then((res) => settle(res, false), failed);
    settle(out, false);
    return DONE;
  };
  return dispatch(0);
}

/** Writes a refusal (or error) response; nothing for the "already sent" marker. */
async function write(res: Response, incoming: IncomingMessage, outgoing: ServerResponse): Promise<void> {
  if (res.headers.has(ALREADY_SENT)) return;
  if (outgoing.headersSent || outgoing.destroyed) {
    outgoing.destroy();
    return;
  }
  let body: string | Uint8Array | null;
  if (bodies.has(res)) body = bodies.get(res)!;
  else body = res.body === null ? null : new Uint8Array(await res.arrayBuffer());
  const headers: Record<string, string | string[] | number> = {};
  res.headers.forEach((value, name) => {
    if (name !== 'set-cookie') headers[name] = value;
  });
  const cookies = res.headers.getSetCookie();
  if (cookies.length) headers['set-cookie'] = cookies;
  if (body !== null && headers['content-type'] === undefined) headers['content-type'] = 'text/plain; charset=UTF-8';
  if (body !== null) headers['content-length'] = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
  outgoing.writeHead(res.status, headers);
  outgoing.end(body ?? undefined);
  if (!incoming.readableEnded && incoming.method !== 'GET') drainAfter(incoming, outgoing);
}

/** A refused request's body is read and dropped (bounded), so the connection can serve the next request. */
function drainAfter(incoming: IncomingMessage, outgoing: ServerResponse): void {
  outgoing.once('finish', () => {
    if (incoming.readableEnded || incoming.destroyed) return;
    let read = 0;
    const close = () => {
      clearTimeout(timer);
      incoming.socket?.destroySoon?.();
    };
    const timer = setTimeout(close, DRAIN_MS);
    timer.unref();
    incoming.on('data', (chunk: Buffer) => {
      read += chunk.length;
      if (read > DRAIN_BYTES) close();
    });
    incoming.once('end', () => clearTimeout(timer));
    incoming.once('error', () => clearTimeout(timer));
    incoming.resume();
  });
}

export interface McpDispatch {
  /** Serves the request when it is a plain `/mcp/{server}` request (true), or leaves it untouched (false). */
  (incoming: IncomingMessage, outgoing: ServerResponse): boolean;
}

/**
 * The dispatcher: `handlers` are the route's middleware in order (CORS first, then the pipeline's steps), `onError`
 * the app's error handler (the same answers as on the Hono path: 400 for a client abort, a generic 500 otherwise).
 */
export function createMcpDispatch(handlers: readonly MiddlewareHandler[], onError: ErrorHandler): McpDispatch {
  return function dispatchMcp(incoming, outgoing) {
    const url = incoming.url;
    if (!url || url.charCodeAt(1) !== 109 /* m */ || !METHODS.has(incoming.method ?? '')) return false;
    const m = MCP_PATH.exec(url);
    if (!m) return false;
    const q = url.indexOf('?');
    const c = new LiteContext(incoming, outgoing, m[1]!, q < 0 ? url : url.slice(0, q));
    run(handlers, c, onError)
      .then(() => (c.answer ? write(c.answer, incoming, outgoing) : undefined))
      .catch(() => {
        // The error handler itself failed: nothing sensible is left to say.
        if (!outgoing.headersSent) {
          outgoing.writeHead(500, { 'content-type': 'application/json' });
          outgoing.end('{"error":"server_error","error_description":"internal error"}');
        } else outgoing.destroy();
      });
    return true;
  };
}
