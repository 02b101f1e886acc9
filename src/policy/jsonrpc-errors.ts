/**
 * keyhole's traffic-policy JSON-RPC errors: one table ({@link POLICY_ERRORS}: code, generic message, HTTP status;
 * src/proxy/jsonrpc-errors.ts spreads it into keyhole's one error table, docs/jsonrpc-errors.md documents it) and
 * one builder per refusal, with the HTTP status and headers to send.
 * Codes:
 * - -32029 rate limited (`data.retry_after`; fixed by the project: docs/jsonrpc-errors.md)
 * - keyhole's own, in its range -32000..-32019 (MCP 2026-07-28 reserves -32020..-32099 for the specification):
 *   - -32014 argument refused by a rule (allow/deny)
 *   - -32015 argument a rule constrains is missing, not a string/number/boolean, or too long to check
 *   - -32016 upstream unavailable: circuit open (`data.retry_after`)
 *   - -32017 tool not approved: its description or inputSchema differs from the pinned snapshot, or it is new
 * @see https://www.jsonrpc.org/specification#error_object
 * @see https://modelcontextprotocol.io/specification/2026-07-28/basic/index#error-codes
 */
export const POLICY_ERRORS = {
  RATE_LIMITED: { code: -32029, message: 'Rate limit exceeded', status: 429 },
  ARGUMENT_REFUSED: { code: -32014, message: 'argument refused by policy', status: 403 },
  ARGUMENT_UNCHECKABLE: { code: -32015, message: 'argument cannot be checked by policy', status: 403 },
  CIRCUIT_OPEN: { code: -32016, message: 'Upstream unavailable (circuit open)', status: 503 },
  TOOL_NOT_APPROVED: { code: -32017, message: 'tool not approved', status: 403 },
} as const;

export const RATE_LIMITED = POLICY_ERRORS.RATE_LIMITED.code;
export const ARGUMENT_REFUSED = POLICY_ERRORS.ARGUMENT_REFUSED.code;
export const ARGUMENT_UNCHECKABLE = POLICY_ERRORS.ARGUMENT_UNCHECKABLE.code;
export const CIRCUIT_OPEN = POLICY_ERRORS.CIRCUIT_OPEN.code;
export const TOOL_NOT_APPROVED = POLICY_ERRORS.TOOL_NOT_APPROVED.code;

export type JsonRpcId = string | number | null;

export interface PolicyRefusal {
  status: number;
  headers: Record<string, string>;
  body: { jsonrpc: '2.0'; id: JsonRpcId; error: { code: number; message: string; data?: Record<string, unknown> } };
}

/** JSON-RPC ids are strings or numbers; anything else (absent, an object) answers with null. */
export function responseId(id: unknown): JsonRpcId {
  return typeof id === 'string' || typeof id === 'number' ? id : null;
}

export interface RateLimitData {
  limit_type: 'per_person' | 'per_client' | 'per_tool' | 'per_upstream' | 'global';
  retry_after: number;
  limit: number;
  window: string;
  tool?: string;
}

/** 429 + Retry-After, `{"jsonrpc":"2.0","id":7,"error":{"code":-32029,"message":"Rate limit exceeded","data":{…}}}`. */
export function rateLimitedError(id: unknown, data: RateLimitData): PolicyRefusal {
  const { limit_type, tool, retry_after, limit, window } = data;
  // Fixed key order (limit_type, tool, retry_after, limit, window): clients and docs see one shape.
  const ordered = tool === undefined ? { limit_type, retry_after, limit, window } : { limit_type, tool, retry_after, limit, window };
  return {
    status: POLICY_ERRORS.RATE_LIMITED.status,
    headers: { 'Retry-After': String(retry_after) },
    body: { jsonrpc: '2.0', id: responseId(id), error: { code: RATE_LIMITED, message: POLICY_ERRORS.RATE_LIMITED.message, data: ordered } },
  };
}

/** 503 + Retry-After while the upstream's circuit is open. */
export function circuitOpenError(id: unknown, server: string, retryAfterSeconds: number): PolicyRefusal {
  const retry_after = Math.max(1, Math.ceil(retryAfterSeconds));
  return {
    status: POLICY_ERRORS.CIRCUIT_OPEN.status,
    headers: { 'Retry-After': String(retry_after) },
    body: { jsonrpc: '2.0', id: responseId(id), error: { code: CIRCUIT_OPEN, message: POLICY_ERRORS.CIRCUIT_OPEN.message, data: { server, retry_after } } },
  };
}

export interface ArgumentRefusalData {
  rule: { index: number; tool: string; pointer: string };
  reason: 'missing' | 'wrong_type' | 'too_long' | 'not_allowed' | 'denied';
  tool: string;
}

/** 403 without a scope challenge: no scope can lift an argument rule. */
export function argumentRefusedError(id: unknown, data: ArgumentRefusalData): PolicyRefusal {
  const refused = data.reason === 'not_allowed' || data.reason === 'denied';
  const message = refused ? `Argument ${data.rule.pointer} of ${data.tool} refused by policy` : `Argument ${data.rule.pointer} of ${data.tool} cannot be checked by policy`;
  return {
    status: POLICY_ERRORS.ARGUMENT_REFUSED.status,
    headers: {},
    body: { jsonrpc: '2.0', id: responseId(id), error: { code: refused ? ARGUMENT_REFUSED : ARGUMENT_UNCHECKABLE, message, data: { rule: data.rule, reason: data.reason } } },
  };
}

export function toolNotApprovedError(id: unknown, tool: string, reason: 'changed' | 'unapproved'): PolicyRefusal {
  return {
    status: POLICY_ERRORS.TOOL_NOT_APPROVED.status,
    headers: {},
    body: { jsonrpc: '2.0', id: responseId(id), error: { code: TOOL_NOT_APPROVED, message: `Tool ${tool} is not approved`, data: { tool, reason } } },
  };
}
