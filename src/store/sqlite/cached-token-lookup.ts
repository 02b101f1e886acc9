/**
 * The access-token lookup cache: the hot path of every MCP request (the largest cost keyhole adds, bench/).
 *
 * A cached result never outlives a revocation:
 * - every revoking write goes through `revoking(write)`, which bumps the file's revocation generation;
 * - every cache on the same file (the connections of this process: the one-process lock, ./process-lock.ts, keeps
 *   every other keyhole process that writes off the file, and read-only commands never write) shares that
 *   generation, and empties itself on its next lookup when it moved: one integer comparison per request, where a
 *   `PRAGMA data_version` query on every request used to be (≈ 4 % of keyhole's CPU, bench/results/profile-after.md).
 * Misses and reads inside a transaction are not cached. Bounded, oldest entry evicted first: the insertion order is
 * kept in a ring of keys, not read back from the Map (`map.keys().next()` walks over the holes that deletions leave
 * at the front of V8's hash table until it is rebuilt: microseconds per eviction once the cache is full).
 */
import type Database from 'better-sqlite3';
import type { AccessTokenLookup, GrantStatus, TokenHash } from '../types.js';
import { canonicalDatabasePath } from './process-lock.js';
import { splitScopes } from './shared.js';

/**
 * The request hot path: a primary-key point query on access_tokens joined to grants by primary key. The columns are
 * listed, in the order `LookupTuple` reads them: the cache runs it in raw mode (an array per row, no object with
 * column-name keys to build and throw away, bench/lookup-variants.ts).
 */
export const ACCESS_TOKEN_LOOKUP_SQL = `SELECT a.hash, a.grant_id, a.family_id, a.client_id, a.resource, a.scopes,
    a.expires_at, a.revoked_at, g.status AS grant_status, g.server AS grant_server, g.subject AS grant_subject,
    g.person_id AS grant_person_id
  FROM access_tokens a JOIN grants g ON g.id = a.grant_id WHERE a.hash = @hash`;

/** Upper bound of the cache (entries). */
const LOOKUP_CACHE_MAX = 10_000;

/** One row of ACCESS_TOKEN_LOOKUP_SQL in raw mode, in its column order. */
type LookupTuple = [
  hash: string, grantId: string, familyId: string, clientId: string, resource: string, scopes: string,
  expiresAt: number, revokedAt: number | null, grantStatus: GrantStatus, server: string, subject: string,
  personId: string | null,
];

function lookupFromTuple(t: LookupTuple): AccessTokenLookup {
  return Object.freeze({
    hash: t[0], grantId: t[1], familyId: t[2], clientId: t[3], resource: t[4], scopes: splitScopes(t[5]),
    expiresAt: t[6], revokedAt: t[7], grantStatus: t[8], server: t[9], subject: t[10], personId: t[11],
  });
}

/**
 * Shared by every cache on one database file: a revocation counter, and the connections whose open transaction
 * revoked something. While one is open, no cache on the file stores a result (another connection still reads the
 * pre-commit state); once it ends (commit or rollback), the counter moves again, so every cache drops what it held.
 */
interface Generation { value: number; readonly pending: Set<Database.Database> }

function settle(g: Generation): void {
  for (const db of g.pending) {
    if (!db.open || !db.inTransaction) { g.pending.delete(db); g.value++; }
  }
}

/** Per resolved database path (in-memory databases get their own). Never deleted: one small object per file. */
const generations = new Map<string, Generation>();

function generationOf(db: Database.Database): Generation {
  if (db.memory) return { value: 0, pending: new Set() };
  const path = canonicalDatabasePath(db.name);
  let g = generations.get(path);
  if (!g) generations.set(path, (g = { value: 0, pending: new Set() }));
  return g;
}

export class CachedTokenLookup {
  readonly #cache = new Map<TokenHash, AccessTokenLookup>();
  /** The cached keys in insertion order; `#next` is the slot of the oldest once the ring is full. */
  readonly #ring: TokenHash[] = [];
  #next = 0;
  readonly #lookup: Database.Statement<[{ hash: string }], LookupTuple>;
  readonly #generation: Generation;
  #seenGeneration: number;

  constructor(private readonly db: Database.Database) {
    this.#lookup = db.prepare<[{ hash: string }], LookupTuple>(ACCESS_TOKEN_LOOKUP_SQL).raw(true);
    this.#generation = generationOf(db);
    this.#seenGeneration = this.#generation.value;
  }

  find(hash: TokenHash): AccessTokenLookup | undefined {
    const g = this.#generation;
    if (g.pending.size > 0) settle(g);
    const cacheable = !this.db.inTransaction && g.pending.size === 0;
    if (cacheable) {
      if (g.value !== this.#seenGeneration) {
        this.#clear(); // a connection on this file revoked something
        this.#seenGeneration = g.value;
      }
      const hit = this.#cache.get(hash);
      if (hit) return hit;
    }
    const row = this.#lookup.get({ hash });
    if (!row) return undefined;
    const result = lookupFromTuple(row);
    if (cacheable) {
      if (this.#ring.length < LOOKUP_CACHE_MAX) this.#ring.push(hash);
      else {
        this.#cache.delete(this.#ring[this.#next]!);
        this.#ring[this.#next] = hash;
        this.#next = (this.#next + 1) % LOOKUP_CACHE_MAX;
      }
      this.#cache.set(hash, result);
    }
    return result;
  }

  #clear(): void {
    this.#cache.clear();
    this.#ring.length = 0;
    this.#next = 0;
  }

  /** Runs a write that may revoke a token or a grant, then invalidates the caches (also when the write throws). */
  revoking<T>(write: () => T): T {
    try {
      return write();
    } finally {
      this.invalidate();
      if (this.db.inTransaction) this.#generation.pending.add(this.db); // invalidated again when it ends
    }
  }

  /** The one path that empties the caches: this one at once, every other one on the file at its next lookup. */
  invalidate(): void {
    this.#clear();
    this.#generation.value++;
    this.#seenGeneration = this.#generation.value;
  }
}
