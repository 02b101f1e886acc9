/**
 * Delegated scopes: which tools a grant's keyhole scopes allow on a server.
 * - A server without a scope map does not filter tools.
 * - A tool is allowed when one of the grant's scopes lists it (exact name or `*` glob).
 * - A tool that NO scope names falls under the server's `defaultPolicy` (deny unless configured otherwise).
 * @see docs/client-requirements.md A.4 (insufficient_scope challenge), D.20
 */
import type { ServerConfig } from '../config/schema.js';

export interface ToolPolicy {
  /** false when the server has no scope map: nothing is filtered or refused. */
  readonly filters: boolean;
  allows(grantScopes: readonly string[], tool: string): boolean;
  /** The scopes that would allow this tool (empty when none names it). */
  scopesFor(tool: string): string[];
}

function globToRegExp(glob: string): RegExp {
  // `*` matches any run of characters, line breaks included (`s`): a name is matched whole, whatever it contains.
  return new RegExp(`^${glob.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 's');
}

export function createToolPolicy(server: ServerConfig): ToolPolicy {
  if (!server.scopes) return { filters: false, allows: () => true, scopesFor: () => [] };
  const rules = Object.entries(server.scopes).map(([scope, def]) => ({ scope, patterns: def.tools.map(globToRegExp) }));
  const defaultAllow = server.defaultPolicy === 'allow';
  const cache = new Map<string, string[]>();
  const scopesFor = (tool: string): string[] => {
    let hit = cache.get(tool);
    if (!hit) {
      hit = rules.filter((r) => r.patterns.some((p) => p.test(tool))).map((r) => r.scope);
      if (cache.size < 10_000) cache.set(tool, hit);
    }
    return hit;
  };
  return {
    filters: true,
    scopesFor,
    allows(grantScopes, tool) {
      const needed = scopesFor(tool);
      if (needed.length === 0) return defaultAllow;
      return needed.some((s) => grantScopes.includes(s));
    },
  };
}
