/** SQLite MCP session bindings over `mcp_sessions` (./migrations.ts; ../repositories/mcp-sessions.ts). */
import type { McpSessionRecord, McpSessionRepository } from '../types.js';
import type { Synchronous } from './async-repositories.js';
import { preparer, type SqliteContext } from './shared.js';
import { MCP_SESSION_SQL, mcpSessionFromRow, type McpSessionRow } from '../rows/mcp-session-rows.js';

export class SqliteMcpSessions implements Synchronous<McpSessionRepository> {
  readonly #s;

  constructor(ctx: SqliteContext) {
    const p = preparer(ctx.db);
    this.#s = {
      bind: p(`INSERT INTO mcp_sessions (key_hash, grant_id, server, created_at_ms, last_used_at_ms)
        VALUES (@keyHash, @grantId, @server, @at, @at)
        ON CONFLICT (key_hash) DO UPDATE SET last_used_at_ms = max(last_used_at_ms, excluded.last_used_at_ms)
        WHERE mcp_sessions.grant_id = excluded.grant_id`),
      find: p<McpSessionRow>(MCP_SESSION_SQL.find),
      touch: p('UPDATE mcp_sessions SET last_used_at_ms = max(last_used_at_ms, @at) WHERE key_hash = @keyHash'),
      forget: p(MCP_SESSION_SQL.forget),
      retire: p('UPDATE mcp_sessions SET grant_id = NULL, last_used_at_ms = max(last_used_at_ms, @at) WHERE grant_id = @grantId'),
      purge: p(MCP_SESSION_SQL.purge),
    };
  }

  bind(keyHash: string, grantId: string, server: string, atMs: number): string | null {
    this.#s.bind.run({ keyHash, grantId, server, at: atMs });
    return this.#s.find.get({ keyHash })?.grant_id ?? null;
  }

  find(keyHash: string): McpSessionRecord | undefined {
    const r = this.#s.find.get({ keyHash });
    return r && mcpSessionFromRow(r);
  }

  touch(keyHash: string, atMs: number): void {
    this.#s.touch.run({ keyHash, at: atMs });
  }

  forget(keyHash: string): boolean {
    return this.#s.forget.run({ keyHash }).changes > 0;
  }

  retireGrant(grantId: string, atMs: number): number {
    return this.#s.retire.run({ grantId, at: atMs }).changes;
  }

  purge(unusedBeforeMs: number): number {
    return this.#s.purge.run({ before: unusedBeforeMs }).changes;
  }
}
