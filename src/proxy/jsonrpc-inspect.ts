/**
 * Reads what a tool rule needs from a JSON-RPC request body: the methods, `tools/call` names and `tools/list`
 * ids. The tool name always comes from the body, never from a header (`Mcp-Name` is advisory).
 * A body the policy cannot parse is refused rather than forwarded, so keyhole and the upstream never disagree
 * about what was called.
 * @see https://www.jsonrpc.org/specification#batch
 */
export interface JsonRpcRequestInfo {
  toolCalls: Array<{ id: unknown; name: unknown }>;
  /** ids of `tools/list` requests whose responses must be filtered */
  toolListIds: Set<string>;
}

export type InspectResult = { ok: true; info: JsonRpcRequestInfo } | { ok: false; message: string };

/** JSON-RPC ids are strings or numbers; key them by their JSON form so `1` and `"1"` stay distinct. */
export function idKey(id: unknown): string {
  return JSON.stringify(id ?? null);
}

export function inspectJsonRpc(body: Buffer | null): InspectResult {
  if (!body || body.length === 0) return { ok: true, info: { toolCalls: [], toolListIds: new Set() } };
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return { ok: false, message: 'Parse error' };
  }
  const messages = Array.isArray(parsed) ? parsed : [parsed];
  const info: JsonRpcRequestInfo = { toolCalls: [], toolListIds: new Set() };
  for (const m of messages) {
    if (!m || typeof m !== 'object') continue;
    const msg = m as { id?: unknown; method?: unknown; params?: { name?: unknown } };
    if (msg.method === 'tools/call') info.toolCalls.push({ id: msg.id ?? null, name: msg.params?.name });
    else if (msg.method === 'tools/list' && msg.id !== undefined) info.toolListIds.add(idKey(msg.id));
  }
  return { ok: true, info };
}
