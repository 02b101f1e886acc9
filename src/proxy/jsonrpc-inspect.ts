/**
 * Reads what keyhole's rules need from a JSON-RPC request body: the methods, `tools/call` names, `tools/list`
 * ids, and for a single message the fields the `Mcp-Method` / `Mcp-Name` headers mirror. The tool name always
 * comes from the body, never from a header. A body the policy cannot parse is refused rather than forwarded,
 * so keyhole and the upstream never disagree about what was called. The body itself is never re-serialised.
 * @see https://www.jsonrpc.org/specification#batch
 */
export interface JsonRpcRequestInfo {
  /** Every `tools/call` message: its id, `params.name` and `params.arguments` (undefined when absent). */
  toolCalls: Array<{ id: unknown; name: unknown; arguments: unknown }>;
  /** ids of `tools/list` requests whose responses must be filtered */
  toolListIds: Set<string>;
  /** The body is a JSON array (a batch), whatever its length. */
  batch: boolean;
  /** Every message of the body that is a JSON object (one for a single message). */
  messages: JsonRpcMessageFields[];
  /** The single message (undefined for a batch or a non-object body). */
  single?: JsonRpcMessageFields;
}

export interface JsonRpcMessageFields {
  id: unknown;
  method: unknown;
  params: unknown;
}

export type InspectResult = { ok: true; info: JsonRpcRequestInfo } | { ok: false; message: string };

/** JSON-RPC ids are strings or numbers; key them by their JSON form so `1` and `"1"` stay distinct. */
export function idKey(id: unknown): string {
  return JSON.stringify(id ?? null);
}

export function inspectJsonRpc(body: Buffer | null): InspectResult {
  if (!body || body.length === 0) return { ok: true, info: { toolCalls: [], toolListIds: new Set(), batch: false, messages: [] } };
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return { ok: false, message: 'Parse error' };
  }
  const batch = Array.isArray(parsed);
  const messages = batch ? (parsed as unknown[]) : [parsed];
  const info: JsonRpcRequestInfo = { toolCalls: [], toolListIds: new Set(), batch, messages: [] };
  for (const m of messages) {
    if (!m || typeof m !== 'object' || Array.isArray(m)) continue;
    const msg = m as { id?: unknown; method?: unknown; params?: { name?: unknown; arguments?: unknown } };
    const fields = { id: msg.id, method: msg.method, params: msg.params };
    info.messages.push(fields);
    if (!batch) info.single = fields;
    if (msg.method === 'tools/call') info.toolCalls.push({ id: msg.id ?? null, name: msg.params?.name, arguments: msg.params?.arguments });
    else if (msg.method === 'tools/list' && msg.id !== undefined) info.toolListIds.add(idKey(msg.id));
  }
  return { ok: true, info };
}
