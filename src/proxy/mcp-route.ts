/**
 * `/mcp/{server}` — the protected resource, as a pipeline of small named steps (./pipeline/, one file each; the
 * step contract and the request object they share are in ./pipeline/mcp-request.ts). The client's token never
 * leaves keyhole; the upstream token never reaches the client (docs/invariants.md #2).
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#streamable-http
 */
import { Hono, type MiddlewareHandler } from 'hono';
import type { KeyholeConfig } from '../config/schema.js';
import type { Store } from '../store/types.js';
import type { UpstreamCredentialSource } from '../upstream/credential-source.js';
import { formatScope } from '../oauth/scope.js';
import { prmUrl } from '../oauth/resource.js';
import { serverScopes } from '../config/scopes.js';
import { mcpCors } from './cors.js';
import type { Forwarder } from './forwarder.js';
import { jsonRpcErrorBody } from './jsonrpc-errors.js';
import type { McpEnv, McpStep } from './pipeline/mcp-request.js';
import { resolveServer } from './pipeline/resolve-server.js';
import { authenticate, type AuthFailureReason } from './pipeline/authenticate.js';
import { audit } from './pipeline/audit.js';
import { observeToolsList } from './pipeline/observe-tools-list.js';
import type { RequestAuditor } from '../audit/request-audit.js';
import { touchGrant } from './pipeline/touch-grant.js';
import { readBody } from './pipeline/read-body.js';
import { checkHeaders } from './pipeline/check-headers.js';
import { enforceToolScopes } from './pipeline/enforce-tool-scopes.js';
import { enforceToolRules } from './pipeline/enforce-tool-rules.js';
import { enforceLimits } from './pipeline/enforce-limits.js';
import { redactSecrets } from './pipeline/redact-secrets.js';
import { circuitBreaker } from './pipeline/circuit-breaker.js';
import { credential } from './pipeline/credential.js';
import { forward } from './pipeline/forward.js';
import { createServerPolicies, type ServerPolicies } from '../policy/server-policy.js';
import type { PinRegistry } from '../policy/pin-registry.js';

const METHOD_NOT_ALLOWED = jsonRpcErrorBody('METHOD_NOT_ALLOWED');

export interface McpRouteDeps {
  config: KeyholeConfig; store: Store; tokenManager: UpstreamCredentialSource; forwarder: Forwarder; clock: () => number;
  /** The audit trail of every request (issue 14); absent: no audit step. */
  auditor?: Pick<RequestAuditor, 'begin'>;
  /** Told why a bearer token was refused (metrics, alerts). */
  onAuthRefused?: (reason: AuthFailureReason) => void;
  /** Told the upstream's tools of each whole `tools/list` answer (metrics labels, tool-list drift). */
  onToolsList?: (server: string, tools: unknown[]) => void;
  /** Per server, what to inject upstream (identity JWT, static key); absent → the upstream OAuth token. */
  credentialSources?: ReadonlyMap<string, UpstreamCredentialSource>;
  /** The servers' traffic-policy units (limits, breakers, rules, redactors); built from the config when absent. */
  policies?: ServerPolicies;
  /** The current pinned tools of the servers with `pinTools` (replaced when an admin approves a list). */
  pinRegistry?: PinRegistry;
}

/**
 * The route's middleware in order: the Origin check and CORS first (a preflight carries no credentials, and a
 * refused Origin learns nothing more), then the pipeline's steps. Built once; mounted on the Hono route
 * ({@link mcpRoutes}) and run by the plain dispatcher (./mcp-dispatch.ts) — the same instances, with their state.
 */
export function mcpPipeline(deps: McpRouteDeps): { cors: MiddlewareHandler; steps: McpStep[] } {
  const { config, store, clock } = deps;
  const policies = deps.policies ?? createServerPolicies({ servers: config.servers, global: config.limits, now: Date.now });
  const steps: McpStep[] = [
    resolveServer({ publicUrl: config.publicUrl, servers: config.servers, prmUrl: (s) => prmUrl(config.publicUrl, s), scope: (s) => formatScope(serverScopes(config.servers[s]!)) }),
    ...(deps.auditor ? [audit({ auditor: deps.auditor, recordsArguments: (s) => config.servers[s]?.audit?.arguments === 'redacted' })] : []),
    authenticate({ store, clock, ...(deps.onAuthRefused ? { onRefused: deps.onAuthRefused } : {}) }),
    touchGrant({ store, clock }),
    readBody({ maxBodyBytes: config.maxBodyBytes }),
    checkHeaders(),
    enforceToolScopes({ servers: config.servers }),
    ...(deps.onToolsList ? [observeToolsList({ onToolsList: deps.onToolsList })] : []),
    enforceToolRules({ policies, ...(deps.pinRegistry ? { pins: (s: string) => deps.pinRegistry!.pins(s) } : {}) }),
    enforceLimits({ policies }),
    redactSecrets({ policies }),
    circuitBreaker({ policies }),
    credential({ tokenManager: deps.tokenManager, ...(deps.credentialSources ? { credentialSources: deps.credentialSources } : {}) }),
    forward({ forwarder: deps.forwarder }),
  ];
  return { cors: mcpCors({ publicOrigin: new URL(config.publicUrl).origin, allowedOrigins: config.allowedOrigins }), steps };
}

export function mcpRoutes(deps: McpRouteDeps, pipeline = mcpPipeline(deps)): Hono<McpEnv> {
  const app = new Hono<McpEnv>();
  app.use('/mcp/*', pipeline.cors);
  app.on(['POST', 'GET', 'DELETE'], ['/mcp/:server'], ...pipeline.steps);
  app.all('/mcp/:server', (c) => c.json(METHOD_NOT_ALLOWED, 405, { Allow: 'GET, POST, DELETE, OPTIONS' }));
  return app;
}
