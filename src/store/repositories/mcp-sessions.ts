/**
 * MCP session bindings (src/proxy/session-binding.ts), kept in the database so that every instance behind a load
 * balancer knows which grant an upstream's `Mcp-Session-Id` was handed to (issue 12 §2; MCP security best practices,
 * session hijacking: https://modelcontextprotocol.io/specification/2025-11-25/basic/security_best_practices#session-hijacking).
 *
 * Table `mcp_sessions` (SQLite ../sqlite/mcp-sessions.ts, PostgreSQL ../postgres/mcp-sessions.ts), keyed by
 * `key_hash`: the SHA-256 hex of the upstream URL and the session id. An upstream may treat a session id as a
 * capability, so the id itself is never stored. `grant_id` is the owner, or null once the owner's grant has ended
 * ("retired": the upstream may still hold the session, so the id stays refused to every grant). `server` names the
 * upstream endpoint (URL without query), for the operator. Times are ms since the epoch.
 */
export interface McpSessionRecord {
  keyHash: string;
  /** The grant the upstream handed the session to; null once that grant ended (retired). */
  grantId: string | null;
  server: string;
  createdAtMs: number;
  lastUsedAtMs: number;
}

export interface McpSessionRepository {
  /**
   * Binds `keyHash` to `grantId` unless it is already bound (insert if absent: an id bound to another grant, or
   * retired, stays so); a re-bind by the same grant marks it used. Returns the owner after the call (null: retired).
   */
  bind(keyHash: string, grantId: string, server: string, atMs: number): Promise<string | null>;
  find(keyHash: string): Promise<McpSessionRecord | undefined>;
  /** Marks a binding used at `atMs` (never moves it back). */
  touch(keyHash: string, atMs: number): Promise<void>;
  /** Returns false when there was no such binding. */
  forget(keyHash: string): Promise<boolean>;
  /** Retires every binding of a grant (grant_id becomes null, last used = `atMs`); returns how many. */
  retireGrant(grantId: string, atMs: number): Promise<number>;
  /** Deletes bindings (owned or retired) unused since `unusedBeforeMs` (bounded retention); returns how many. */
  purge(unusedBeforeMs: number): Promise<number>;
}
