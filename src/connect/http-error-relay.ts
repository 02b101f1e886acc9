/**
 * The JSON-RPC error the stdio client gets when a request could not be delivered. When the server answered the POST
 * with a JSON-RPC error body (keyhole's -32029 rate limit, -32020 header mismatch, an SDK server's -32000/-32001),
 * that error is passed through unchanged, with the request's id; otherwise the bridge says what failed, as a
 * -32000 server error (JSON-RPC 2.0 §5.1: -32000 to -32099 are implementation-defined server errors).
 */
import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { JSONRPCMessage, RequestId } from '@modelcontextprotocol/sdk/types.js';

export const BRIDGE_ERROR_CODE = -32000;

interface JsonRpcErrorBody {
  code: number;
  message: string;
  data?: unknown;
}

function errorBodyOf(e: unknown): JsonRpcErrorBody | undefined {
  if (!(e instanceof StreamableHTTPError)) return undefined;
  const start = e.message.indexOf('{');
  if (start < 0) return undefined;
  try {
    const body = JSON.parse(e.message.slice(start)) as { jsonrpc?: unknown; error?: Partial<JsonRpcErrorBody> };
    const error = body.error;
    if (body.jsonrpc !== '2.0' || !error || typeof error.code !== 'number' || typeof error.message !== 'string') return undefined;
    return { code: error.code, message: error.message, ...(error.data !== undefined ? { data: error.data } : {}) };
  } catch {
    return undefined;
  }
}

export function errorResponseFor(id: RequestId, e: unknown): JSONRPCMessage {
  const relayed = errorBodyOf(e);
  if (relayed) return { jsonrpc: '2.0', id, error: relayed };
  const status = e instanceof StreamableHTTPError && e.code !== undefined && e.code > 0 ? e.code : undefined;
  const message = `keyhole connect: ${(e as Error)?.message ?? String(e)}`;
  return { jsonrpc: '2.0', id, error: { code: BRIDGE_ERROR_CODE, message, ...(status ? { data: { http_status: status } } : {}) } };
}
