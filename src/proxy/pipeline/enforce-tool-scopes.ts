/**
 * Step 6 of `/mcp/{server}`: delegated scopes (docs/client-requirements.md A.4, D.20), on servers with a scope map.
 * Decided on the body, never on a header (../tool-call-decision.ts):
 * - a `tools/call` without a string `params.name` → 400 `TOOL_NAME_MISSING`;
 * - a tool that no scope names (default policy deny) → `TOOL_NOT_AVAILABLE`, no challenge: no step-up can fix it;
 * - a tool outside the grant's scopes → 403 `INSUFFICIENT_SCOPE` with one `insufficient_scope` challenge naming
 *   everything the request needs (held + new, every refused call of a batch);
 * - `tools/list` → its result is filtered to the tools the grant allows.
 * A body that is not JSON → 400 `PARSE_ERROR`. Servers without a scope map pass through untouched (no parse).
 * Puts on the context: `mcp.transformResponse` for `tools/list`, and `mcp.rpc`.
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3.1
 */
import type { ServerConfig } from '../../config/schema.js';
import { formatScope } from '../../oauth/scope.js';
import { bearerChallenge } from '../../oauth/www-authenticate.js';
import { jsonRpcErrorBody, JSONRPC_ERRORS } from '../jsonrpc-errors.js';
import { createToolPolicy } from '../tool-policy.js';
import { decideToolCalls } from '../tool-call-decision.js';
import { jsonToolsListFilter, sseToolsListFilter } from '../tools-list-filter.js';
import { authenticated, jsonRpcOf, type McpStep } from './mcp-request.js';

export interface EnforceToolScopesOptions {
  /** The configured servers: each one's scope map (`scopes`) and `defaultPolicy`. */
  servers: Readonly<Record<string, ServerConfig>>;
}

const PARSE_ERROR = jsonRpcErrorBody('PARSE_ERROR');

export function enforceToolScopes(opts: EnforceToolScopesOptions): McpStep {
  if (!opts || !opts.servers || typeof opts.servers !== 'object') throw new TypeError('enforceToolScopes: servers is required');
  const policies = new Map(Object.entries(opts.servers).map(([name, s]) => [name, createToolPolicy(s)]));

  return async function enforceMcpToolScopes(c, next) {
    const req = c.get('mcp');
    const policy = policies.get(req.server);
    if (req.body && policy?.filters) {
      const rpc = jsonRpcOf(req);
      if (!rpc) return c.json(PARSE_ERROR, JSONRPC_ERRORS.PARSE_ERROR.status);
      const { token } = authenticated(req);
      const decision = decideToolCalls(policy, token.scopes, rpc.toolCalls);
      if (decision.kind === 'missing_name') return c.json(jsonRpcErrorBody('TOOL_NAME_MISSING', { id: decision.id }), JSONRPC_ERRORS.TOOL_NAME_MISSING.status);
      if (decision.kind === 'unavailable') {
        req.denial = { reason: 'tool_not_available' };
        // No scope names this tool: no insufficient_scope challenge (a client would re-authorize or refresh in
        // vain); a JSON-RPC error the agent can read.
        return c.json(jsonRpcErrorBody('TOOL_NOT_AVAILABLE', { id: decision.id, message: `the tool ${decision.tool} is not available through keyhole` }), JSONRPC_ERRORS.TOOL_NOT_AVAILABLE.status);
      }
      if (decision.kind === 'step_up') {
        req.denial = { reason: 'insufficient_scope' };
        // RFC 6750 §3.1 insufficient_scope; the scope lists everything this request needs (held + new, every
        // refused call of a batch), since the SDK retries once per distinct challenge.
        c.header('WWW-Authenticate', bearerChallenge({
          error: 'insufficient_scope',
          errorDescription: `the tool ${decision.tools.join(', ')} needs the scope ${decision.needed.join(' ')}`,
          resourceMetadata: req.route.prmUrl,
          scope: formatScope(decision.scopes),
        }));
        return c.json(jsonRpcErrorBody('INSUFFICIENT_SCOPE', { id: decision.id, message: `insufficient scope for tool ${decision.tools.join(', ')}` }), JSONRPC_ERRORS.INSUFFICIENT_SCOPE.status);
      }
      const ids = rpc.toolListIds;
      if (ids.size) {
        const keep = (tool: { name: string }) => policy.allows(token.scopes, tool.name);
        req.transformResponse = ({ sse }) => (sse ? sseToolsListFilter(ids, keep) : jsonToolsListFilter(ids, keep));
      }
    }
    await next();
  };
}
