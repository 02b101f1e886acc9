/** SQLite approved-tool-lists repository (../repositories/approved-tools.ts) over `approved_tools` (migration 6, ./migrations.ts). */
import type { ApprovedToolList, ApprovedToolsRepository } from '../types.js';
import type { Synchronous } from './async-repositories.js';
import { preparer, type SqliteContext } from './shared.js';

interface Row {
  server: string;
  tools: string;
  approved_by: string;
  approved_at: number;
}

const DIGEST = /^[0-9a-f]{64}$/;

export class SqliteApprovedTools implements Synchronous<ApprovedToolsRepository> {
  readonly #s;

  constructor(ctx: SqliteContext) {
    const p = preparer(ctx.db);
    this.#s = {
      get: p<Row>('SELECT server, tools, approved_by, approved_at FROM approved_tools WHERE server = @server'),
      upsert: p(`INSERT INTO approved_tools (server, tools, approved_by, approved_at) VALUES (@server, @tools, @approved_by, @approved_at)
        ON CONFLICT (server) DO UPDATE SET tools = excluded.tools, approved_by = excluded.approved_by, approved_at = excluded.approved_at`),
    };
  }

  get(server: string): ApprovedToolList | undefined {
    const row = this.#s.get.get({ server });
    if (!row) return undefined;
    return { server: row.server, tools: JSON.parse(row.tools) as Record<string, string>, approvedBy: row.approved_by, approvedAt: row.approved_at };
  }

  approve(server: string, tools: Readonly<Record<string, string>>, by: string, at: number): void {
    for (const [name, digest] of Object.entries(tools)) {
      if (!DIGEST.test(digest)) throw new TypeError(`approved digest of ${name} must be 64 lowercase hex characters`);
    }
    this.#s.upsert.run({ server, tools: JSON.stringify(tools), approved_by: by, approved_at: at });
  }
}
