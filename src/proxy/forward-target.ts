/** Where and how one request is forwarded: shared by the forwarder and the response relay. */
import type { Transform } from 'node:stream';

export interface ForwardTarget {
  /** Upstream MCP endpoint, used as is (path and query). */
  url: URL;
  /** No upstream response headers within this many ms → 504. Does not apply once streaming has started. */
  timeoutMs: number;
  /** keyhole's own `WWW-Authenticate` value, sent when the upstream rejects a freshly refreshed token. */
  challenge401?: string;
  /**
   * Optional rewrites of a successful response body (the `tools/list` filters, secret redaction), one or a chain
   * applied in order; any Transform drops the upstream `Content-Length`.
   */
  transformResponse?: ResponseTransform | readonly ResponseTransform[];
  /**
   * Called once per forwarded request with what the upstream did (the circuit breaker's input): a response (its
   * status, after the one 401 retry), a timeout, no connection, or nothing because the client left first. Not
   * called when the credential source threw before anything was sent.
   */
  onOutcome?: (outcome: UpstreamOutcome) => void;
  /**
   * A W3C `traceparent` to send upstream (keyhole's span as the parent), set by the audit step when the client
   * sent none; a client's own `traceparent` is forwarded as is (request-headers.ts).
   * @see https://www.w3.org/TR/trace-context/#traceparent-header
   */
  traceparent?: string;
}

/**
 * A rewrite of a successful response body. Called with whether the upstream answers in SSE; a Transform pipes the
 * body through it, null leaves the bytes untouched. A chain (array) pipes through each in order.
 */
export type ResponseTransform = (kind: { sse: boolean; status: number }) => Transform | null;

export type UpstreamOutcome = { kind: 'response'; status: number } | { kind: 'timeout' } | { kind: 'unreachable' } | { kind: 'client-gone' };
