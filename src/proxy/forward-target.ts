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
   * Optional rewrite of a successful response body (used to filter `tools/list` results by scope). Called with
   * whether the upstream answers in SSE; returning a Transform pipes the body through it (the upstream
   * `Content-Length` is dropped), returning null leaves the bytes untouched.
   */
  transformResponse?: (kind: { sse: boolean; status: number }) => Transform | null;
  /**
   * A W3C `traceparent` to send upstream (keyhole's span as the parent), set by the audit step when the client
   * sent none; a client's own `traceparent` is forwarded as is (request-headers.ts).
   * @see https://www.w3.org/TR/trace-context/#traceparent-header
   */
  traceparent?: string;
}
