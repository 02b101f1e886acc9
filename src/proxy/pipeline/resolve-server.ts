/**
 * Step 1 of `/mcp/{server}`: which configured server the request is for. Everything the later steps need about a
 * server that does not depend on the request (resource URL, challenges, upstream target) is computed here once,
 * when the route is built. An unknown server is answered 404 `NO_SUCH_SERVER`.
 * Puts on the context: `mcp` = a new {@link McpRequest} with `server`, `route`, `method`, `body: null`.
 */
import { bearerChallenge } from '../../oauth/www-authenticate.js';
import { resourceUrl } from '../../oauth/resource.js';
import { jsonRpcErrorBody } from '../jsonrpc-errors.js';
import type { McpServerRoute, McpStep } from './mcp-request.js';

export interface ResolveServerOptions {
  publicUrl: string;
  /** The configured servers: upstream URL and timeout of each. */
  servers: Readonly<Record<string, { upstream: string; upstreamTimeoutMs: number }>>;
  /** A server's protected resource metadata URL. */
  prmUrl(server: string): string;
  /** A server's scopes, space-separated, as challenges name them. */
  scope(server: string): string;
}

const NO_SUCH_SERVER = jsonRpcErrorBody('NO_SUCH_SERVER');

export function serverRoute(opts: ResolveServerOptions, name: string): McpServerRoute {
  const server = opts.servers[name];
  if (!server) throw new TypeError(`resolveServer: no server ${JSON.stringify(name)}`);
  const prmUrl = opts.prmUrl(name);
  const scope = opts.scope(name);
  const endedChallenge = bearerChallenge({ error: 'invalid_token', errorDescription: 'the upstream authorization has ended', resourceMetadata: prmUrl, scope });
  return {
    name,
    resource: resourceUrl(opts.publicUrl, name),
    prmUrl,
    scope,
    endedChallenge,
    target: { url: new URL(server.upstream), timeoutMs: server.upstreamTimeoutMs, challenge401: endedChallenge },
  };
}

export function resolveServer(opts: ResolveServerOptions): McpStep {
  if (!opts || typeof opts.publicUrl !== 'string') throw new TypeError('resolveServer: publicUrl is required');
  if (!opts.servers || typeof opts.servers !== 'object') throw new TypeError('resolveServer: servers is required');
  if (typeof opts.prmUrl !== 'function' || typeof opts.scope !== 'function') throw new TypeError('resolveServer: prmUrl and scope are required');
  const routes = new Map(Object.keys(opts.servers).map((name) => [name, serverRoute(opts, name)]));

  return async function resolveMcpServer(c, next) {
    const route = routes.get(c.req.param('server') ?? '');
    if (!route) return c.json(NO_SUCH_SERVER, 404);
    c.set('mcp', { server: route.name, route, method: c.req.method, body: null });
    await next();
  };
}
