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
import { inspectJsonRpc } from './jsonrpc-inspect.js';
import { jsonToolsListFilter, sseToolsListFilter } from './tools-list-filter.js';
import { union } from '../oauth/scope.js';

const TOUCH_INTERVAL_MS = 60_000;

function jsonRpcError(code: number, message: string) {
  return { jsonrpc: '2.0' as const, error: { code, message }, id: null };
}

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
    if (!target) return c.json(jsonRpcError(-32601, 'no such MCP server'), 404);
    const resource = resourceUrl(config.publicUrl, server);
    const auth = checkBearer(c.req.header('authorization'), server, resource);
    if (!auth.ok) {
      c.header('WWW-Authenticate', auth.challenge);
      return c.json({ error: 'invalid_token', error_description: auth.description }, 401);
    }
    const { token } = auth;
    const now = Date.now();
    if ((lastTouched.get(token.grantId) ?? 0) + TOUCH_INTERVAL_MS < now) {
      lastTouched.set(token.grantId, now);
      store.touchGrant(token.grantId, clock());
    }

    let body: Buffer | null = null;
    if (c.req.method === 'POST') {
      try {
        body = await readRequestBody(c.env.incoming, config.maxBodyBytes);
      } catch (e) {
        if (e instanceof BodyTooLargeError) return c.json(jsonRpcError(-32600, `request body larger than ${config.maxBodyBytes} bytes`), 413);
        throw e;
      }
    }
    // Delegated scopes: refuse tools outside the grant, filter tools/list (MCP-AUTH-REQUIREMENTS A.4).
    const policy = policies.get(server)!;
    let transformResponse: ForwardTarget['transformResponse'];
    if (policy.filters && body) {
      const inspected = inspectJsonRpc(body);
      if (!inspected.ok) return c.json(jsonRpcError(-32700, 'Parse error: keyhole enforces tool scopes and could not read this request'), 400);
      for (const call of inspected.info.toolCalls) {
        if (typeof call.name !== 'string') return c.json({ jsonrpc: '2.0', error: { code: -32602, message: 'tools/call needs params.name' }, id: call.id ?? null }, 400);
        if (!policy.allows(token.scopes, call.name)) {
          const needed = policy.scopesFor(call.name);
          // RFC 6750 §3.1 insufficient_scope; the scope lists everything needed (granted + new), since the SDK
          // retries once per distinct challenge. A tool no scope names cannot be stepped up to.
          c.header('WWW-Authenticate', bearerChallenge({
            error: 'insufficient_scope',
            errorDescription: needed.length ? `the tool ${call.name} needs the scope ${needed.join(' or ')}` : `the tool ${call.name} is not available through keyhole`,
            resourceMetadata: prm(server),
            scope: formatScope(union(token.scopes, needed.slice(0, 1))),
          }));
          return c.json({ jsonrpc: '2.0', error: { code: -32003, message: `insufficient scope for tool ${call.name}` }, id: call.id ?? null }, 403);
        }
      }
      const ids = inspected.info.toolListIds;
      if (ids.size) {
        const keep = (tool: string) => policy.allows(token.scopes, tool);
        transformResponse = ({ sse }) => (sse ? sseToolsListFilter(ids, keep) : jsonToolsListFilter(ids, keep));
      }
    }
    const challenge = endedChallenges.get(server)!;
    const grant = { id: token.grantId, server, clientId: token.clientId, subject: token.subject, scopes: token.scopes };
    const source = deps.credentialSources?.get(server);
    try {
      return await forwarder.forward(c, { ...target, challenge401: challenge, ...(transformResponse ? { transformResponse } : {}) }, { grantId: token.grantId, getAccessToken: (force) => (source ? source.getCredential(grant, force) : tokenManager.getAccessToken(grant, force)) }, body);
    } catch (e) {
      if (e instanceof GrantEndedError) {
        // MCP-AUTH-REQUIREMENTS E.25: upstream invalid_grant → 401 with the challenge, so the client re-authorizes.
        c.header('WWW-Authenticate', challenge);
        return c.json({ error: 'invalid_token', error_description: 'the upstream authorization has ended; authorize again' }, 401);
      }
      if (e instanceof UpstreamUnavailableError) {
        return c.json(jsonRpcError(-32003, e.kind === 'timeout' ? 'upstream authorization server timed out' : 'upstream authorization server unavailable'), e.kind === 'timeout' ? 504 : 502);
      }
      throw e;
    }
  });

  app.all('/mcp/:server', (c) => {
    c.header('Allow', 'GET, POST, DELETE, OPTIONS');
    return c.json(jsonRpcError(-32600, 'method not allowed'), 405);
  });
  return app;
}
