/** SQLite MCP session bindings over `mcp_sessions` (./migrations.ts; ../repositories/mcp-sessions.ts). */
import type { McpSessionRecord, McpSessionRepository } from '../types.js';
import type { Synchronous } from './async-repositories.js';
import { preparer, type SqliteContext } from './shared.js';

interface Row {
  key_hash: string;
  grant_id: string | null;
  server: string;
  created_at_ms: number;
  last_used_at_ms: number;
}

export class SqliteMcpSessions implements Synchronous<McpSessionRepository> {
  readonly #s;

  constructor(ctx: SqliteContext) {
    const p = preparer(ctx.db);
    this.#s = {
      bind: p(`INSERT INTO mcp_sessions (key_hash, grant_id, server, created_at_ms, last_used_at_ms)
        VALUES (@keyHash, @grantId, @server, @at, @at)
        ON CONFLICT (key_hash) DO UPDATE SET last_used_at_ms = max(last_used_at_ms, excluded.last_used_at_ms)
        WHERE mcp_sessions.grant_id = excluded.grant_id`),
      find: p<Row>('SELECT key_hash, grant_id, server, created_at_ms, last_used_at_ms FROM mcp_sessions WHERE key_hash = @keyHash'),
      touch: p('UPDATE mcp_sessions SET last_used_at_ms = max(last_used_at_ms, @at) WHERE key_hash = @keyHash'),
      forget: p('DELETE FROM mcp_sessions WHERE key_hash = @keyHash'),
      retire: p('UPDATE mcp_sessions SET grant_id = NULL, last_used_at_ms = max(last_used_at_ms, @at) WHERE grant_id = @grantId'),
      purge: p('DELETE FROM mcp_sessions WHERE last_used_at_ms < @before'),
    };
  }

  bind(keyHash: string, grantId: string, server: string, atMs: number): string | null {
    this.#s.bind.run({ keyHash, grantId, server, at: atMs });
    return this.#s.find.get({ keyHash })?.grant_id ?? null;
  }

  find(keyHash: string): McpSessionRecord | undefined {
    const r = this.#s.find.get({ keyHash });
    return r ? { keyHash: r.key_hash, grantId: r.grant_id, server: r.server, createdAtMs: r.created_at_ms, lastUsedAtMs: r.last_used_at_ms } : undefined;
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
