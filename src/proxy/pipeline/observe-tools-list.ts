/**
 * Step after enforce-tool-scopes: for a `tools/list` request (one page: no `cursor`), wraps the response rewrite
 * with a tap (../../audit/tools-list-tap.ts) that reports the upstream's listed tools — before the scope filter
 * removes any — to `onToolsList` (metrics tool labels, tool-list drift). The answer's bytes are unchanged.
 * Puts on the context: `mcp.transformResponse` (the tap, around the scope filter when there is one).
 */
import { toolsListTap } from '../../audit/tools-list-tap.js';
import { jsonRpcOf, type McpStep } from './mcp-request.js';

export interface ObserveToolsListOptions {
  onToolsList: (server: string, tools: unknown[]) => void;
}

export function observeToolsList(opts: ObserveToolsListOptions): McpStep {
  if (!opts || typeof opts.onToolsList !== 'function') throw new TypeError('observeToolsList: onToolsList is required');
  const { onToolsList } = opts;

  return async function observeMcpToolsList(c, next) {
    const req = c.get('mcp');
    if (req.body) {
      const rpc = jsonRpcOf(req);
      const first = rpc?.single;
      const params = first?.params && typeof first.params === 'object' ? (first.params as { cursor?: unknown }) : undefined;
      if (rpc && rpc.toolListIds.size > 0 && !rpc.batch && params?.cursor === undefined) {
        const inner = req.transformResponse;
        const ids = rpc.toolListIds;
        const server = req.server;
        req.transformResponse = (kind) => toolsListTap(ids, kind.sse, (tools) => onToolsList(server, tools), inner?.(kind) ?? null);
      }
    }
    await next();
  };
}
