/**
 * Grant lookup cost: `await store.tokens.findAccess(hash)` — the point query the authenticate step runs on every MCP request
 * (access token joined to its grant) — against SQLite files holding 1k, 100k and 1M grants.
 * Each size is seeded through the Store in ONE transaction of prepared statements, closed, and reopened with the
 * production pragmas (openSqliteStore), so the page cache starts as it would in a restarted keyhole.
 * Every call is timed on its own (performance.now()), on tokens picked uniformly at random.
 */
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ACCESS_TOKEN_LOOKUP_SQL, openSqliteStore, SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { Store } from '../../src/store/types.js';
import { sha256Hex } from '../../src/store/crypto/hash.js';
import { BenchIds, seedStore } from '../seed.js';
import { Samples } from './stats.js';

export interface LookupRep {
  p50Us: number;
  p99Us: number;
  meanUs: number;
  /** sha256Hex(token) + lookup: the whole of the authenticate step's database work. */
  withHashMeanUs: number;
  /**
   * SQLite only: the lookup statement itself (ACCESS_TOKEN_LOOKUP_SQL on keyhole's connection, raw mode), without the store's
   * lookup cache. This is what grows with the number of grants (B-tree depth, page cache); findAccess above hits the
   * bounded cache whenever the sampled tokens fit in it (all of them at 1k grants).
   */
  queryMeanUs?: number;
  queryP99Us?: number;
}

export interface LookupSize {
  grants: number;
  seedSeconds: number;
  dbBytes: number;
  reps: LookupRep[];
}

function pickHashes(ids: BenchIds, size: number, n: number): { tokens: string[]; hashes: string[] } {
  const tokens: string[] = new Array<string>(n);
  const hashes: string[] = new Array<string>(n);
  for (let k = 0; k < n; k++) {
    const t = ids.accessToken(Math.floor(Math.random() * size));
    tokens[k] = t;
    hashes[k] = sha256Hex(t);
  }
  return { tokens, hashes };
}

export async function measureLookup(o: { dir: string; size: number; samples: number; reps: number; runId: string; log: (m: string) => void }): Promise<LookupSize> {
  const ids = new BenchIds(`${o.runId}l${o.size}`);
  const path = join(o.dir, `lookup-${o.size}.db`);
  const resource = 'http://127.0.0.1:8787/mcp/bench';
  let store = openSqliteStore(path);
  // Seeding only: a page cache big enough for the whole file, so random-key index inserts do not thrash it
  // (1M grants in seconds instead of minutes). The measurement below reopens with keyhole's own settings.
  SqliteStore.connectionOf(store).pragma('cache_size = -2000000');
  const t0 = performance.now();
  await seedStore(store, { ids, resource, grants: o.size });
  const seedSeconds = (performance.now() - t0) / 1000;
  await store.close();
  const dbBytes = statSync(path).size;
  o.log(`lookup: seeded ${o.size.toLocaleString('en')} grants in ${seedSeconds.toFixed(1)} s (${(dbBytes / 1048576).toFixed(0)} MB)`);

  store = openSqliteStore(path);
  // In raw mode (an array per row), as the store's lookup cache runs it (src/store/sqlite/cached-token-lookup.ts).
  const query = SqliteStore.connectionOf(store).prepare<[{ hash: string }], unknown>(ACCESS_TOKEN_LOOKUP_SQL).raw(true);
  try {
    // Warm-up: JIT and the statement; the page cache warms as production's would.
    const warm = pickHashes(ids, o.size, Math.min(o.samples, 20_000));
    for (const h of warm.hashes) await store.tokens.findAccess(h);
    for (const h of warm.hashes) query.get({ hash: h });

    const reps: LookupRep[] = [];
    for (let r = 0; r < o.reps; r++) {
      const { tokens, hashes } = pickHashes(ids, o.size, o.samples);
      const s = new Samples();
      let misses = 0;
      for (let k = 0; k < hashes.length; k++) {
        const t = performance.now();
        const row = await store.tokens.findAccess(hashes[k]!);
        s.add((performance.now() - t) * 1000);
        if (!row) misses++;
      }
      if (misses) throw new Error(`lookup: ${misses} seeded tokens were not found`);
      const t1 = performance.now();
      for (let k = 0; k < tokens.length; k++) await store.tokens.findAccess(sha256Hex(tokens[k]!));
      const withHashMeanUs = ((performance.now() - t1) * 1000) / tokens.length;
      const q = new Samples();
      for (let k = 0; k < hashes.length; k++) {
        const t = performance.now();
        query.get({ hash: hashes[k]! });
        q.add((performance.now() - t) * 1000);
      }
      reps.push({ p50Us: s.percentile(50), p99Us: s.percentile(99), meanUs: s.mean(), withHashMeanUs, queryMeanUs: q.mean(), queryP99Us: q.percentile(99) });
    }
    return { grants: o.size, seedSeconds, dbBytes, reps };
  } finally {
    await store.close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
  }
}

/**
 * The same lookup on any store (PostgreSQL: a primary-key join over the pool, one round trip per call), seeded here
 * with `size` grants unless `seeded` says it holds them already. The caller owns the store.
 */
export async function measureStoreLookup(o: { store: Store; size: number; samples: number; reps: number; runId: string; log: (m: string) => void; label: string; seeded?: BenchIds }): Promise<LookupSize> {
  // `seeded`: the store already holds `size` grants of these ids (keyhole's own database): no seeding here.
  const ids = o.seeded ?? new BenchIds(`${o.runId}${o.label}${o.size}`);
  const t0 = performance.now();
  if (!o.seeded) await seedStore(o.store, { ids, resource: 'http://127.0.0.1:8787/mcp/bench', grants: o.size });
  const seedSeconds = (performance.now() - t0) / 1000;
  if (!o.seeded) o.log(`lookup ${o.label}: seeded ${o.size.toLocaleString('en')} grants in ${seedSeconds.toFixed(1)} s`);
  const warm = pickHashes(ids, o.size, Math.min(o.samples, 5_000));
  for (const h of warm.hashes) await o.store.tokens.findAccess(h);
  const reps: LookupRep[] = [];
  for (let r = 0; r < o.reps; r++) {
    const { tokens, hashes } = pickHashes(ids, o.size, o.samples);
    const s = new Samples();
    for (let k = 0; k < hashes.length; k++) {
      const t = performance.now();
      const row = await o.store.tokens.findAccess(hashes[k]!);
      s.add((performance.now() - t) * 1000);
      if (!row) throw new Error(`lookup ${o.label}: a seeded token was not found`);
    }
    const t1 = performance.now();
    for (let k = 0; k < tokens.length; k++) await o.store.tokens.findAccess(sha256Hex(tokens[k]!));
    reps.push({ p50Us: s.percentile(50), p99Us: s.percentile(99), meanUs: s.mean(), withHashMeanUs: ((performance.now() - t1) * 1000) / tokens.length });
  }
  return { grants: o.size, seedSeconds, dbBytes: 0, reps };
}
