/**
 * Helpers of the SQLite repositories: the statement cache of the filtered list/count queries and the preparer; the
 * engine-neutral value encodings (../rows/sql-values.ts) are re-exported for them.
 */
import type Database from 'better-sqlite3';

export {
  DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, clampBatch, equalsWhere, fromJson, joinScopes, pageOf, splitScopes, toJson, whereOf, type Params,
} from '../rows/sql-values.js';
import type { Params } from '../rows/sql-values.js';

/**
 * Filtered list/count statements: one per filter shape (at most 16 for grants, 64 for events), prepared once per
 * connection and shared by the repositories.
 */
export class PageStatements {
  readonly #cache = new Map<string, Database.Statement<[Params]>>();
  constructor(private readonly db: Database.Database) {}

  get(sql: string): Database.Statement<[Params]> {
    let stmt = this.#cache.get(sql);
    if (!stmt) {
      stmt = this.db.prepare<[Params]>(sql);
      this.#cache.set(sql, stmt);
    }
    return stmt;
  }
}

/** What every SQLite repository is built from: the connection and the shared statement cache. */
export interface SqliteContext {
  db: Database.Database;
  pages: PageStatements;
}

/** Prepares a statement taking one named-parameter object. */
export function preparer(db: Database.Database): <Row = unknown>(sql: string) => Database.Statement<[Params?], Row> {
  return <Row = unknown>(sql: string) => db.prepare<[Params?], Row>(sql);
}
