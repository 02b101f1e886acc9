/**
 * MCP sessions bound to the grant that created them. keyhole never authenticates by `Mcp-Session-Id`, but an
 * upstream might treat a session id as a capability: so the id an upstream hands out (its `Mcp-Session-Id`
 * response header) is remembered with the grant it was handed to, and another grant presenting it is answered
 * as for an unknown session (404), never forwarded.
 *
 * - Bounded: least recently used ids are evicted past `maxEntries`. An id keyhole does not know (evicted, from
 *   before a restart, from another keyhole instance) is left to the upstream, which owns its sessions.
 * - A grant's ids are forgotten when the grant ends (revocation) and an id when its DELETE succeeds.
 * @see shared/MCP-AUTH-REQUIREMENTS.md E.24 ("Never authenticate by Mcp-Session-Id; bind sessions to the grant")
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/security_best_practices#session-hijacking
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#session-management
 */
export interface SessionBindings {
  /** The grant that created this session id, or undefined when keyhole does not know the id. */
  owner(sessionId: string): string | undefined;
  /** Remember that the upstream gave `sessionId` to `grantId`; an id already bound to another grant stays theirs. */
  bind(sessionId: string, grantId: string): void;
  forget(sessionId: string): void;
  /** Forget every session of a grant; returns how many. */
  forgetGrant(grantId: string): number;
  readonly size: number;
}

export const DEFAULT_MAX_SESSION_BINDINGS = 100_000;

export function createSessionBindings(maxEntries = DEFAULT_MAX_SESSION_BINDINGS): SessionBindings {
  if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new TypeError('createSessionBindings: maxEntries must be a positive integer');
  const owners = new Map<string, string>(); // insertion order = recency (oldest first)
  const byGrant = new Map<string, Set<string>>();

  const unindex = (sessionId: string, grantId: string): void => {
    const set = byGrant.get(grantId);
    if (!set) return;
    set.delete(sessionId);
    if (set.size === 0) byGrant.delete(grantId);
  };

  return {
    owner(sessionId) {
      const grantId = owners.get(sessionId);
      if (grantId !== undefined) {
        owners.delete(sessionId); // refresh recency
        owners.set(sessionId, grantId);
      }
      return grantId;
    },
    bind(sessionId, grantId) {
      const current = owners.get(sessionId);
      if (current !== undefined && current !== grantId) return;
      owners.delete(sessionId);
      owners.set(sessionId, grantId);
      let set = byGrant.get(grantId);
      if (!set) byGrant.set(grantId, (set = new Set()));
      set.add(sessionId);
      while (owners.size > maxEntries) {
        const [oldest, oldestGrant] = owners.entries().next().value as [string, string];
        owners.delete(oldest);
        unindex(oldest, oldestGrant);
      }
    },
    forget(sessionId) {
      const grantId = owners.get(sessionId);
      if (grantId === undefined) return;
      owners.delete(sessionId);
      unindex(sessionId, grantId);
    },
    forgetGrant(grantId) {
      const set = byGrant.get(grantId);
      if (!set) return 0;
      byGrant.delete(grantId);
      for (const id of set) owners.delete(id);
      return set.size;
    },
    get size() {
      return owners.size;
    },
  };
}
