/** PostgreSQL approved-tool-lists repository over `approved_tools` (migration 6, ./migrations.ts; ../repositories/approved-tools.ts). */
import type { ApprovedToolList, ApprovedToolsRepository } from '../types.js';
import { statement, type Executor } from './executor.js';
import { objectOf } from './values.js';

interface Row {
  server: string;
  tools: unknown;
  approved_by: string;
  approved_at: number;
}

const DIGEST = /^[0-9a-f]{64}$/;

const S = {
  get: statement<Row>('approved-tools.get', 'SELECT server, tools, approved_by, approved_at FROM approved_tools WHERE server = @server'),
  upsert: statement('approved-tools.upsert', `INSERT INTO approved_tools (server, tools, approved_by, approved_at)
    VALUES (@server, @tools, @approvedBy, @approvedAt)
    ON CONFLICT (server) DO UPDATE SET tools = excluded.tools, approved_by = excluded.approved_by, approved_at = excluded.approved_at`),
};

export class PostgresApprovedTools implements ApprovedToolsRepository {
  constructor(private readonly ex: Executor) {}

  async get(server: string): Promise<ApprovedToolList | undefined> {
    const row = await this.ex.one(S.get, { server });
    if (!row) return undefined;
    return { server: row.server, tools: objectOf(row.tools) as Record<string, string>, approvedBy: row.approved_by, approvedAt: row.approved_at };
  }

  async approve(server: string, tools: Readonly<Record<string, string>>, by: string, at: number): Promise<void> {
    for (const [name, digest] of Object.entries(tools)) {
      if (!DIGEST.test(digest)) throw new TypeError(`approved digest of ${name} must be 64 lowercase hex characters`);
    }
    await this.ex.run(S.upsert, { server, tools: JSON.stringify(tools), approvedBy: by, approvedAt: at });
  }
}
