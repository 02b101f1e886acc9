/**
 * Resource indicators (RFC 8707): bind every token to one canonical MCP endpoint URL.
 * Clients send known variants (trailing slash, origin only, nothing at all); normalise those, refuse the rest
 * with `invalid_target` so keyhole never mints a token its MCP endpoint would refuse.
 * @see https://www.rfc-editor.org/rfc/rfc8707#section-2
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#canonical-server-uri
 */
import { InvalidTargetError } from './errors.js';

export interface ResourceIndex {
  /** canonical resource URL → server name */
  byResource: ReadonlyMap<string, string>;
  publicOrigin: string;
}

export function resourceUrl(publicUrl: string, server: string): string {
  return `${publicUrl}/mcp/${server}`;
}

/**
 * The protected resource metadata URL of an MCP endpoint: the well-known path inserted before the endpoint's path.
 * @see https://www.rfc-editor.org/rfc/rfc9728#section-3.1
 */
export function prmUrl(publicUrl: string, server: string): string {
  return `${publicUrl}/.well-known/oauth-protected-resource/mcp/${server}`;
}

export function buildResourceIndex(publicUrl: string, servers: readonly string[]): ResourceIndex {
  return { byResource: new Map(servers.map((s) => [resourceUrl(publicUrl, s), s])), publicOrigin: new URL(publicUrl).origin };
}

/**
 * Resolve the `resource` parameter to a canonical resource.
 * @param hint a server name to use when the client sent no resource or only the origin (e.g. the scope's server)
 */
export function resolveResource(index: ResourceIndex, requested: string | undefined, hint?: string): { resource: string; server: string } {
  const only = index.byResource.size === 1 ? [...index.byResource.entries()][0] : undefined;
  const fromHint = hint ? [...index.byResource.entries()].find(([, s]) => s === hint) : undefined;
  if (requested === undefined || requested === '') {
    const pick = fromHint ?? only;
    if (!pick) throw new InvalidTargetError('resource is required: keyhole serves several MCP servers');
    return { resource: pick[0], server: pick[1] };
  }
  let url: URL;
  try {
    url = new URL(requested);
  } catch {
    throw new InvalidTargetError('resource must be an absolute URI');
  }
  // https://www.rfc-editor.org/rfc/rfc8707#section-2 — "MUST NOT include a fragment component".
  if (url.hash || requested.includes('#')) throw new InvalidTargetError('resource must not contain a fragment');
  if (url.search) throw new InvalidTargetError('resource must not contain a query');
  if (url.username || url.password) throw new InvalidTargetError('resource must not contain user information');
  const canonical = `${url.protocol}//${url.host.toLowerCase()}${url.pathname.replace(/\/+$/, '')}`;
  const exact = index.byResource.get(canonical);
  if (exact) return { resource: canonical, server: exact };
  if (canonical === index.publicOrigin) {
    const pick = fromHint ?? only;
    if (pick) return { resource: pick[0], server: pick[1] };
  }
  throw new InvalidTargetError('resource is not an MCP endpoint served by this authorization server');
}
