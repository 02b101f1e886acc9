/**
 * The standard request headers of MCP 2026-07-28 (`MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name`) must say
 * what the body says. keyhole authorizes on the body; a component behind it that routes or authorizes on the
 * headers must never act on a tool keyhole did not check. So on every POST that carries `Mcp-Method` or
 * `Mcp-Name`, whatever its revision and whether the server filters tools or not, the headers are compared with
 * the body, and a 2026-07-28 request is held to that revision's rules (headers present, a single message).
 * A failure is answered 400 before anything reaches the upstream.
 * @see https://modelcontextprotocol.io/specification/2026-07-28/basic/transports/streamable-http#server-validation
 * @see https://modelcontextprotocol.io/specification/2026-07-28/basic/transports/streamable-http#standard-request-headers
 * @see https://modelcontextprotocol.io/specification/2026-07-28/basic/transports/streamable-http#sending-messages
 */
import type { JsonRpcMessageFields, JsonRpcRequestInfo } from './jsonrpc-inspect.js';
import type { JsonRpcErrorName } from './jsonrpc-errors.js';

export interface StandardHeaders {
  protocolVersion?: string;
  method?: string;
  name?: string;
}

export interface HeaderRejection {
  error: Extract<JsonRpcErrorName, 'HEADER_MISMATCH' | 'BATCH_NOT_ALLOWED'>;
  message: string;
  id: unknown;
}

const FIRST_MODERN = '2026-07-28';
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const SENTINEL_PREFIX = '=?base64?';
const SENTINEL_SUFFIX = '?=';
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Which body field `Mcp-Name` mirrors, per method (the spec's table, plus the other `uri`/`taskId` methods). */
const NAME_SOURCE: Readonly<Record<string, 'name' | 'uri' | 'taskId'>> = {
  'tools/call': 'name',
  'prompts/get': 'name',
  'resources/read': 'uri',
  'resources/subscribe': 'uri',
  'resources/unsubscribe': 'uri',
  'tasks/get': 'taskId',
  'tasks/update': 'taskId',
  'tasks/cancel': 'taskId',
};
/** Methods whose 2026-07-28 requests MUST carry `Mcp-Name` ("Required For" column). */
const NAME_REQUIRED = new Set(['tools/call', 'resources/read', 'prompts/get']);

/** RFC 9110 §5.5: optional whitespace around a field value is not part of it. */
const trimOws = (v: string | undefined): string | undefined => (v === undefined ? undefined : v.replace(/^[ \t]+|[ \t]+$/g, ''));

/** Whether the MCP-Protocol-Version header names 2026-07-28 or a later revision (revisions are ISO dates). */
export function isModernRevision(version: string | undefined): boolean {
  const v = trimOws(version);
  return v !== undefined && DATE.test(v) && v >= FIRST_MODERN;
}

/** Whether the body must be parsed for this check (hot path: only when a header is there to compare). */
export function needsHeaderCheck(h: StandardHeaders): boolean {
  return h.method !== undefined || h.name !== undefined || isModernRevision(h.protocolVersion);
}

/** `Mcp-Name` decoded from the Base64 sentinel form; undefined when the sentinel carries invalid Base64/UTF-8. */
export function decodeMcpName(value: string): string | undefined {
  if (!(value.startsWith(SENTINEL_PREFIX) && value.endsWith(SENTINEL_SUFFIX) && value.length >= SENTINEL_PREFIX.length + SENTINEL_SUFFIX.length)) return value;
  const b64 = value.slice(SENTINEL_PREFIX.length, value.length - SENTINEL_SUFFIX.length);
  if (!BASE64.test(b64)) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(b64, 'base64'));
  } catch {
    return undefined;
  }
}

function nameOf(method: unknown, params: unknown): string | undefined {
  const field = typeof method === 'string' && Object.hasOwn(NAME_SOURCE, method) ? NAME_SOURCE[method] : undefined;
  if (!field || !params || typeof params !== 'object') return undefined;
  const v = (params as Record<string, unknown>)[field];
  return typeof v === 'string' ? v : undefined;
}

function compare(h: StandardHeaders, m: JsonRpcMessageFields, decodedName: string | undefined): string | undefined {
  if (h.method !== undefined && h.method !== m.method) {
    return `the Mcp-Method header names ${JSON.stringify(h.method)} but the body calls ${JSON.stringify(m.method ?? null)}`;
  }
  if (decodedName !== undefined) {
    const bodyName = nameOf(m.method, m.params);
    if (bodyName !== decodedName) return `the Mcp-Name header names ${JSON.stringify(decodedName)} but the body names ${JSON.stringify(bodyName ?? null)}`;
  }
  return undefined;
}

/**
 * Compares the standard headers with the parsed body. Returns the rejection, or undefined when they agree.
 * `info` is the body as parsed by inspectJsonRpc (every element for a batch).
 */
export function checkHeadersAgainstBody(raw: StandardHeaders, info: JsonRpcRequestInfo): HeaderRejection | undefined {
  const messages = info.messages;
  const h: StandardHeaders = { protocolVersion: trimOws(raw.protocolVersion), method: trimOws(raw.method), name: trimOws(raw.name) };
  const id = info.single?.id ?? null;
  const mismatch = (message: string): HeaderRejection => ({ error: 'HEADER_MISMATCH', message: `Header mismatch: ${message}`, id });
  const modern = isModernRevision(h.protocolVersion);
  // 2026-07-28 §Sending Messages 4: the body MUST be a single JSON-RPC request or notification.
  if (modern && info.batch) return { error: 'BATCH_NOT_ALLOWED', message: 'Invalid Request: JSON-RPC batches are not allowed in protocol revision 2026-07-28', id: null };
  let decodedName: string | undefined;
  if (h.name !== undefined) {
    decodedName = decodeMcpName(h.name);
    // §Server Validation: "A header value contains invalid characters" (a broken Base64 sentinel).
    if (decodedName === undefined) return mismatch('the Mcp-Name header carries an invalid Base64 sentinel value');
  }
  if (messages.length === 0 && (h.method !== undefined || h.name !== undefined)) return mismatch('the headers name a method but the body carries no JSON-RPC message');
  for (const m of messages) {
    const why = compare(h, m, decodedName);
    if (why) return mismatch(why);
  }
  const single = info.single;
  // §Standard Request Headers: Mcp-Method required for all requests, Mcp-Name for tools/call, resources/read,
  // prompts/get; §Server Validation: a missing required standard header is a HeaderMismatch.
  if (modern && single && typeof single.method === 'string' && single.id !== undefined) {
    if (h.method === undefined) return mismatch(`the required Mcp-Method header is missing (the body calls ${JSON.stringify(single.method)})`);
    if (h.name === undefined && NAME_REQUIRED.has(single.method) && nameOf(single.method, single.params) !== undefined) {
      return mismatch(`the required Mcp-Name header is missing (the body names ${JSON.stringify(nameOf(single.method, single.params))})`);
    }
  }
  return undefined;
}
