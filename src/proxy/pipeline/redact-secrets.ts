/**
 * The guardrails step of `/mcp/{server}` (issue 15): on a server with `guardrails`, secrets in tool output (PEM
 * private keys, cloud and forge tokens, JWTs, Bearer values, secret-like `key=value`, configured patterns) are
 * replaced by `[REDACTED:<kind>]` in every successful answer, JSON or SSE (../../policy/redaction-stream.ts:
 * strings inside `result` only; an SSE stream is still relayed event by event). The rewrite runs after the
 * `tools/list` filters, so it sees what the client will see.
 * Puts on the context: one more `mcp.responseTransforms` entry.
 */
import type { ServerPolicies } from '../../policy/server-policy.js';
import type { RedactionCounts } from '../../policy/secret-redactor.js';
import { jsonRedactionStream, sseRedactionStream } from '../../policy/redaction-stream.js';
import { addResponseTransform, type McpStep } from './mcp-request.js';

export interface RedactSecretsOptions {
  policies: Pick<ServerPolicies, 'get'>;
  /** Told the kinds and counts redacted in one body or event (never the values): audit and metrics plug in here. */
  onRedacted?: (server: string, counts: RedactionCounts) => void;
}

export function redactSecrets(opts: RedactSecretsOptions): McpStep {
  if (!opts || typeof opts.policies?.get !== 'function') throw new TypeError('redactSecrets: policies is required');
  const { policies, onRedacted } = opts;

  return async function redactSecretsInResults(c, next) {
    const req = c.get('mcp');
    const redactor = policies.get(req.server)?.redactor;
    if (redactor?.active && req.method !== 'DELETE') {
      const options = onRedacted ? { onRedacted: (counts: RedactionCounts) => onRedacted(req.server, counts) } : {};
      addResponseTransform(req, ({ sse }) => (sse ? sseRedactionStream(redactor, options) : jsonRedactionStream(redactor, options)));
    }
    await next();
  };
}
