/**
 * MCP sessions bound to the grant that created them. keyhole never authenticates by `Mcp-Session-Id`, but an
 * upstream might treat a session id as a capability: so the id an upstream hands out (its `Mcp-Session-Id`
 * response header) is remembered with the grant it was handed to, and another grant presenting it is answered
 * as for an unknown session (404), never forwarded.
 *
 * - Bounded: least recently used ids are evicted past `maxEntries`. An id keyhole does not know (evicted, from
 *   before a restart, from another keyhole instance) is left to the upstream, which owns its sessions.
 * - When a grant ends (revocation) its ids are released from the grant and retired: the upstream may still
 *   hold those sessions, so they stay refused to every grant until evicted. An id is forgotten when its owner's
 *   DELETE succeeds (the upstream ended it).
 * @see docs/client-requirements.md E.24 ("Never authenticate by Mcp-Session-Id; bind sessions to the grant")
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/security_best_practices#session-hijacking
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#session-management
 */
export interface SessionBindings {
  /** The grant that created this session id, or undefined when keyhole does not know the id. */
  owner(sessionId: string): string | undefined;
  /** Remember that the upstream gave `sessionId` to `grantId`; an id already bound to another grant stays theirs. */
  bind(sessionId: string, grantId: string): void;
  forget(sessionId: string): void;
  /** Release every session of a grant (they stay refused to all grants, bounded by the LRU); returns how many. */
  forgetGrant(grantId: string): number;
  readonly size: number;
}

export const DEFAULT_MAX_SESSION_BINDINGS = 100_000;
/** Owner of a session whose grant has ended: matches no grant id, so every grant gets 404 for it. */
const RETIRED = '';

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
        if (oldestGrant !== RETIRED) unindex(oldest, oldestGrant);
      }
    },
    forget(sessionId) {
      const grantId = owners.get(sessionId);
      if (grantId === undefined) return;
      owners.delete(sessionId);
      if (grantId !== RETIRED) unindex(sessionId, grantId);
    },
    forgetGrant(grantId) {
      const set = byGrant.get(grantId);
      if (!set) return 0;
      byGrant.delete(grantId);
      // The upstream may keep the session alive: its id stays refused to every grant (until evicted).
      for (const id of set) owners.set(id, RETIRED);
      return set.size;
    },
    get size() {
      return owners.size;
    },
  };
}
