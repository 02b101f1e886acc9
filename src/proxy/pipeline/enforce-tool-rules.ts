/**
 * The tool-rules step of `/mcp/{server}` (issue 15), after the delegated scopes: per `tools/call` message (each
 * message of a batch, and one refusal answers the whole request, so the upstream never sees a refused call):
 * - pinned tools (`pinTools`): a tool not in the approved snapshot, or whose listed description or inputSchema
 *   changed since the approval → 403 `TOOL_NOT_APPROVED` (-32017);
 * - argument rules (`argumentRules`): a value a rule refuses → 403 `ARGUMENT_REFUSED` (-32014); the constrained
 *   argument missing or not a string/number/boolean → 403 `ARGUMENT_UNCHECKABLE` (-32015). No scope challenge:
 *   no authorization can lift a rule.
 * And for `tools/list` on a pinned server: the result keeps only approved, unchanged tools (a rewrite after the
 * scope filter). A `tools/call` without a string `params.name` → 400 `TOOL_NAME_MISSING`; a body that is not JSON
 * → 400 `PARSE_ERROR` (only on servers with rules: the step must read the body).
 * Puts on the context: `mcp.rpc`, and one more `mcp.responseTransforms` entry for a pinned `tools/list`.
 * @see https://www.rfc-editor.org/rfc/rfc6901 (JSON Pointer, the rules' `pointer`)
 */
import type { ServerPolicies } from '../../policy/server-policy.js';
import type { PinnedTools } from '../../policy/pinned-tools.js';
import { argumentRefusedError, toolNotApprovedError, type PolicyRefusal } from '../../policy/jsonrpc-errors.js';
import { jsonRpcErrorBody, JSONRPC_ERRORS } from '../jsonrpc-errors.js';
import { jsonToolsListFilter, sseToolsListFilter } from '../tools-list-filter.js';
import { addResponseTransform, jsonRpcOf, type McpStep } from './mcp-request.js';

export interface EnforceToolRulesOptions {
  policies: Pick<ServerPolicies, 'get'>;
  /**
   * The current pinned tools of a server with `pinTools` (they change when an admin approves a list), or null.
   * Default: the pins the policies were built with.
   */
  pins?: (server: string) => PinnedTools | null;
}

const PARSE_ERROR = jsonRpcErrorBody('PARSE_ERROR');

export function enforceToolRules(opts: EnforceToolRulesOptions): McpStep {
  if (!opts || typeof opts.policies?.get !== 'function') throw new TypeError('enforceToolRules: policies is required');
  if (opts.pins !== undefined && typeof opts.pins !== 'function') throw new TypeError('enforceToolRules: pins must be a function');
  const { policies } = opts;
  const pinsOf = opts.pins ?? ((server: string) => policies.get(server)?.pins ?? null);

  return async function enforceMcpToolRules(c, next) {
    const req = c.get('mcp');
    const policy = policies.get(req.server);
    const rules = policy?.argumentRules;
    const pins = pinsOf(req.server);
    if (req.body && (rules?.active || pins)) {
      const rpc = jsonRpcOf(req);
      if (!rpc) return c.json(PARSE_ERROR, JSONRPC_ERRORS.PARSE_ERROR.status);
      for (const call of rpc.toolCalls) {
        if (typeof call.name !== 'string') return c.json(jsonRpcErrorBody('TOOL_NAME_MISSING', { id: call.id }), JSONRPC_ERRORS.TOOL_NAME_MISSING.status);
        let refusal: PolicyRefusal | undefined;
        const pinned = pins?.checkCall(call.name);
        if (pinned && !pinned.ok) refusal = toolNotApprovedError(call.id, call.name, pinned.reason);
        else if (rules?.active) {
          const decision = rules.check(call.name, call.arguments);
          if (!decision.ok) refusal = argumentRefusedError(call.id, decision);
        }
        if (refusal) return c.json(refusal.body, 403, refusal.headers);
      }
      const ids = rpc.toolListIds;
      if (pins && ids.size) {
        const keep = (tool: unknown) => pins.keepTool(tool);
        addResponseTransform(req, ({ sse }) => (sse ? sseToolsListFilter(ids, keep) : jsonToolsListFilter(ids, keep)));
      }
    }
    await next();
  };
}
