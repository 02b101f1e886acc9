/**
 * Issue 17 experiment: what flattens the growth of the access-token lookup statement from 1k to 1M grants?
 * Not part of `npm run bench`; run after `npx tsc -p bench/tsconfig.json`:
 *
 *   node dist-bench/bench/lookup-variants.js [--sizes 1000,100000,1000000] [--samples 200000] [--reps 3]
 *   node dist-bench/bench/lookup-variants.js --rss <variant> --size 100000   (one child per variant: RSS after lookups)
 *
 * Each size is seeded once through the Store (bench/seed.ts, the current schema), then copied and transformed into
 * one file per schema variant. Every (variant, pragma, statement form) runs on its own connection with keyhole's
 * pragmas, warmed, then timed over the same random hashes, variants rotating within each repetition.
 */
import Database from 'better-sqlite3';
import { copyFileSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ACCESS_TOKEN_LOOKUP_SQL, openSqliteStore, SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { sha256Hex } from '../src/store/crypto/hash.js';
import { BenchIds, seedStore } from './seed.js';

const arg = (name: string, def: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : def;
};

const ACCESS_COLS = 'hash, grant_id, family_id, client_id, resource, scopes, expires_at, revoked_at';

/** Schema transforms applied to a copy of the seeded file. */
const SCHEMAS: Record<string, (db: Database.Database) => void> = {
  base: () => {},
  /** grants: a covering index for the join (status, server, subject, person_id by id): one descent instead of two. */
  cov: (db) => db.exec('CREATE INDEX idx_grants_lookup ON grants (id, status, server, subject, person_id)'),
  /** access_tokens WITHOUT ROWID keyed by hash: one descent instead of two. */
  wr: (db) => rebuildAccess(db, 'TEXT', 'hash'),
  'wr+cov': (db) => { rebuildAccess(db, 'TEXT', 'hash'); SCHEMAS.cov!(db); },
  /** ... with the hash as a 32-byte BLOB instead of 64 hex characters. */
  'wrblob+cov': (db) => { rebuildAccess(db, 'BLOB', 'unhex(hash)'); SCHEMAS.cov!(db); },
  /** 16 KiB pages (fewer levels; more bytes read per miss). */
  'wr+cov16k': (db) => {
    rebuildAccess(db, 'TEXT', 'hash'); SCHEMAS.cov!(db);
    db.pragma('journal_mode = DELETE'); db.pragma('page_size = 16384'); db.exec('VACUUM'); db.pragma('journal_mode = WAL');
  },
  /** Information only: everything the lookup returns in one WITHOUT ROWID table (no join at all). */
  denorm: (db) => db.exec(`CREATE TABLE access_lookup (hash TEXT PRIMARY KEY, grant_id TEXT, family_id TEXT, client_id TEXT,
    resource TEXT, scopes TEXT, expires_at INTEGER, revoked_at INTEGER, grant_status TEXT, grant_server TEXT,
    grant_subject TEXT, grant_person_id TEXT) WITHOUT ROWID;
    INSERT INTO access_lookup SELECT a.*, g.status, g.server, g.subject, g.person_id FROM access_tokens a JOIN grants g ON g.id = a.grant_id`),
};

function rebuildAccess(db: Database.Database, type: string, hashExpr: string): void {
  db.pragma('foreign_keys = OFF');
  db.exec(`CREATE TABLE access_tokens_new (
    hash        ${type} NOT NULL PRIMARY KEY,
    grant_id    TEXT NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
    family_id   TEXT NOT NULL,
    client_id   TEXT NOT NULL,
    resource    TEXT NOT NULL,
    scopes      TEXT NOT NULL DEFAULT '',
    expires_at  INTEGER NOT NULL,
    revoked_at  INTEGER
  ) WITHOUT ROWID;
  INSERT INTO access_tokens_new SELECT ${hashExpr}, grant_id, family_id, client_id, resource, scopes, expires_at, revoked_at
    FROM access_tokens ORDER BY hash;
  DROP TABLE access_tokens;
  ALTER TABLE access_tokens_new RENAME TO access_tokens;
  CREATE INDEX idx_access_tokens_family ON access_tokens (family_id);
  CREATE INDEX idx_access_tokens_grant ON access_tokens (grant_id);`);
  db.pragma('foreign_keys = ON');
}

/** The covering index is not chosen over grants' own primary-key index without statistics (and ANALYZE is ruinous, above). */
const FORCED_SQL = ACCESS_TOKEN_LOOKUP_SQL.replace('JOIN grants g ON', 'JOIN grants g INDEXED BY idx_grants_lookup ON');
const DENORM_SQL = 'SELECT * FROM access_lookup WHERE hash = @hash';
const BLOB_SQL = ACCESS_TOKEN_LOOKUP_SQL.replace('a.hash = @hash', 'a.hash = unhex(@hash)');
const BLOB_BUF_SQL = ACCESS_TOKEN_LOOKUP_SQL.replace('a.hash = @hash', 'a.hash = @buf');

interface Case { name: string; schema: string; pragmas: string[]; sql: string; raw: boolean; buf?: boolean }

const CASES: Case[] = [
  { name: 'base', schema: 'base', pragmas: [], sql: ACCESS_TOKEN_LOOKUP_SQL, raw: false },
  { name: 'base raw', schema: 'base', pragmas: [], sql: ACCESS_TOKEN_LOOKUP_SQL, raw: true },
  { name: 'base cache64M', schema: 'base', pragmas: ['cache_size = -65536'], sql: ACCESS_TOKEN_LOOKUP_SQL, raw: false },
  { name: 'base mmap1G', schema: 'base', pragmas: ['mmap_size = 1073741824'], sql: ACCESS_TOKEN_LOOKUP_SQL, raw: false },
  { name: 'cov', schema: 'cov', pragmas: [], sql: ACCESS_TOKEN_LOOKUP_SQL, raw: false },
  { name: 'wr', schema: 'wr', pragmas: [], sql: ACCESS_TOKEN_LOOKUP_SQL, raw: false },
  { name: 'wr+cov', schema: 'wr+cov', pragmas: [], sql: ACCESS_TOKEN_LOOKUP_SQL, raw: false },
  { name: 'wr+cov forced', schema: 'wr+cov', pragmas: [], sql: FORCED_SQL, raw: false },
  { name: 'wr+cov forced mmap1G', schema: 'wr+cov', pragmas: ['mmap_size = 1073741824'], sql: FORCED_SQL, raw: false },
  { name: 'wr mmap1G', schema: 'wr', pragmas: ['mmap_size = 1073741824'], sql: ACCESS_TOKEN_LOOKUP_SQL, raw: false },
  { name: 'wr+cov raw', schema: 'wr+cov', pragmas: [], sql: ACCESS_TOKEN_LOOKUP_SQL, raw: true },
  { name: 'wr+cov cache64M', schema: 'wr+cov', pragmas: ['cache_size = -65536'], sql: ACCESS_TOKEN_LOOKUP_SQL, raw: false },
  { name: 'wr+cov mmap1G', schema: 'wr+cov', pragmas: ['mmap_size = 1073741824'], sql: ACCESS_TOKEN_LOOKUP_SQL, raw: false },
  { name: 'wrblob+cov unhex', schema: 'wrblob+cov', pragmas: [], sql: BLOB_SQL, raw: false },
  { name: 'wrblob+cov buf', schema: 'wrblob+cov', pragmas: [], sql: BLOB_BUF_SQL, raw: false, buf: true },
  { name: 'wr+cov16k', schema: 'wr+cov16k', pragmas: [], sql: ACCESS_TOKEN_LOOKUP_SQL, raw: false },
  { name: 'denorm', schema: 'denorm', pragmas: [], sql: DENORM_SQL, raw: false },
  { name: 'denorm mmap1G', schema: 'denorm', pragmas: ['mmap_size = 1073741824'], sql: DENORM_SQL, raw: false },
];

function openVariant(path: string, pragmas: string[]): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.pragma('synchronous = NORMAL');
  for (const p of pragmas) db.pragma(p);
  return db;
}

function rssKb(): { rss: number; file: number; anon: number } {
  const s = readFileSync('/proc/self/status', 'utf8');
  const kb = (k: string): number => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? 0);
  return { rss: kb('VmRSS'), file: kb('RssFile'), anon: kb('RssAnon') };
}

async function seed(dir: string, size: number): Promise<{ base: string; ids: BenchIds }> {
  const ids = new BenchIds(`v${size}`);
  const base = join(dir, `variants-${size}-seed.db`);
  for (const s of ['', '-wal', '-shm']) rmSync(base + s, { force: true });
  const store = openSqliteStore(base);
  SqliteStore.connectionOf(store).pragma('cache_size = -2000000');
  await seedStore(store, { ids, resource: 'http://127.0.0.1:8787/mcp/bench', grants: size });
  await store.close();
  return { base, ids };
}

function variantFiles(dir: string, size: number, base: string, schemas: Iterable<string>): Map<string, string> {
  const files = new Map<string, string>();
  for (const schema of schemas) {
    const path = join(dir, `variants-${size}-${schema.replace(/\W/g, '_')}.db`);
    for (const s of ['', '-wal', '-shm']) rmSync(path + s, { force: true });
    copyFileSync(base, path);
    const db = new Database(path);
    db.pragma('cache_size = -2000000');
    SCHEMAS[schema]!(db);
    // No ANALYZE: with sqlite_stat1 present, better-sqlite3's SQLite (STAT4) re-prepares the statement whenever a
    // bound value changes, 3-4x the cost of the lookup (measured).
    db.close();
    files.set(schema, path);
  }
  return files;
}

/** Pages in use (the rebuilt variants leave the old table's pages on the freelist until a VACUUM). */
function usedMb(path: string): string {
  const db = new Database(path, { readonly: true });
  const n = (p: string): number => db.pragma(p, { simple: true }) as number;
  const mb = ((n('page_count') - n('freelist_count')) * n('page_size')) / 1048576;
  db.close();
  return mb.toFixed(1);
}

function pick(ids: BenchIds, size: number, n: number): string[] {
  const out = new Array<string>(n);
  for (let k = 0; k < n; k++) out[k] = sha256Hex(ids.accessToken(Math.floor(Math.random() * size)));
  return out;
}

async function main(): Promise<void> {
  const dir = arg('dir', tmpdir());
  if (process.argv.includes('--rss')) return rssChild(dir);
  const sizes = arg('sizes', '1000,100000,1000000').split(',').map(Number);
  const samples = Number(arg('samples', '200000'));
  const reps = Number(arg('reps', '3'));
  const only = arg('cases', '').split(',').filter(Boolean);
  const cases = only.length ? CASES.filter((c) => only.includes(c.name)) : CASES;
  const results: Record<string, Record<number, number[]>> = {};
  for (const size of sizes) {
    const { base, ids } = await seed(dir, size);
    const files = variantFiles(dir, size, base, new Set(cases.map((c) => c.schema)));
    for (const [schema, path] of files) console.log(`${size} ${schema}: ${usedMb(path)} MB used (file ${(statSync(path).size / 1048576).toFixed(1)} MB)`);
    const open = cases.map((c) => {
      const db = openVariant(files.get(c.schema)!, c.pragmas);
      const st = db.prepare<[Record<string, unknown>], unknown>(c.sql);
      if (c.raw) st.raw(true);
      return { c, db, st };
    });
    const warm = pick(ids, size, Math.min(samples, 20_000));
    for (const { c, st } of open) for (const h of warm) if (!st.get(c.buf ? { buf: Buffer.from(h, 'hex') } : { hash: h })) throw new Error(`${c.name}: not found`);
    for (let r = 0; r < reps; r++) {
      const hashes = pick(ids, size, samples);
      const bufs = hashes.map((h) => Buffer.from(h, 'hex'));
      const order = open.map((_, i) => (i + r) % open.length);
      for (const i of order) {
        const { c, st } = open[i]!;
        const t = process.cpuUsage();
        if (c.buf) for (let k = 0; k < bufs.length; k++) st.get({ buf: bufs[k] });
        else for (let k = 0; k < hashes.length; k++) st.get({ hash: hashes[k] });
        const d = process.cpuUsage(t);
        const us = (d.user + d.system) / hashes.length; // CPU time: the machine is shared, wall time is not ours
        ((results[c.name] ??= {})[size] ??= []).push(us);
      }
    }
    for (const { db } of open) db.close();
    for (const path of [base, ...files.values()]) for (const s of ['', '-wal', '-shm']) rmSync(path + s, { force: true });
  }
  const med = (a: number[]): number => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
  console.log(`\ncase                  ${sizes.map((s) => String(s).padStart(9)).join('')}   growth (median CPU µs of ${reps} reps)`);
  for (const c of cases) {
    const m = sizes.map((s) => med(results[c.name]![s]!));
    console.log(`${c.name.padEnd(22)}${m.map((v) => v.toFixed(2).padStart(9)).join('')}   ${(m[m.length - 1]! / m[0]!).toFixed(2)}×`);
  }
}

/** One variant in its own process: RSS before and after `samples` random lookups (file-backed pages count). */
async function rssChild(dir: string): Promise<void> {
  const size = Number(arg('size', '100000'));
  const name = arg('rss', 'base');
  const c = CASES.find((x) => x.name === name)!;
  const { base, ids } = await seed(dir, size);
  const files = variantFiles(dir, size, base, [c.schema]);
  const hashes = pick(ids, size, Number(arg('samples', '200000')));
  global.gc?.();
  const before = rssKb();
  const db = openVariant(files.get(c.schema)!, c.pragmas);
  const st = db.prepare<[Record<string, unknown>], unknown>(c.sql);
  for (const h of hashes) st.get(c.buf ? { buf: Buffer.from(h, 'hex') } : { hash: h });
  global.gc?.();
  const after = rssKb();
  console.log(JSON.stringify({ case: name, size, dbMb: +(statSync(files.get(c.schema)!).size / 1048576).toFixed(1), before, after, deltaRssMb: +((after.rss - before.rss) / 1024).toFixed(1), deltaFileMb: +((after.file - before.file) / 1024).toFixed(1) }));
  db.close();
  for (const path of [base, ...files.values()]) for (const s of ['', '-wal', '-shm']) rmSync(path + s, { force: true });
}

await main();
