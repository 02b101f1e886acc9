/** PostgreSQL MCP session bindings over `mcp_sessions` (./migrations.ts; ../repositories/mcp-sessions.ts). */
import type { McpSessionRecord, McpSessionRepository } from '../types.js';
import { statement, type Executor } from './executor.js';
import { MCP_SESSION_SQL, mcpSessionFromRow, type McpSessionRow } from '../rows/mcp-session-rows.js';

const S = {
  // Insert if absent, in one statement (two instances binding at once: the first insert wins, the other reads it).
  bind: statement<{ grant_id: string | null }>('mcp-sessions.bind', `WITH ins AS (
      INSERT INTO mcp_sessions (key_hash, grant_id, server, created_at_ms, last_used_at_ms)
      VALUES (@keyHash, @grantId, @server, @at, @at)
      ON CONFLICT (key_hash) DO UPDATE SET last_used_at_ms = greatest(mcp_sessions.last_used_at_ms, excluded.last_used_at_ms)
      WHERE mcp_sessions.grant_id = excluded.grant_id
      RETURNING grant_id)
    SELECT grant_id FROM ins UNION ALL SELECT grant_id FROM mcp_sessions WHERE key_hash = @keyHash AND NOT EXISTS (SELECT 1 FROM ins)`),
  find: statement<McpSessionRow>('mcp-sessions.find', MCP_SESSION_SQL.find),
  touch: statement('mcp-sessions.touch', 'UPDATE mcp_sessions SET last_used_at_ms = greatest(last_used_at_ms, @at) WHERE key_hash = @keyHash'),
  forget: statement('mcp-sessions.forget', MCP_SESSION_SQL.forget),
  retire: statement('mcp-sessions.retire', 'UPDATE mcp_sessions SET grant_id = NULL, last_used_at_ms = greatest(last_used_at_ms, @at) WHERE grant_id = @grantId'),
  purge: statement('mcp-sessions.purge', MCP_SESSION_SQL.purge),
};

export class PostgresMcpSessions implements McpSessionRepository {
  constructor(private readonly ex: Executor) {}

  async bind(keyHash: string, grantId: string, server: string, atMs: number): Promise<string | null> {
    const r = await this.ex.one(S.bind, { keyHash, grantId, server, at: atMs });
    if (r) return r.grant_id;
    // A concurrent insert committed after this statement's snapshot was taken: read it now.
    return (await this.find(keyHash))?.grantId ?? null;
  }

  async find(keyHash: string): Promise<McpSessionRecord | undefined> {
    const r = await this.ex.one(S.find, { keyHash });
    return r && mcpSessionFromRow(r);
  }

  async touch(keyHash: string, atMs: number): Promise<void> {
    await this.ex.run(S.touch, { keyHash, at: atMs });
  }

  async forget(keyHash: string): Promise<boolean> {
    return (await this.ex.run(S.forget, { keyHash })) > 0;
  }

  async retireGrant(grantId: string, atMs: number): Promise<number> {
    return this.ex.run(S.retire, { grantId, at: atMs });
  }

  async purge(unusedBeforeMs: number): Promise<number> {
    return this.ex.run(S.purge, { before: unusedBeforeMs });
  }
}
