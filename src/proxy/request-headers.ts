/**
 * Which client request headers reach the upstream MCP server: an allow-list, not a deny-list, so a header
 * nobody thought of (`X-Real-IP`, `True-Client-IP`, `Via`, `X-Original-URL`, `X-HTTP-Method-Override`, …)
 * never crosses keyhole and steers or impersonates anything behind it.
 *
 * Forwarded as the client sent them (original casing, duplicates kept):
 * - content negotiation: `Accept`, `Accept-Language`; the body's `Content-Type`;
 * - MCP: `MCP-Protocol-Version`, `Mcp-Session-Id`, `Last-Event-ID`, and every `Mcp-*` field (`Mcp-Method`,
 *   `Mcp-Name`, `Mcp-Param-*`, future ones);
 * - W3C Trace Context: `traceparent`, `tracestate`;
 * - `User-Agent`.
 * Set by keyhole: `Host` (the upstream's), `Accept-Encoding: identity` (SSE is never compressed),
 * `Content-Length` (of the body keyhole read; no `Transfer-Encoding`), and the upstream credential.
 * Never forwarded: everything else — in particular `Authorization` (no token passthrough), `Cookie`, `Origin`,
 * `Forwarded`/`X-Forwarded-*`, hop-by-hop fields, and any field the client's `Connection` header names.
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/security_best_practices#token-passthrough
 * @see https://modelcontextprotocol.io/specification/2026-07-28/basic/transports/streamable-http#server-behavior-for-custom-headers
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-7.6.1 (Connection, hop-by-hop fields)
 * @see https://www.w3.org/TR/trace-context/#traceparent-header
 */
export const FORWARDED_REQUEST_HEADERS: ReadonlySet<string> = new Set([
  'accept',
  'accept-language',
  'content-type',
  'mcp-protocol-version',
  'mcp-session-id',
  'last-event-id',
  'traceparent',
  'tracestate',
  'user-agent',
]);

/** Every `Mcp-*` field passes (docs/client-requirements.md F.27; intermediaries MUST forward unknown `Mcp-Param-*`). */
const MCP_PREFIX = 'mcp-';

export function isForwardedRequestHeader(lower: string): boolean {
  return FORWARDED_REQUEST_HEADERS.has(lower) || lower.startsWith(MCP_PREFIX);
}

/** Names listed in a `Connection` field (RFC 9110 §7.6.1), lower-cased; null when there is none. */
export function connectionTokens(raw: string[]): Set<string> | null {
  let tokens: Set<string> | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length === 10 && raw[i]!.toLowerCase() === 'connection') {
      for (const t of raw[i + 1]!.split(',')) {
        const name = t.trim().toLowerCase();
        if (name) (tokens ??= new Set()).add(name);
      }
    }
  }
  return tokens;
}

/** Client request headers → upstream headers (flat raw array, original casing), without any credential. */
export function upstreamRequestHeaders(raw: string[], url: URL, body: Buffer | null): string[] {
  const named = connectionTokens(raw);
  const out: string[] = ['Host', url.host];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (!isForwardedRequestHeader(lower) || named?.has(lower)) continue;
    out.push(name, raw[i + 1]!);
  }
  out.push('Accept-Encoding', 'identity');
  if (body) out.push('Content-Length', String(body.length));
  return out;
}
