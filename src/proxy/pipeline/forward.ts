/**
 * The last step of `/mcp/{server}`: the byte-streaming forwarder (../forwarder.ts) sends the request upstream
 * with the grant's credential instead of keyhole's token and relays the answer (JSON or SSE) as it arrives,
 * through the response rewrites when any are set (`tools/list` filters, redaction), telling the circuit breaker
 * what the upstream did (`mcp.onUpstreamOutcome`). A credential failure while forwarding is answered by the
 * credential step's rules ({@link credentialFailure}); other errors go to `app.onError`.
 * Puts nothing on the context; reads `mcp.route`, `mcp.body`, `mcp.credential`, `mcp.transformResponse`,
 * `mcp.responseTransforms`, `mcp.onUpstreamOutcome`.
 */
import type { Forwarder } from '../forwarder.js';
import { credentialOf, responseTransformsOf, type McpStep } from './mcp-request.js';
import { credentialFailure } from './credential.js';

export interface ForwardOptions {
  forwarder: Pick<Forwarder, 'forward'>;
}

export function forward(opts: ForwardOptions): McpStep {
  if (!opts || typeof opts.forwarder?.forward !== 'function') throw new TypeError('forward: forwarder is required');
  const { forwarder } = opts;

  return async function forwardUpstream(c) {
    const req = c.get('mcp');
    const { route, onUpstreamOutcome, traceparent } = req;
    const transformResponse = responseTransformsOf(req);
    const target = transformResponse || onUpstreamOutcome || traceparent
      ? {
        ...route.target,
        ...(transformResponse ? { transformResponse } : {}),
        ...(onUpstreamOutcome ? { onOutcome: onUpstreamOutcome } : {}),
        ...(traceparent ? { traceparent } : {}),
      }
      : route.target;
    try {
      return await forwarder.forward(c, target, credentialOf(req), req.body);
    } catch (e) {
      const answer = credentialFailure(c, route, e);
      if (answer) return answer;
      throw e;
    }
  };
}
