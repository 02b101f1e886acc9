/**
 * keyhole scopes of a server, and the upstream scopes they need.
 * A server without a scope map has one implied scope, `mcp`, and does not filter tools.
 * Clients add scopes of their own (`openid email profile offline_access`): those are tolerated and dropped
 * (RFC 6749 §3.3 lets the server fully or partially ignore the requested scope).
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-3.3
 */
import type { KeyholeConfig, ServerConfig } from './schema.js';
import { union } from '../oauth/scope.js';

export const IMPLIED_SCOPE = 'mcp';
const IMPLIED_DESCRIPTION = 'Use the tools of this MCP server on your behalf';

export function serverScopes(server: ServerConfig): string[] {
  return server.scopes ? Object.keys(server.scopes) : [IMPLIED_SCOPE];
}

/** Every keyhole scope of every server: the authorization server's vocabulary (`scopes_supported`, RFC 8414 §2). */
export function knownScopes(config: KeyholeConfig): string[] {
  return Object.values(config.servers).reduce<string[]>((acc, s) => union(acc, serverScopes(s)), []);
}

/**
 * A client's requested scope without the scopes it adds on its own (`openid`, `offline_access`, …: none of
 * keyhole's), which keyhole ignores rather than refuses (RFC 6749 §3.3). Scopes keyhole knows stay, so a refresh
 * asking for a known scope it was not granted is still refused.
 */
export function withoutClientExtras(config: KeyholeConfig, requested: readonly string[]): string[] {
  const known = new Set(knownScopes(config));
  return requested.filter((s) => known.has(s));
}

/** The scopes to grant for a request: the requested ones this server knows, or all of them when none is known. */
export function grantableScopes(server: ServerConfig, requested: readonly string[]): string[] {
  const known = serverScopes(server);
  const picked = requested.filter((s) => known.includes(s));
  return picked.length ? picked : known;
}

export function describeScope(server: ServerConfig, scope: string): string {
  return server.scopes?.[scope]?.description ?? IMPLIED_DESCRIPTION;
}

/** The base upstream scopes plus the upstream scopes of every granted keyhole scope. */
export function upstreamScopesFor(server: ServerConfig, scopes: readonly string[]): string[] {
  let out = [...server.oauth.scopes];
  for (const s of scopes) out = union(out, server.scopes?.[s]?.upstreamScopes ?? []);
  return out;
}
