/**
 * The `mcp_sessions` row shape, its mapping to a McpSessionRecord and the statements that read the same in both
 * engines, shared by the SQLite and PostgreSQL repositories (../sqlite/mcp-sessions.ts, ../postgres/mcp-sessions.ts).
 * `bind`, `touch` and `retire` differ (max vs greatest, PostgreSQL's insert-or-read CTE) and stay with each engine.
 */
import type { McpSessionRecord } from '../repositories/mcp-sessions.js';

export interface McpSessionRow {
  key_hash: string;
  grant_id: string | null;
  server: string;
  created_at_ms: number;
  last_used_at_ms: number;
}

/** Statements with the same text on both engines, with `@name` placeholders. */
export const MCP_SESSION_SQL = {
  find: 'SELECT key_hash, grant_id, server, created_at_ms, last_used_at_ms FROM mcp_sessions WHERE key_hash = @keyHash',
  forget: 'DELETE FROM mcp_sessions WHERE key_hash = @keyHash',
  purge: 'DELETE FROM mcp_sessions WHERE last_used_at_ms < @before',
} as const;

export function mcpSessionFromRow(r: McpSessionRow): McpSessionRecord {
  return { keyHash: r.key_hash, grantId: r.grant_id, server: r.server, createdAtMs: r.created_at_ms, lastUsedAtMs: r.last_used_at_ms };
}
