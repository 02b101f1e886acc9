/**
 * MCP sessions bound to the grant that created them. keyhole never authenticates by `Mcp-Session-Id`, but an
 * upstream might treat a session id as a capability: so the id an upstream hands out (its `Mcp-Session-Id`
 * response header) is remembered with the grant it was handed to, and another grant presenting it is answered
 * as for an unknown session (404), never forwarded.
 *
 * - Shared by every instance (issue 12 §2): with a store, the bindings live in the database (`store.mcpSessions`,
 *   src/store/repositories/mcp-sessions.ts), keyed by the SHA-256 of `<upstream URL> <session id>`: the id itself
 *   (a secret) is never stored nor logged. A session handed out through instance A is refused to another grant at B.
 *   The same on SQLite (one process per file): consistent, and bindings survive a restart.
 * - The in-memory LRU (`maxEntries`) is a cache in front: an owner found is cached (no query on the next request of
 *   that session); an id not in the cache is looked up in the database before it is treated as unknown; writes go to
 *   the database. A database error on lookup propagates (the request fails; never forwarded unchecked). A failed
 *   write keeps the binding in this instance's cache (enforced here, as before the database).
 * - An id the database does not know either (never seen, purged after {@link SESSION_BINDING_TTL_MS} unused,
 *   forgotten) is left to the upstream, which owns its sessions. Without a store: memory only, bounded by the LRU.
 * - When a grant ends (revocation) its ids are retired: the upstream may still hold those sessions, so they stay
 *   refused to every grant (until purged). The revoking instance retires them in the database; every other instance
 *   drops them from its cache through the same revocation listener (the `grant-revoked` change notice). An id is
 *   forgotten when its owner's DELETE succeeds (the upstream ended it).
 * @see docs/client-requirements.md E.24 ("Never authenticate by Mcp-Session-Id; bind sessions to the grant")
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/security_best_practices#session-hijacking
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#session-management
 */
import { sha256Hex } from '../store/crypto/hash.js';
import type { McpSessionRepository } from '../store/types.js';

export interface SessionBindings {
  /**
   * The grant that created this session id of the upstream at `server` (its URL), '' when retired (matches no
   * grant), or undefined when keyhole does not know the id.
   */
  owner(server: string, sessionId: string): Promise<string | undefined>;
  /** Remember that the upstream gave `sessionId` to `grantId`; an id already bound to another grant stays theirs. */
  bind(server: string, sessionId: string, grantId: string): Promise<void>;
  forget(server: string, sessionId: string): Promise<void>;
  /** Retire every session of a grant (they stay refused to all grants); returns how many. */
  forgetGrant(grantId: string): Promise<number>;
  /** Bindings in the cache. */
  readonly size: number;
}

export interface SessionBindingsOptions {
  /** Cache bound (least recently used evicted). */
  maxEntries?: number;
  /** The shared bindings (every instance on this database); without it, memory only. */
  store?: McpSessionRepository;
  /** ms since the epoch. */
  now?: () => number;
}

export const DEFAULT_MAX_SESSION_BINDINGS = 100_000;
/** A binding unused for this long is purged from the database (bounded retention): 7 days. */
export const SESSION_BINDING_TTL_MS = 7 * 24 * 3_600_000;
/** A cached binding's last use is written to the database at most this often (not on every request). */
const TOUCH_EVERY_MS = 3_600_000;
/** Owner of a session whose grant has ended: matches no grant id, so every grant gets 404 for it. */
const RETIRED = '';

/** The database key: SHA-256 hex of `<upstream URL> <session id>` (ids are visible ASCII: a space cannot occur in one). */
export function sessionKeyHash(server: string, sessionId: string): string {
  return sha256Hex(`${server} ${sessionId}`);
}

/** The upstream endpoint for the operator: without query or userinfo (they could carry secrets). */
function serverLabel(server: string): string {
  try {
    const u = new URL(server);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '';
  }
}

interface Entry {
  grantId: string;
  /** When this instance last wrote the binding's use to the database. */
  touchedAt: number;
}

export function createSessionBindings(options: SessionBindingsOptions | number = {}): SessionBindings {
  const opts = typeof options === 'number' ? { maxEntries: options } : options;
  const maxEntries = opts.maxEntries ?? DEFAULT_MAX_SESSION_BINDINGS;
  if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new TypeError('createSessionBindings: maxEntries must be a positive integer');
  const db = opts.store;
  const now = opts.now ?? Date.now;
  const cache = new Map<string, Entry>(); // insertion order = recency (oldest first)
  const byGrant = new Map<string, Set<string>>();

  const unindex = (key: string, grantId: string): void => {
    const set = byGrant.get(grantId);
    if (!set) return;
    set.delete(key);
    if (set.size === 0) byGrant.delete(grantId);
  };
  const remember = (key: string, grantId: string, touchedAt: number): void => {
    const old = cache.get(key);
    if (old) {
      cache.delete(key);
      if (old.grantId !== RETIRED) unindex(key, old.grantId);
    }
    cache.set(key, { grantId, touchedAt });
    if (grantId !== RETIRED) {
      let set = byGrant.get(grantId);
      if (!set) byGrant.set(grantId, (set = new Set()));
      set.add(key);
    }
    while (cache.size > maxEntries) {
      const [oldest, entry] = cache.entries().next().value as [string, Entry];
      cache.delete(oldest);
      if (entry.grantId !== RETIRED) unindex(oldest, entry.grantId);
    }
  };

  return {
    async owner(server, sessionId) {
      const key = `${server} ${sessionId}`;
      const hit = cache.get(key);
      if (hit) {
        cache.delete(key); // refresh recency
        cache.set(key, hit);
        const t = now();
        if (db && t - hit.touchedAt >= TOUCH_EVERY_MS) {
          hit.touchedAt = t;
          void db.touch(sessionKeyHash(server, sessionId), t).catch(() => undefined); // best effort: retention only
        }
        return hit.grantId;
      }
      if (!db) return undefined;
      // Not cached: another instance may have bound it. A database error propagates (fail closed).
      const row = await db.find(sessionKeyHash(server, sessionId));
      if (!row) return undefined;
      const grantId = row.grantId ?? RETIRED;
      remember(key, grantId, row.lastUsedAtMs);
      return grantId;
    },

    async bind(server, sessionId, grantId) {
      const key = `${server} ${sessionId}`;
      const cached = cache.get(key);
      if (cached && cached.grantId !== grantId) return;
      const t = now();
      if (!db) return remember(key, grantId, t);
      let owner: string;
      try {
        owner = (await db.bind(sessionKeyHash(server, sessionId), grantId, serverLabel(server), t)) ?? RETIRED;
      } catch {
        owner = grantId; // not shared, but still enforced on this instance
      }
      const now2 = cache.get(key);
      if (now2 && now2.grantId !== owner) return; // retired meanwhile (revocation raced the bind)
      remember(key, owner, t);
    },

    async forget(server, sessionId) {
      const key = `${server} ${sessionId}`;
      const entry = cache.get(key);
      if (entry) {
        cache.delete(key);
        if (entry.grantId !== RETIRED) unindex(key, entry.grantId);
      }
      if (db) await db.forget(sessionKeyHash(server, sessionId)).catch(() => undefined); // purged later at worst
    },

    async forgetGrant(grantId) {
      const set = byGrant.get(grantId);
      byGrant.delete(grantId);
      // The upstream may keep the session alive: its id stays refused to every grant.
      for (const key of set ?? []) {
        const entry = cache.get(key);
        if (entry) entry.grantId = RETIRED;
      }
      if (!db) return set?.size ?? 0;
      // Every instance runs this on a revocation (its own, or another's notice); the first retires the rows.
      return db.retireGrant(grantId, now());
    },

    get size() {
      return cache.size;
    },
  };
}

/** Deletes bindings unused for longer than `ttlMs` (run from a periodic timer); returns how many. */
export async function purgeSessionBindings(store: McpSessionRepository, nowMs: number, ttlMs = SESSION_BINDING_TTL_MS): Promise<number> {
  return store.purge(nowMs - ttlMs);
}
