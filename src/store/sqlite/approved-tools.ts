/**
 * SQLite implementation of the approved tool lists (../approved-tools.ts), on the `approved_tools` table of
 * migration 6 (./migrations.ts). Built from the store's better-sqlite3 `Database`.
 */
import type Database from 'better-sqlite3';
import type { ApprovedToolList, ApprovedToolsRepository } from '../approved-tools.js';

interface Row {
  server: string;
  tools: string;
  approved_by: string;
  approved_at: number;
}

const DIGEST = /^[0-9a-f]{64}$/;

export class SqliteApprovedTools implements ApprovedToolsRepository {
  readonly #get: Database.Statement<[string], Row>;
  readonly #upsert: Database.Statement<[Row]>;

  constructor(db: Database.Database) {
    this.#get = db.prepare<[string], Row>('SELECT server, tools, approved_by, approved_at FROM approved_tools WHERE server = ?');
    this.#upsert = db.prepare<[Row]>(`INSERT INTO approved_tools (server, tools, approved_by, approved_at) VALUES (@server, @tools, @approved_by, @approved_at)
      ON CONFLICT (server) DO UPDATE SET tools = excluded.tools, approved_by = excluded.approved_by, approved_at = excluded.approved_at`);
  }

  async get(server: string): Promise<ApprovedToolList | undefined> {
    const row = this.#get.get(server);
    if (!row) return undefined;
    return { server: row.server, tools: JSON.parse(row.tools) as Record<string, string>, approvedBy: row.approved_by, approvedAt: row.approved_at };
  }

  async approve(server: string, tools: Readonly<Record<string, string>>, by: string, at: number): Promise<void> {
    for (const [name, digest] of Object.entries(tools)) {
      if (!DIGEST.test(digest)) throw new TypeError(`approved digest of ${name} must be 64 lowercase hex characters`);
    }
    this.#upsert.run({ server, tools: JSON.stringify(tools), approved_by: by, approved_at: at });
  }
}
