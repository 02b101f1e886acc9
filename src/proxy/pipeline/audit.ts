/**
 * Step 2 of `/mcp/{server}` (right after resolve-server, so refusals — `unauthorized`, `denied`, `rate_limited` —
 * are on the record too): one audit record per request (src/audit/request-audit.ts). It begins the trail when the
 * request arrives (W3C trace context, request id, a meter on the response's write path), lets the later steps run,
 * and ends it when the client's response closes, with what the steps put on the {@link McpRequest}: grant, subject,
 * client, JSON-RPC method and tool, the refusal reason (`mcp.denial`), request size and, on servers with
 * `"audit": {"arguments": "redacted"}`, the tool arguments (redacted by the auditor before they are stored), and
 * the counts per kind of the secrets redact-secrets removed from the answer (`mcp.redactions`).
 * Puts on the context: `mcp.traceparent` when the client sent none (the forward step sends it upstream).
 * @see https://www.w3.org/TR/trace-context/#traceparent-header
 */
import type { AuditFacts, RequestAuditor } from '../../audit/request-audit.js';
import { formatTraceparent } from '../../audit/trace-context.js';
import { jsonRpcOf, type McpRequest, type McpStep } from './mcp-request.js';

export interface AuditOptions {
  auditor: Pick<RequestAuditor, 'begin'>;
  /** Whether a server's tool arguments are recorded (its `audit.arguments` is `redacted`); absent: never. */
  recordsArguments?: (server: string) => boolean;
}

/** nginx's "client closed request": no status was sent because the client went away first. */
export const CLIENT_CLOSED = 499;

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/** The facts of a request as the steps left them; the body is parsed only if a step has not done it already. */
export function auditFacts(req: McpRequest, httpStatus: number, withArguments: boolean): AuditFacts {
  let method: string | null = null;
  let tool: string | null = null;
  let args: unknown;
  if (req.body) {
    const info = jsonRpcOf(req);
    const first = info?.single ?? info?.messages[0];
    if (first) {
      method = str(first.method);
      const params = first.params && typeof first.params === 'object' ? (first.params as Record<string, unknown>) : undefined;
      if (method === 'tools/call' || method === 'prompts/get') tool = str(params?.name);
      else if (method === 'resources/read') tool = str(params?.uri);
      if (withArguments && method === 'tools/call' && params && 'arguments' in params) args = params.arguments;
    }
  }
  const grant = req.grant;
  return {
    httpStatus,
    person: grant?.personId ?? null,
    subject: grant?.subject ?? null,
    clientId: grant?.clientId ?? null,
    grantId: grant?.id ?? null,
    method,
    tool,
    denialReason: req.denial?.reason ?? null,
    requestBytes: req.body?.length ?? 0,
    ...(args !== undefined ? { arguments: args } : {}),
    ...(req.redactions ? { redactions: { ...req.redactions } } : {}),
  };
}

export function audit(opts: AuditOptions): McpStep {
  if (!opts || typeof opts.auditor?.begin !== 'function') throw new TypeError('audit: auditor is required');
  const { auditor } = opts;
  const recordsArguments = opts.recordsArguments ?? (() => false);

  return async function auditMcpRequest(c, next) {
    const req = c.get('mcp');
    const incoming = c.req.header('traceparent');
    const outgoing = c.env?.outgoing;
    const trail = auditor.begin(req.server, incoming, outgoing);
    if (incoming === undefined) req.traceparent = formatTraceparent(trail.trace);
    const end = (status: number) => trail.end(auditFacts(req, status, recordsArguments(req.server)));
    if (outgoing) {
      // Ends when the answer is over (streamed ones included), or when the client went away: before any answer
      // was sent, that is recorded as 499 (the client closed the request; outcome `error`), not as the default 200.
      outgoing.once('close', () => end(outgoing.headersSent ? outgoing.statusCode : CLIENT_CLOSED));
      await next();
    } else {
      try {
        await next();
      } finally {
        end(c.res.status);
      }
    }
  };
}
