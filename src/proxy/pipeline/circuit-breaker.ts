/**
 * The circuit-breaker step of `/mcp/{server}` (issue 15), the last one before the credential: on a server with a
 * breaker (`circuitBreaker`, or `health`), `admit()` decides whether the request may reach the upstream at all.
 * - Open circuit (or a half-open one whose single trial is out): 503 `CIRCUIT_OPEN` (-32016) with `Retry-After`,
 *   and nothing else happens: no upstream credential is fetched, no connection is attempted.
 * - Admitted: the forwarder reports what the upstream did (`mcp.onUpstreamOutcome`, forwarded as `onOutcome`):
 *   no connection, a timeout or a 5xx is a failure; any other status a success; a client that left first, a
 *   credential that could not be had, or a later refusal cancels the permit (neither).
 * Puts on the context: `mcp.onUpstreamOutcome`.
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-15.6.4 (503 Service Unavailable, Retry-After)
 */
import type { ServerPolicies } from '../../policy/server-policy.js';
import { circuitOpenError } from '../../policy/jsonrpc-errors.js';
import { isUpstreamFailureStatus } from '../../policy/circuit-breaker.js';
import type { UpstreamOutcome } from '../forward-target.js';
import { jsonRpcOf, type McpStep } from './mcp-request.js';

export interface CircuitBreakerOptions {
  policies: Pick<ServerPolicies, 'get'>;
}

export function circuitBreaker(opts: CircuitBreakerOptions): McpStep {
  if (!opts || typeof opts.policies?.get !== 'function') throw new TypeError('circuitBreaker: policies is required');
  const { policies } = opts;

  return async function guardUpstreamCircuit(c, next) {
    const req = c.get('mcp');
    const breaker = policies.get(req.server)?.breaker;
    if (!breaker) return next();
    const admission = breaker.admit();
    if (!admission.ok) {
      // The refusal path only: the id is worth a parse here (a single message's id; null for a batch or no body).
      const id = req.body ? jsonRpcOf(req)?.single?.id : undefined;
      const refusal = circuitOpenError(id, req.server, admission.retryAfterSeconds);
      return c.json(refusal.body, 503, refusal.headers);
    }
    const { permit } = admission;
    let reported = false;
    req.onUpstreamOutcome = (o: UpstreamOutcome) => {
      reported = true;
      if (o.kind === 'client-gone') permit.cancel();
      else if (o.kind === 'response' && !isUpstreamFailureStatus(o.status)) permit.success();
      else permit.failure();
    };
    try {
      await next();
    } finally {
      if (!reported) permit.cancel();
    }
  };
}
