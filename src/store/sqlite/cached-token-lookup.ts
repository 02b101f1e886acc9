/**
 * The access-token lookup cache: the hot path of every MCP request (the largest cost keyhole adds, bench/).
 *
 * A cached result never outlives a revocation:
 * - every revoking write of this connection goes through `revoking(write)`, whose one `invalidate()` clears it;
 * - a commit by another connection or process clears it too (`PRAGMA data_version` changes then; it does not for
 *   this connection's own commits).
 * Misses and reads inside a transaction are not cached. Bounded, oldest entry evicted first.
 */
import type Database from 'better-sqlite3';
import type { AccessTokenLookup, GrantStatus, TokenHash } from '../types.js';
import type { AccessTokenRow } from './token-rows.js';
import { accessFromRow } from './token-rows.js';

/** The request hot path: a primary-key point query on access_tokens joined to grants by primary key. */
export const ACCESS_TOKEN_LOOKUP_SQL = `SELECT a.*, g.status AS grant_status, g.server AS grant_server,
    g.subject AS grant_subject, g.person_id AS grant_person_id
  FROM access_tokens a JOIN grants g ON g.id = a.grant_id WHERE a.hash = @hash`;

/** Upper bound of the cache (entries). */
const LOOKUP_CACHE_MAX = 10_000;

interface AccessLookupRow extends AccessTokenRow {
  grant_status: GrantStatus;
  grant_server: string;
  grant_subject: string;
  grant_person_id: string | null;
}

export class CachedTokenLookup {
  readonly #cache = new Map<TokenHash, AccessTokenLookup>();
  readonly #lookup: Database.Statement<[{ hash: string }], AccessLookupRow>;
  readonly #dataVersion: Database.Statement<[], number>;
  #seenDataVersion = -1;

  constructor(private readonly db: Database.Database) {
    this.#lookup = db.prepare<[{ hash: string }], AccessLookupRow>(ACCESS_TOKEN_LOOKUP_SQL);
    this.#dataVersion = db.prepare<[], number>('PRAGMA data_version').pluck();
  }

  find(hash: TokenHash): AccessTokenLookup | undefined {
    const cacheable = !this.db.inTransaction;
    if (cacheable) {
      const version = this.#dataVersion.get()!;
      if (version !== this.#seenDataVersion) {
        this.invalidate(); // another connection committed: it may have revoked something
        this.#seenDataVersion = version;
      }
      const hit = this.#cache.get(hash);
      if (hit) return hit;
    }
    const row = this.#lookup.get({ hash });
    if (!row) return undefined;
    const result: AccessTokenLookup = Object.freeze({ ...accessFromRow(row), grantStatus: row.grant_status, server: row.grant_server, subject: row.grant_subject, personId: row.grant_person_id });
    if (cacheable) {
      if (this.#cache.size >= LOOKUP_CACHE_MAX) this.#cache.delete(this.#cache.keys().next().value!);
      this.#cache.set(hash, result);
    }
    return result;
  }

  /** Runs a write that may revoke a token or a grant, then invalidates the cache (also when the write throws). */
  revoking<T>(write: () => T): T {
    try {
      return write();
    } finally {
      this.invalidate();
    }
  }

  /** The one path that empties the cache. */
  invalidate(): void {
    this.#cache.clear();
  }
}
