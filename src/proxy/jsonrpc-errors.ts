/**
 * Every JSON-RPC error keyhole itself produces on `/mcp/{server}`, in one table: code, message, HTTP status.
 * One meaning per code (docs/jsonrpc-errors.md is the documented copy; a test keeps the two in step).
 *
 * - Standard codes (-32700, -32600..-32602) carry their JSON-RPC 2.0 meaning.
 *   @see https://www.jsonrpc.org/specification#error_object (§5.1)
 * - -32020 HeaderMismatch is MCP's own code, with its prescribed HTTP 400.
 *   @see https://modelcontextprotocol.io/specification/2026-07-28/basic/transports/streamable-http#server-validation
 * - -32029 (rate limited, `data.retry_after`) and the other traffic-policy codes (-32014..-32017) come from
 *   ../policy/jsonrpc-errors.ts (`POLICY_ERRORS`), whose builders the policy steps use: one definition each.
 * - keyhole's own codes sit in the JSON-RPC implementation-defined server-error range (-32000..-32099, §5.1),
 *   in its lower part -32000..-32019, never in -32020..-32099, which MCP 2026-07-28 reserves for codes the
 *   MCP specification defines. -32002 is skipped: MCP 2026-07-28 forbids emitting it (old "resource not found").
 *   @see https://modelcontextprotocol.io/specification/2026-07-28/basic/index#error-codes
 */
import { POLICY_ERRORS } from '../policy/jsonrpc-errors.js';

export interface JsonRpcErrorDef {
  readonly code: number;
  readonly message: string;
  /** HTTP status keyhole answers with; 200 for an error sent inside an already started SSE stream. */
  readonly status: 200 | 400 | 401 | 403 | 404 | 405 | 413 | 429 | 502 | 503 | 504;
}

export const JSONRPC_ERRORS = {
  // JSON-RPC 2.0 standard codes
  PARSE_ERROR: { code: -32700, message: 'Parse error: keyhole checks this request and could not read it', status: 400 },
  BODY_TOO_LARGE: { code: -32600, message: 'Invalid Request: request body too large', status: 413 },
  BATCH_NOT_ALLOWED: { code: -32600, message: 'Invalid Request: JSON-RPC batches are not allowed in protocol revision 2026-07-28', status: 400 },
  NO_SUCH_SERVER: { code: -32601, message: 'no such MCP server', status: 404 },
  TOOL_NAME_MISSING: { code: -32602, message: 'tools/call needs params.name', status: 400 },
  // MCP-defined codes
  HEADER_MISMATCH: { code: -32020, message: 'Header mismatch', status: 400 },
  RATE_LIMITED: POLICY_ERRORS.RATE_LIMITED,
  // keyhole's own (implementation-defined server errors)
  ORIGIN_REFUSED: { code: -32000, message: 'invalid_origin', status: 403 },
  UPSTREAM_CREDENTIAL_REJECTED: { code: -32001, message: 'upstream rejected the credential', status: 401 },
  INSUFFICIENT_SCOPE: { code: -32003, message: 'insufficient scope', status: 403 },
  UPSTREAM_UNREACHABLE: { code: -32004, message: 'upstream unreachable', status: 502 },
  UPSTREAM_TIMEOUT: { code: -32005, message: 'upstream timed out', status: 504 },
  UPSTREAM_REDIRECT_REFUSED: { code: -32006, message: 'upstream redirect refused', status: 502 },
  UPSTREAM_BAD_RESPONSE: { code: -32007, message: 'upstream sent an invalid response', status: 502 },
  UPSTREAM_AUTH_UNAVAILABLE: { code: -32008, message: 'upstream authorization server unavailable', status: 502 },
  UPSTREAM_AUTH_TIMEOUT: { code: -32009, message: 'upstream authorization server timed out', status: 504 },
  SESSION_NOT_FOUND: { code: -32010, message: 'Session not found', status: 404 },
  RESPONSE_TOO_LARGE_TO_FILTER: { code: -32011, message: 'tools/list response too large to filter', status: 200 },
  METHOD_NOT_ALLOWED: { code: -32012, message: 'method not allowed', status: 405 },
  TOOL_NOT_AVAILABLE: { code: -32013, message: 'tool not available through keyhole', status: 200 },
  // keyhole's own traffic policy (../policy/jsonrpc-errors.ts)
  ARGUMENT_REFUSED: POLICY_ERRORS.ARGUMENT_REFUSED,
  ARGUMENT_UNCHECKABLE: POLICY_ERRORS.ARGUMENT_UNCHECKABLE,
  CIRCUIT_OPEN: POLICY_ERRORS.CIRCUIT_OPEN,
  TOOL_NOT_APPROVED: POLICY_ERRORS.TOOL_NOT_APPROVED,
} as const satisfies Record<string, JsonRpcErrorDef>;

export type JsonRpcErrorName = keyof typeof JSONRPC_ERRORS;

export interface JsonRpcErrorBody {
  jsonrpc: '2.0';
  error: { code: number; message: string; data?: unknown };
  id: string | number | null;
}

/** The JSON-RPC error response body for a table entry; `message` overrides the table's text (same meaning). */
export function jsonRpcErrorBody(name: JsonRpcErrorName, opts: { id?: unknown; message?: string; data?: unknown } = {}): JsonRpcErrorBody {
  const def = JSONRPC_ERRORS[name];
  const id = typeof opts.id === 'string' || typeof opts.id === 'number' ? opts.id : null;
  return { jsonrpc: '2.0', error: { code: def.code, message: opts.message ?? def.message, ...(opts.data !== undefined ? { data: opts.data } : {}) }, id };
}
