/**
 * Byte-streaming forwarder for `/mcp/{server}`: refuses a session id another grant created, swaps the bearer
 * token for the upstream credential, forwards only allow-listed request headers (request-headers.ts), retries
 * once with a refreshed credential on an upstream 401, and relays the answer (JSON or SSE) into the client's
 * socket as it arrives (response-relay.ts).
 *
 * Built on `node:http`/`node:https` (upstream-send.ts). Hono stays in charge of routing; the relay writes to the
 * raw `ServerResponse` from `@hono/node-server` and returns an "already sent" marker (response-already-sent.ts).
 *
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#streamable-http
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/security_best_practices#token-passthrough
 */
import type { Transform } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import type { HttpBindings } from '@hono/node-server';
import type { Context } from 'hono';
import { upstreamRequestHeaders } from './request-headers.js';
import { jsonRpcErrorBody } from './jsonrpc-errors.js';
import { createSessionBindings, type SessionBindings } from './session-binding.js';
import { BodyTooLargeError } from './request-body.js';
import { responseAlreadySent } from './response-already-sent.js';
import { clientGone, createUpstreamSender, discard, type Outcome } from './upstream-send.js';
import { createOpenStreams } from './open-streams.js';
import { relayResponse } from './response-relay.js';

export { BodyTooLargeError, readRequestBody } from './request-body.js';

export type { ForwardTarget } from './forward-target.js';
import type { ForwardTarget, UpstreamOutcome } from './forward-target.js';

export interface ForwardAuth {
  grantId: string;
  /**
   * Returns the upstream credential; force=true means "the upstream said 401, refresh now". May throw.
   * `{ header, value }` is sent as that header (`Authorization: Bearer …`, identity JWTs, static API keys), replacing
   * any client header of the same name.
   */
  getAccessToken(force: boolean): Promise<{ header: string; value: string }>;
}

export interface ForwarderOptions {
  maxBodyBytes: number;
  onUpstreamError?(info: { grantId: string; kind: 'timeout' | 'unreachable' }): void;
  /**
   * Which grant created which MCP session (session-binding.ts): shared through the database when built with a store;
   * one bounded in-memory map per forwarder by default.
   */
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
  /** Retire the MCP sessions a grant created (used when a grant is revoked). Resolves to how many. */
  forgetSessions(grantId: string): Promise<number>;
  openStreamCount(): number;
  /** Graceful shutdown: end the GET event streams (no call in progress; clients reconnect), now and from now on. */
  endListenStreams(): number;
  /** End of the grace period: end every stream still open. */
  endStreams(): number;
  /** Destroy the upstream agents (and with them every open upstream socket). */
  close(): void;
}

const METHODS = new Set(['POST', 'GET', 'DELETE']);

// keyhole's own errors, from the one table (jsonrpc-errors.ts).
const UPSTREAM_REJECTED = jsonRpcErrorBody('UPSTREAM_CREDENTIAL_REJECTED');
const UPSTREAM_UNREACHABLE = jsonRpcErrorBody('UPSTREAM_UNREACHABLE');
const UPSTREAM_TIMEOUT = jsonRpcErrorBody('UPSTREAM_TIMEOUT');
const METHOD_NOT_ALLOWED = jsonRpcErrorBody('METHOD_NOT_ALLOWED');
const SESSION_NOT_FOUND = jsonRpcErrorBody('SESSION_NOT_FOUND');

/** Every `Mcp-Session-Id` value the client sent (each field, and each comma-separated part of it). */
function presentedSessionIds(incoming: IncomingMessage): string[] {
  // From rawHeaders, as `headersDistinct` would list them, without making Node build `incoming.headers`.
  const raw = incoming.rawHeaders;
  let out: string[] | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const n = raw[i]!;
    if (n.length !== 14 || n.toLowerCase() !== 'mcp-session-id') continue;
    const v = raw[i + 1]!;
    (out ??= []).push(v);
    if (v.includes(',')) for (const part of v.split(',')) out.push(part.trim());
  }
  return out ?? NONE;
}
const NONE: string[] = [];

/**
 * A flat raw header array without `name` (case-insensitive): a client must not supply the upstream credential's
 * header. The same array when it has no such field (the usual case: `Authorization` is never forwarded).
 */
function withoutHeader(raw: string[], name: string): string[] {
  const lower = name.toLowerCase();
  let i = 0;
  while (i < raw.length && !(raw[i]!.length === lower.length && raw[i]!.toLowerCase() === lower)) i += 2;
  if (i >= raw.length) return raw;
  const out = raw.slice(0, i);
  for (i += 2; i < raw.length; i += 2) if (raw[i]!.toLowerCase() !== lower) out.push(raw[i]!, raw[i + 1]!);
  return out;
}

export function createForwarder(opts: ForwarderOptions): Forwarder {
  if (!Number.isInteger(opts.maxBodyBytes) || opts.maxBodyBytes < 0) {
    throw new TypeError('createForwarder: maxBodyBytes must be a non-negative integer');
  }
  const sender = createUpstreamSender();
  const sessions = opts.sessions ?? createSessionBindings();
  const streams = createOpenStreams();

  function report(grantId: string, kind: 'timeout' | 'unreachable'): void {
    try {
      opts.onUpstreamError?.({ grantId, kind });
    } catch {
      /* a failing observer must not turn a 502/504 into a 500 */
    }
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
      // docs/client-requirements.md E.24: a session another grant created is unknown to this one: 404, as the
      // transport answers an unknown session (https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#session-management).
      // Session ids are the upstream's: keyed by upstream URL, so two upstreams minting the same id never clash
      // (ids are visible ASCII, so a space cannot occur in one).
      // With a store the bindings are shared by every instance (session-binding.ts): an id not cached here is looked up.
      const presented = presentedSessionIds(incoming);
      for (const id of presented) {
        const owner = await sessions.owner(url.href, id);
        if (owner !== undefined && owner !== auth.grantId) return ctx.json(SESSION_NOT_FOUND, 404);
      }
      const headers0 = upstreamRequestHeaders(incoming.rawHeaders, url, body);
      const base = target.traceparent ? withoutHeader(headers0, 'traceparent').concat('traceparent', target.traceparent) : headers0;
      const attempt = async (force: boolean): Promise<Outcome> => {
        const credential = await auth.getAccessToken(force);
        if (clientGone(outgoing)) return { kind: 'client-gone' };
        // Only the upstream credential goes upstream (no token passthrough).
        const headers = withoutHeader(base, credential.header).concat(credential.header, credential.value);
        return sender.send(url, method, headers, body, target.timeoutMs, outgoing, true);
      };

      const told = (o: UpstreamOutcome): void => {
        try {
          target.onOutcome?.(o);
        } catch {
          /* an observer (the circuit breaker) must not change the answer */
        }
      };
      let outcome = await attempt(false);
      if (outcome.kind === 'response' && outcome.res.statusCode === 401) {
        // The upstream refused the token: refresh once and replay the same body once.
        discard(outcome);
        outcome = await attempt(true);
        if (outcome.kind === 'response' && outcome.res.statusCode === 401) {
          discard(outcome);
          told({ kind: 'response', status: 401 });
          // Rejected even with a fresh token. Nothing upstream-specific reaches the client: keyhole's own challenge.
          return ctx.json(UPSTREAM_REJECTED, 401, target.challenge401 ? { 'WWW-Authenticate': target.challenge401 } : undefined);
        }
      }

      told(outcome.kind === 'response' ? { kind: 'response', status: outcome.res.statusCode ?? 0 } : { kind: outcome.kind });
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
            // Bound before the answer (and so the id) reaches the client: its next request may go to another instance.
            if (typeof minted === 'string' && minted) await sessions.bind(url.href, minted, auth.grantId);
            if (method === 'DELETE') for (const id of presented) await sessions.forget(url.href, id);
          }
          return relayResponse(ctx, outgoing, url, auth.grantId, outcome.req, outcome.res, streams, target.transformResponse) ?? responseAlreadySent();
        }
      }
    },

    forgetSessions(grantId) {
      return sessions.forgetGrant(grantId);
    },

    closeStreams(grantId) {
      return streams.closeGrant(grantId);
    },

    openStreamCount() {
      return streams.count();
    },

    endListenStreams() {
      return streams.endListening();
    },

    endStreams() {
      return streams.endAll();
    },

    close() {
      sender.close();
      streams.destroyAll();
    },
  };
}
