/**
 * Step 5 of `/mcp/{server}`: the MCP 2026-07-28 standard headers (`MCP-Protocol-Version`, `Mcp-Method`,
 * `Mcp-Name`) say what the body says, on every server (issue 11 §1), or the request stops here with 400
 * `HEADER_MISMATCH` (or `BATCH_NOT_ALLOWED`), before anything reaches the upstream. The body is parsed only when
 * there is a header to compare it with (../header-body-check.ts has the rules); not JSON → 400 `PARSE_ERROR`.
 * Puts on the context: `mcp.rpc` when it parsed the body.
 * @see https://modelcontextprotocol.io/specification/2026-07-28/basic/transports/streamable-http#server-validation
 */
import { checkHeadersAgainstBody, needsHeaderCheck, type StandardHeaders } from '../header-body-check.js';
import { jsonRpcErrorBody, JSONRPC_ERRORS } from '../jsonrpc-errors.js';
import { jsonRpcOf, type McpStep } from './mcp-request.js';

const PARSE_ERROR = jsonRpcErrorBody('PARSE_ERROR');

export function checkHeaders(): McpStep {
  return async function checkMcpHeaders(c, next) {
    const req = c.get('mcp');
    if (req.body) {
      const headers: StandardHeaders = { protocolVersion: c.req.header('mcp-protocol-version'), method: c.req.header('mcp-method'), name: c.req.header('mcp-name') };
      if (needsHeaderCheck(headers)) {
        const rpc = jsonRpcOf(req);
        if (!rpc) return c.json(PARSE_ERROR, JSONRPC_ERRORS.PARSE_ERROR.status);
        const rejected = checkHeadersAgainstBody(headers, rpc);
        if (rejected) return c.json(jsonRpcErrorBody(rejected.error, { id: rejected.id, message: rejected.message }), JSONRPC_ERRORS[rejected.error].status);
      }
    }
    await next();
  };
}
