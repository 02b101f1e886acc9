/**
 * `/mcp/{server}` — the protected resource. For every request: CORS/Origin rules, bearer check (token,
 * audience, expiry, grant), a fresh upstream token from the token manager, then the byte-streaming forwarder.
 * The client's token never leaves keyhole; the upstream token never reaches the client (invariant 2).
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#streamable-http
 */
import { Hono } from 'hono';
import type { HttpBindings } from '@hono/node-server';
import type { KeyholeConfig } from '../config/schema.js';
import type { Store } from '../store/types.js';
import type { UpstreamTokenManager } from '../upstream/token-manager.js';
import type { UpstreamCredentialSource } from '../upstream/credential-source.js';
import { GrantEndedError, UpstreamUnavailableError } from '../upstream/errors.js';
import { resourceUrl } from '../oauth/resource.js';
import { formatScope } from '../oauth/scope.js';
import { bearerChallenge } from '../oauth/www-authenticate.js';
import { prmUrl } from '../authorization-server/metadata.js';
import { serverScopes } from '../authorization-server/scopes.js';
import { createBearerCheck } from './bearer-check.js';
import { mcpCors } from './cors.js';
import { BodyTooLargeError, readRequestBody, type Forwarder, type ForwardTarget } from './forwarder.js';
import { createToolPolicy } from './tool-policy.js';
import { decideToolCalls } from './tool-call-decision.js';
import { inspectJsonRpc } from './jsonrpc-inspect.js';
import { jsonToolsListFilter, sseToolsListFilter } from './tools-list-filter.js';
import { jsonRpcErrorBody, JSONRPC_ERRORS } from './jsonrpc-errors.js';
import { checkHeadersAgainstBody, needsHeaderCheck } from './header-body-check.js';

const TOUCH_INTERVAL_MS = 60_000;

export function mcpRoutes(deps: {
  config: KeyholeConfig; store: Store; tokenManager: UpstreamTokenManager; forwarder: Forwarder; clock: () => number;
  /** Per server, what to inject upstream (identity JWT, static key); absent → the upstream OAuth token. */
  credentialSources?: ReadonlyMap<string, UpstreamCredentialSource>;
}): Hono<{ Bindings: HttpBindings }> {
  const { config, store, tokenManager, forwarder, clock } = deps;
  const app = new Hono<{ Bindings: HttpBindings }>();
  const scopeOf = (server: string) => formatScope(serverScopes(config.servers[server]!));
  const prm = (server: string) => prmUrl(config.publicUrl, server);
  const checkBearer = createBearerCheck({ store, clock, prmUrl: prm, scope: scopeOf });
  const lastTouched = new Map<string, number>();
  // keyhole's challenge when the upstream authorization has ended: constant per server, built once (hot path).
  const endedChallenges = new Map(Object.keys(config.servers).map((name) => [name, bearerChallenge({ error: 'invalid_token', errorDescription: 'the upstream authorization has ended', resourceMetadata: prm(name), scope: scopeOf(name) })]));
  const policies = new Map(Object.entries(config.servers).map(([name, s]) => [name, createToolPolicy(s)]));
  const targets = new Map(Object.entries(config.servers).map(([name, s]) => [name, { url: new URL(s.upstream), timeoutMs: s.upstreamTimeoutMs }]));

  app.use('/mcp/*', mcpCors({ publicOrigin: new URL(config.publicUrl).origin, allowedOrigins: config.allowedOrigins }));

  app.on(['POST', 'GET', 'DELETE'], '/mcp/:server', async (c) => {
    const server = c.req.param('server');
    const target = targets.get(server);
    if (!target) return c.json(jsonRpcErrorBody('NO_SUCH_SERVER'), 404);
    const resource = resourceUrl(config.publicUrl, server);
    const auth = await checkBearer(c.req.header('authorization'), server, resource);
    if (!auth.ok) {
      c.header('WWW-Authenticate', auth.challenge);
      return c.json({ error: 'invalid_token', error_description: auth.description }, 401);
    }
    const { token } = auth;
    const now = Date.now();
    if ((lastTouched.get(token.grantId) ?? 0) + TOUCH_INTERVAL_MS < now) {
      lastTouched.set(token.grantId, now);
      await store.grants.touch(token.grantId, clock());
    }

    let body: Buffer | null = null;
    if (c.req.method === 'POST') {
      try {
        body = await readRequestBody(c.env.incoming, config.maxBodyBytes);
      } catch (e) {
        if (e instanceof BodyTooLargeError) return c.json(jsonRpcErrorBody('BODY_TOO_LARGE', { message: `Invalid Request: request body larger than ${config.maxBodyBytes} bytes` }), 413);
        throw e;
      }
    }
    const policy = policies.get(server)!;
    let transformResponse: ForwardTarget['transformResponse'];
    // The body is parsed only when a rule needs it: delegated scopes, or standard headers to compare it with.
    const headers = { protocolVersion: c.req.header('mcp-protocol-version'), method: c.req.header('mcp-method'), name: c.req.header('mcp-name') };
    const checkHeaders = needsHeaderCheck(headers);
    if (body && (policy.filters || checkHeaders)) {
      const inspected = inspectJsonRpc(body);
      if (!inspected.ok) return c.json(jsonRpcErrorBody('PARSE_ERROR'), 400);
      if (checkHeaders) {
        // Header and body agree, or the request stops here, on every server (issue 11 §1): 400 HeaderMismatch.
        // https://modelcontextprotocol.io/specification/2026-07-28/basic/transports/streamable-http#server-validation
        const rejected = checkHeadersAgainstBody(headers, inspected.info);
        if (rejected) return c.json(jsonRpcErrorBody(rejected.error, { id: rejected.id, message: rejected.message }), JSONRPC_ERRORS[rejected.error].status);
      }
      // Delegated scopes: refuse tools outside the grant, filter tools/list (MCP-AUTH-REQUIREMENTS A.4). Always
      // decided on the body, never on a header.
      if (policy.filters) {
        const decision = decideToolCalls(policy, token.scopes, inspected.info.toolCalls);
        if (decision.kind === 'missing_name') return c.json(jsonRpcErrorBody('TOOL_NAME_MISSING', { id: decision.id }), 400);
        if (decision.kind === 'unavailable') {
          // No scope names this tool: no step-up can fix it, so no insufficient_scope challenge (a client would
          // re-authorize or refresh in vain); a JSON-RPC error the agent can read.
          return c.json(jsonRpcErrorBody('TOOL_NOT_AVAILABLE', { id: decision.id, message: `the tool ${decision.tool} is not available through keyhole` }), JSONRPC_ERRORS.TOOL_NOT_AVAILABLE.status);
        }
        if (decision.kind === 'step_up') {
          // RFC 6750 §3.1 insufficient_scope; the scope lists everything this request needs (held + new, every
          // refused call of a batch), since the SDK retries once per distinct challenge.
          c.header('WWW-Authenticate', bearerChallenge({
            error: 'insufficient_scope',
            errorDescription: `the tool ${decision.tools.join(', ')} needs the scope ${decision.needed.join(' ')}`,
            resourceMetadata: prm(server),
            scope: formatScope(decision.scopes),
          }));
          return c.json(jsonRpcErrorBody('INSUFFICIENT_SCOPE', { id: decision.id, message: `insufficient scope for tool ${decision.tools.join(', ')}` }), 403);
        }
        const ids = inspected.info.toolListIds;
        if (ids.size) {
          const keep = (tool: string) => policy.allows(token.scopes, tool);
          transformResponse = ({ sse }) => (sse ? sseToolsListFilter(ids, keep) : jsonToolsListFilter(ids, keep));
        }
      }
    }
    const challenge = endedChallenges.get(server)!;
    const grant = { id: token.grantId, server, clientId: token.clientId, subject: token.subject, scopes: token.scopes };
    const source = deps.credentialSources?.get(server);
    try {
      return await forwarder.forward(c, { ...target, challenge401: challenge, ...(transformResponse ? { transformResponse } : {}) }, { grantId: token.grantId, getAccessToken: (force) => (source ?? tokenManager).getCredential(grant, force) }, body);
    } catch (e) {
      if (e instanceof GrantEndedError) {
        // MCP-AUTH-REQUIREMENTS E.25: upstream invalid_grant → 401 with the challenge, so the client re-authorizes.
        c.header('WWW-Authenticate', challenge);
        return c.json({ error: 'invalid_token', error_description: 'the upstream authorization has ended; authorize again' }, 401);
      }
      if (e instanceof UpstreamUnavailableError) {
        const name = e.kind === 'timeout' ? 'UPSTREAM_AUTH_TIMEOUT' : 'UPSTREAM_AUTH_UNAVAILABLE';
        return c.json(jsonRpcErrorBody(name), JSONRPC_ERRORS[name].status);
      }
      throw e;
    }
  });

  app.all('/mcp/:server', (c) => {
    c.header('Allow', 'GET, POST, DELETE, OPTIONS');
    return c.json(jsonRpcErrorBody('METHOD_NOT_ALLOWED'), 405);
  });
  return app;
}
