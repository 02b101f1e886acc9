/**
 * keyhole's benchmark: its overhead against a direct call and against bare pass-through proxies.
 * `npm run bench` (full, ~10 min on 2 cores) · `npm run bench -- --quick` (CI: proves it works, < 60 s)
 * · `npm run bench -- --profile` (CPU profile of keyhole under load, summarised).
 * Optional: `--only json,ladder,sse,token,memory,lookup,pg` runs a subset; `--seconds N` sets the profiling duration.
 * `pg` starts a throw-away PostgreSQL (test/helpers/postgres.ts, the tests' own) for keyhole on PostgreSQL.
 *
 * Everything runs on 127.0.0.1 in this process tree: the fast upstream, the raw node:http proxy, the bare Hono
 * pass-through and keyhole each in a child process; the load generator (autocannon) and the SSE clients here.
 * Targets are interleaved round-robin within every repetition, so that machine noise hits them alike.
 * See bench/README.md for what each figure means.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, freemem, loadavg, platform, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent } from 'node:http';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { VaultCipher, keyringFromMasterKey } from '../src/store/crypto/vault-cipher.js';
import { startChild, type ServerChild } from './lib/child.js';
import { freePort } from '../test/helpers/free-port.js';
import { httpLoad, pacedLoad, type HttpLoadResult } from './lib/load.js';
import { openStreams, sseCall, sseThroughput } from './lib/sse.js';
import { measureLookup, measureStoreLookup, type LookupSize } from './lib/lookup.js';
import { startPostgres, type PostgresServer } from '../test/helpers/postgres.js';
import { createPostgresStore } from '../src/store/postgres/postgres-store.js';
import type { Store } from '../src/store/types.js';
import { Samples, round, roundSpread, sleep, spread, type Spread } from './lib/stats.js';
import { formatProfile, formatSplit, splitCpuProfile, summariseCpuProfile, TOKEN_PHASES, type ProfileWindow } from './lib/cpuprofile.js';
import { BenchIds, seedStore } from './seed.js';
import type { KeyholeChildSpec } from './keyhole-server.js';

// ---------------------------------------------------------------------------------------------------------------
// parameters

const argv = process.argv.slice(2);
const QUICK = argv.includes('--quick');
const PROFILE = argv.includes('--profile');
const onlyArg = argv.includes('--only') ? argv[argv.indexOf('--only') + 1] ?? '' : '';
const ONLY = new Set(onlyArg.split(',').filter(Boolean));
const enabled = (part: string) => ONLY.size === 0 || ONLY.has(part);

const P = QUICK
  ? {
      reps: 2, warmupS: 0.5, jsonDurationS: 0.4, concurrencies: [1, 16, 128], fixedRate: 500,
      grants: 1_000, refreshTokens: 20_000, refreshGrants: 100, tokenConnections: 16, tokenDurationS: 1,
      sseEvents: 200, sseIntervalMs: 1, sseConcurrency: 4, sseThroughputS: 0.5,
      // 300 > 256: a regression check for a per-upstream socket cap that would stall the 257th open stream.
      memoryStreams: 300, touchConnections: 32, settleS: 1,
      lookupSizes: [1_000, 10_000], lookupSamples: 5_000, lookupReps: 2,
      pgGrants: 2_000, pgRefreshTokens: 5_000, pgLookupSizes: [1_000], pgLookupSamples: 1_000,
      profileS: 3,
    }
  : {
      reps: 3, warmupS: 2, jsonDurationS: 5, concurrencies: [1, 16, 128], fixedRate: 1_000,
      grants: 100_000, refreshTokens: 120_000, refreshGrants: 1_000, tokenConnections: 16, tokenDurationS: 5,
      sseEvents: 1_000, sseIntervalMs: 1, sseConcurrency: 8, sseThroughputS: 3,
      memoryStreams: 1_000, touchConnections: 64, settleS: 15,
      lookupSizes: [1_000, 100_000, 1_000_000], lookupSamples: 100_000, lookupReps: 3,
      pgGrants: 20_000, pgRefreshTokens: 30_000, pgLookupSizes: [1_000], pgLookupSamples: 20_000,
      profileS: 10,
    };

if (argv.includes('--warmup')) P.warmupS = Number(argv[argv.indexOf('--warmup') + 1]) || P.warmupS;
// `--ladder-rate N`: the ladder in open loop, 16 connections paced at N req/s in total, instead of closed loop: every
// rung then serves the same rate, so its CPU µs/req is not skewed by how many requests one event-loop turn batches.
const LADDER_RATE = argv.includes('--ladder-rate') ? Number(argv[argv.indexOf('--ladder-rate') + 1]) || undefined : undefined;
// `--reps N`: more interleaved repetitions (e.g. the ladder on a busy machine).
if (argv.includes('--reps')) P.reps = Math.max(1, Math.floor(Number(argv[argv.indexOf('--reps') + 1]))) || P.reps;
if (argv.includes('--seconds')) P.profileS = Number(argv[argv.indexOf('--seconds') + 1]) || P.profileS;
// `--json-seconds N`: longer tools/call runs (e.g. with --quick --only json, for an A/B of two builds).
if (argv.includes('--json-seconds')) P.jsonDurationS = Number(argv[argv.indexOf('--json-seconds') + 1]) || P.jsonDurationS;
// `--token-seconds N`: longer refresh_token runs (e.g. with --quick --only token, for an A/B of two builds).
if (argv.includes('--token-seconds')) P.tokenDurationS = Number(argv[argv.indexOf('--token-seconds') + 1]) || P.tokenDurationS;

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const resultsDir = join(repoRoot, 'bench', 'results');
const t0 = performance.now();
const log = (m: string) => process.stderr.write(`[bench ${((performance.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${m}\n`);

// ---------------------------------------------------------------------------------------------------------------
// the stack

type TargetName = 'direct' | 'raw' | 'bare' | 'keyhole' | 'keyhole-pg' | LadderRungName;
interface Target {
  name: TargetName;
  url: string;
  /** The bearer token connection i presents (grant i). */
  token(i: number): string;
  /** The process in front of the upstream (none for direct). */
  proxy?: ServerChild;
}

const children: ServerChild[] = [];
const dir = mkdtempSync(join(tmpdir(), 'keyhole-bench-'));
let cleaned = false;
async function cleanup(): Promise<void> {
  if (cleaned) return;
  cleaned = true;
  await Promise.all(children.map((c) => c.stop().catch(() => undefined)));
  rmSync(dir, { recursive: true, force: true });
}
process.on('SIGINT', () => void cleanup().finally(() => process.exit(130)));

const runId = randomBytes(4).toString('hex');
const ids = new BenchIds(runId);
const masterKey = randomBytes(32).toString('base64url');
const grants = P.grants;

async function start(child: Promise<ServerChild>): Promise<ServerChild> {
  const c = await child;
  children.push(c);
  return c;
}
async function stop(c: ServerChild): Promise<void> {
  await c.stop();
  children.splice(children.indexOf(c), 1);
}

async function startUpstream(): Promise<ServerChild> {
  return start(startChild({ name: 'upstream', module: './upstream-fast.js', args: ['--token-prefix', ids.upstreamPrefix, '--token-count', String(grants)] }));
}

interface KeyholeDb {
  dbPath: string;
  postgresUrl?: string;
  port: number;
  publicUrl: string;
  resource: string;
}

async function seedKeyholeDb(postgresUrl?: string): Promise<KeyholeDb> {
  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${port}`;
  const resource = `${publicUrl}/mcp/${ids.server}`;
  const dbPath = join(dir, 'keyhole.db');
  const store: Store = postgresUrl ? await createPostgresStore(postgresUrl) : openSqliteStore(dbPath);
  const n = postgresUrl ? P.pgGrants : grants;
  const refreshTokens = postgresUrl ? P.pgRefreshTokens : P.refreshTokens;
  try {
    const r = await seedStore(store, {
      ids, resource, grants: n, cipher: new VaultCipher(keyringFromMasterKey(masterKey)),
      refreshTokens, refreshGrants: P.refreshGrants, onProgress: log,
    });
    log(`seeded ${postgresUrl ? 'PostgreSQL' : 'SQLite'}: ${n.toLocaleString('en')} grants (sealed credentials in ${(r.sealMs / 1000).toFixed(1)} s, inserted in ${(r.insertMs / 1000).toFixed(1)} s) and ${refreshTokens.toLocaleString('en')} refresh tokens`);
  } finally {
    await store.close();
  }
  return { dbPath, port, publicUrl, resource, ...(postgresUrl ? { postgresUrl } : {}) };
}

async function startKeyhole(db: KeyholeDb, upstreamUrl: string, name: string, execArgv: string[] = [], variant: Partial<KeyholeChildSpec> = {}): Promise<ServerChild> {
  const spec: KeyholeChildSpec = { ...(db.postgresUrl ? { postgresUrl: db.postgresUrl } : { dbPath: db.dbPath }), upstreamUrl, port: db.port, server: ids.server, ...variant };
  return start(startChild({
    name, module: './keyhole-server.js', execArgv, logFile: join(dir, `${name}.log`),
    env: { KEYHOLE_MASTER_KEY: masterKey, BENCH_KEYHOLE: JSON.stringify(spec) },
  }));
}

/**
 * The cost ladder (issue 17: where keyhole's CPU per request goes, feature by feature, in one run). Each rung is a
 * keyhole with one feature fewer than the rung above (cumulative), then the bare Hono pass-through and the raw proxy.
 * Every switch is config except `discardAuditRecords` (keyhole has no config switch for the audit rows; see
 * keyhole-server.ts).
 */
type LadderRungName = 'keyhole-no-limits' | 'keyhole-no-audit-line' | 'keyhole-no-audit-rows';
const LADDER: Array<{ name: LadderRungName; variant: Partial<KeyholeChildSpec> }> = [
  { name: 'keyhole-no-limits', variant: { limits: false } },
  { name: 'keyhole-no-audit-line', variant: { limits: false, logLevel: 'warn' } },
  { name: 'keyhole-no-audit-rows', variant: { limits: false, logLevel: 'warn', discardAuditRecords: true } },
];
/** What each rung has that the rung below it has not (the step's CPU is that feature's cost). */
const LADDER_STEPS: Record<string, string> = {
  keyhole: 'rate limits per person and per client (configured, never hit)',
  'keyhole-no-limits': 'the keyhole.audit log line (logLevel info → warn)',
  'keyhole-no-audit-line': 'the audit rows written to SQLite (auditLog append)',
  'keyhole-no-audit-rows': 'the rest of keyhole: auth (hash + lookup), upstream credential, audit record + metrics, routing',
  bare: 'Hono + @hono/node-server over node:http',
  raw: '(the floor: node:http keep-alive proxy)',
};

/** A copy of the seeded SQLite file per ladder keyhole (one process per file: src/store/sqlite/process-lock.ts). */
function copyKeyholeDb(db: KeyholeDb, name: string): KeyholeDb {
  const dbPath = join(dir, `${name}.db`);
  copyFileSync(db.dbPath, dbPath);
  for (const ext of ['-wal', '-shm']) if (existsSync(db.dbPath + ext)) copyFileSync(db.dbPath + ext, dbPath + ext);
  return { ...db, dbPath };
}

const MCP_HEADERS = {
  'Content-Type': 'application/json',
  Accept: 'application/json, text/event-stream',
  'Mcp-Protocol-Version': '2025-11-25',
};
/** A ~100-byte JSON-RPC tools/call, as in shared/PERFORMANCE-NOTES.md. */
const TOOLS_CALL = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'hello' } } });

function jsonLoad(t: Target, connections: number, durationS: number, ratePerSec?: number): Promise<HttpLoadResult> {
  const connectionHeaders = (i: number) => ({ Authorization: `Bearer ${t.token(i % grants)}` });
  if (ratePerSec !== undefined) {
    return pacedLoad({ url: t.url, connections, durationS, ratePerSec, body: TOOLS_CALL, headers: MCP_HEADERS, connectionHeaders });
  }
  return httpLoad({ url: t.url, connections, durationS, body: TOOLS_CALL, headers: MCP_HEADERS, connectionHeaders });
}

/** Round-robin order for a repetition: every target leads once in a while. */
function rotate<T>(xs: T[], k: number): T[] {
  const n = xs.length;
  return xs.map((_, i) => xs[(i + k) % n]!);
}

function warnIfFailed(label: string, r: { non2xx?: number; errors?: number; failedCalls?: number; statusCodes?: Record<string, number> }): void {
  const bad = (r.non2xx ?? 0) + (r.errors ?? 0) + (r.failedCalls ?? 0);
  if (bad > 0) log(`WARNING ${label}: ${bad} failed requests ${JSON.stringify(r.statusCodes ?? {})}`);
}

// ---------------------------------------------------------------------------------------------------------------
// measurements

interface JsonMode {
  label: string;
  connections: number;
  rate?: number;
}

interface JsonFigures {
  rps: Spread;
  p50Ms: Spread;
  p99Ms: Spread;
  /** CPU time (user + sys) of the proxy process per request, µs; for direct, the upstream's. */
  cpuUsPerReq: Spread;
  /** CPU time of the upstream process per request, µs. */
  upstreamCpuUsPerReq: Spread;
  failed: number;
}
type JsonResults = Record<string, Record<string, JsonFigures>>;

interface JsonRun extends HttpLoadResult {
  cpuUsPerReq: number;
  upstreamCpuUsPerReq: number;
}

async function measuredJsonLoad(t: Target, upstream: ServerChild, connections: number, durationS: number, rate?: number): Promise<JsonRun> {
  const p0 = t.proxy?.cpuUs() ?? Number.NaN;
  const u0 = upstream.cpuUs();
  const r = await jsonLoad(t, connections, durationS, rate);
  const served = r.ok + r.non2xx;
  const upstreamCpuUsPerReq = (upstream.cpuUs() - u0) / served;
  const cpuUsPerReq = t.proxy ? (t.proxy.cpuUs() - p0) / served : upstreamCpuUsPerReq;
  return { ...r, cpuUsPerReq, upstreamCpuUsPerReq };
}

async function measureJson(targets: Target[], upstream: ServerChild): Promise<JsonResults> {
  const modes: JsonMode[] = [
    ...P.concurrencies.map((c) => ({ label: `c=${c}`, connections: c })),
    { label: `c=16 paced ${P.fixedRate}/s`, connections: 16, rate: P.fixedRate },
  ];
  for (const t of targets) {
    await jsonLoad(t, 128, P.warmupS);
    await jsonLoad(t, 1, P.warmupS / 2);
  }
  log('json: warmed up');
  const raw: Record<string, Record<string, JsonRun[]>> = {};
  for (let rep = 0; rep < P.reps; rep++) {
    for (const [mi, mode] of modes.entries()) {
      for (const t of rotate(targets, rep + mi)) {
        const r = await measuredJsonLoad(t, upstream, mode.connections, P.jsonDurationS, mode.rate);
        warnIfFailed(`json ${mode.label} ${t.name}`, r);
        ((raw[mode.label] ??= {})[t.name] ??= []).push(r);
      }
      log(`json rep ${rep + 1}/${P.reps} ${mode.label}: ${targets.map((t) => `${t.name} ${raw[mode.label]![t.name]!.at(-1)!.rps.toFixed(0)} req/s p50 ${raw[mode.label]![t.name]!.at(-1)!.p50Ms.toFixed(3)} ms`).join(', ')}`);
    }
  }
  const out: JsonResults = {};
  for (const [mode, byTarget] of Object.entries(raw)) {
    out[mode] = {};
    for (const [t, runs] of Object.entries(byTarget)) {
      out[mode]![t] = {
        rps: spread(runs.map((r) => r.rps)),
        p50Ms: spread(runs.map((r) => r.p50Ms)),
        p99Ms: spread(runs.map((r) => r.p99Ms)),
        cpuUsPerReq: spread(runs.map((r) => r.cpuUsPerReq)),
        upstreamCpuUsPerReq: spread(runs.map((r) => r.upstreamCpuUsPerReq)),
        failed: runs.reduce((s, r) => s + r.non2xx + r.errors, 0),
      };
    }
  }
  // Paired differences (keyhole − direct, keyhole / bare) per repetition: the runs of one repetition are adjacent in time.
  for (const mode of Object.keys(raw)) {
    const k = raw[mode]!.keyhole;
    const d = raw[mode]!.direct;
    const b = raw[mode]!.bare;
    if (!k || !d || !b) continue;
    const none = spread([]);
    out[mode]!['keyhole − direct'] = {
      rps: spread(k.map((r, i) => r.rps - d[i]!.rps)),
      p50Ms: spread(k.map((r, i) => r.p50Ms - d[i]!.p50Ms)),
      p99Ms: spread(k.map((r, i) => r.p99Ms - d[i]!.p99Ms)),
      cpuUsPerReq: none, upstreamCpuUsPerReq: none, failed: 0,
    };
    out[mode]!['keyhole − bare'] = {
      rps: spread(k.map((r, i) => r.rps - b[i]!.rps)),
      p50Ms: spread(k.map((r, i) => r.p50Ms - b[i]!.p50Ms)),
      p99Ms: spread(k.map((r, i) => r.p99Ms - b[i]!.p99Ms)),
      cpuUsPerReq: spread(k.map((r, i) => r.cpuUsPerReq - b[i]!.cpuUsPerReq)), upstreamCpuUsPerReq: none, failed: 0,
    };
    const r = raw[mode]!.raw;
    if (r) {
      out[mode]!['keyhole / raw'] = {
        rps: spread(k.map((x, i) => x.rps / r[i]!.rps)),
        p50Ms: spread(k.map((x, i) => x.p50Ms / r[i]!.p50Ms)),
        p99Ms: spread(k.map((x, i) => x.p99Ms / r[i]!.p99Ms)),
        cpuUsPerReq: spread(k.map((x, i) => x.cpuUsPerReq / r[i]!.cpuUsPerReq)), upstreamCpuUsPerReq: none, failed: 0,
      };
      // Latency each proxy adds over direct, keyhole's as a multiple of the raw proxy's (the c=1 goal).
      out[mode]!['keyhole added / raw added'] = {
        rps: none,
        p50Ms: spread(k.map((x, i) => (x.p50Ms - d[i]!.p50Ms) / (r[i]!.p50Ms - d[i]!.p50Ms))),
        p99Ms: spread(k.map((x, i) => (x.p99Ms - d[i]!.p99Ms) / (r[i]!.p99Ms - d[i]!.p99Ms))),
        cpuUsPerReq: none, upstreamCpuUsPerReq: none, failed: 0,
      };
    }
    out[mode]!['keyhole / bare'] = {
      rps: spread(k.map((r, i) => r.rps / b[i]!.rps)),
      p50Ms: spread(k.map((r, i) => r.p50Ms / b[i]!.p50Ms)),
      p99Ms: spread(k.map((r, i) => r.p99Ms / b[i]!.p99Ms)),
      cpuUsPerReq: spread(k.map((r, i) => r.cpuUsPerReq / b[i]!.cpuUsPerReq)), upstreamCpuUsPerReq: none, failed: 0,
    };
  }
  return out;
}

interface LadderRung {
  name: string;
  /** What this rung has that the next one down has not. */
  step: string;
  rps: Spread;
  p50Ms: Spread;
  cpuUsPerReq: Spread;
  /** This rung / the raw proxy of the same repetition. */
  rpsToRaw: Spread;
  cpuToRaw: Spread;
  /** CPU µs/req of this rung minus the next one down, per repetition: what the step's feature costs. */
  stepCpuUs: Spread;
  failed: number;
}
interface LadderResults {
  mode: string;
  connections: number;
  durationS: number;
  reps: number;
  /** Top (keyhole as configured in the other figures) to bottom (raw). */
  rungs: LadderRung[];
}

/**
 * The ladder at c=16: same interleaving and repetitions as the json figures. `targets` top to bottom, raw last;
 * `warm`: targets the json figures have just warmed up (the others get the same warm-up first).
 */
async function measureLadder(targets: Target[], upstream: ServerChild, warm: ReadonlySet<Target>): Promise<LadderResults> {
  const connections = 16;
  const rate = LADDER_RATE;
  // The CI's plain `--quick` (every part) runs one repetition, only to prove the ladder works; `--only ladder` or
  // `--reps N` get the usual repetitions.
  const reps = QUICK && !ONLY.has('ladder') && !argv.includes('--reps') ? 1 : P.reps;
  for (const t of targets) {
    if (warm.has(t)) continue;
    await jsonLoad(t, 128, P.warmupS);
    await jsonLoad(t, 1, P.warmupS / 2);
  }
  log('ladder: warmed up');
  const runs: Record<string, JsonRun[]> = {};
  for (let rep = 0; rep < reps; rep++) {
    for (const t of rotate(targets, rep)) {
      const r = await measuredJsonLoad(t, upstream, connections, P.jsonDurationS, rate);
      warnIfFailed(`ladder ${t.name}`, r);
      (runs[t.name] ??= []).push(r);
    }
    log(`ladder rep ${rep + 1}/${reps} c=${connections}${rate ? ` paced ${rate}/s` : ''}: ${targets.map((t) => `${t.name} ${runs[t.name]!.at(-1)!.rps.toFixed(0)} req/s ${runs[t.name]!.at(-1)!.cpuUsPerReq.toFixed(0)} µs/req`).join(', ')}`);
  }
  const raw = runs.raw!;
  const rungs = targets.map((t, i): LadderRung => {
    const rs = runs[t.name]!;
    const below = targets[i + 1] ? runs[targets[i + 1]!.name]! : undefined;
    return {
      name: t.name,
      step: LADDER_STEPS[t.name] ?? '',
      rps: spread(rs.map((r) => r.rps)),
      p50Ms: spread(rs.map((r) => r.p50Ms)),
      cpuUsPerReq: spread(rs.map((r) => r.cpuUsPerReq)),
      rpsToRaw: spread(rs.map((r, j) => r.rps / raw[j]!.rps)),
      cpuToRaw: spread(rs.map((r, j) => r.cpuUsPerReq / raw[j]!.cpuUsPerReq)),
      stepCpuUs: spread(below ? rs.map((r, j) => r.cpuUsPerReq - below[j]!.cpuUsPerReq) : []),
      failed: rs.reduce((n, r) => n + r.non2xx + r.errors, 0),
    };
  });
  return { mode: `c=${connections}${rate ? ` paced ${rate}/s` : ''}`, connections, durationS: P.jsonDurationS, reps, rungs };
}

interface SseResults {
  events: number;
  intervalMs: number;
  latency: Record<string, { p50Us: Spread; p99Us: Spread; eventsPerRead: Spread }>;
  throughput: Record<string, { bytesPerSec: Spread; eventsPerSec: Spread; failed: number }>;
  throughputConcurrency: number;
}

async function measureSse(targets: Target[]): Promise<SseResults> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  for (const t of targets) await sseCall({ url: t.url, token: t.token(0), count: 200, intervalMs: 0, agent });
  const lat: Record<string, { p50: number[]; p99: number[]; perRead: number[] }> = {};
  for (let rep = 0; rep < P.reps; rep++) {
    for (const t of rotate(targets, rep)) {
      const s = new Samples();
      const r = await sseCall({ url: t.url, token: t.token(0), count: P.sseEvents, intervalMs: P.sseIntervalMs, agent, latencies: s });
      if (r.status !== 200 || s.count !== P.sseEvents) log(`WARNING sse ${t.name}: status ${r.status}, ${s.count}/${P.sseEvents} progress events`);
      const e = (lat[t.name] ??= { p50: [], p99: [], perRead: [] });
      e.p50.push(s.percentile(50));
      e.p99.push(s.percentile(99));
      e.perRead.push(r.events / Math.max(1, r.chunksWithEvents));
    }
    log(`sse latency rep ${rep + 1}/${P.reps}: ${targets.map((t) => `${t.name} p50 ${lat[t.name]!.p50.at(-1)!.toFixed(0)} µs p99 ${lat[t.name]!.p99.at(-1)!.toFixed(0)} µs`).join(', ')}`);
  }
  agent.destroy();
  const thr: Record<string, { bps: number[]; eps: number[]; failed: number }> = {};
  for (let rep = 0; rep < P.reps; rep++) {
    for (const t of rotate(targets, rep)) {
      const r = await sseThroughput(t.url, (i) => t.token(i), P.sseEvents, P.sseConcurrency, P.sseThroughputS);
      warnIfFailed(`sse throughput ${t.name}`, r);
      const e = (thr[t.name] ??= { bps: [], eps: [], failed: 0 });
      e.bps.push(r.bytesPerSec);
      e.eps.push(r.eventsPerSec);
      e.failed += r.failedCalls;
    }
    log(`sse throughput rep ${rep + 1}/${P.reps}: ${targets.map((t) => `${t.name} ${(thr[t.name]!.bps.at(-1)! / 1048576).toFixed(1)} MiB/s`).join(', ')}`);
  }
  const latency: SseResults['latency'] = {};
  for (const [k, v] of Object.entries(lat)) latency[k] = { p50Us: spread(v.p50), p99Us: spread(v.p99), eventsPerRead: spread(v.perRead) };
  const k = lat.keyhole;
  const d = lat.direct;
  if (k && d) {
    latency['keyhole − direct'] = {
      p50Us: spread(k.p50.map((x, i) => x - d.p50[i]!)),
      p99Us: spread(k.p99.map((x, i) => x - d.p99[i]!)),
      eventsPerRead: spread([]),
    };
  }
  const throughput: SseResults['throughput'] = {};
  for (const [n, v] of Object.entries(thr)) throughput[n] = { bytesPerSec: spread(v.bps), eventsPerSec: spread(v.eps), failed: v.failed };
  if (thr.keyhole && thr.direct) {
    throughput['keyhole / direct'] = { bytesPerSec: spread(thr.keyhole.bps.map((x, i) => x / thr.direct!.bps[i]!)), eventsPerSec: spread([]), failed: 0 };
  }
  return { events: P.sseEvents, intervalMs: P.sseIntervalMs, latency, throughput, throughputConcurrency: P.sseConcurrency };
}

interface TokenResults {
  connections: number;
  refreshPerSec: Spread;
  p50Ms: Spread;
  p99Ms: Spread;
  /** keyhole's CPU time (user + sys) per refresh: the figure to compare when the machine is busy. */
  cpuUsPerReq: Spread;
  failed: number;
}

/** Each request presents the next pre-minted, never-used refresh token of the keyhole's database. */
interface RefreshPool { next: number; max: number }
const sqliteRefresh: RefreshPool = { next: 0, max: P.refreshTokens };
const pgRefresh: RefreshPool = { next: 0, max: P.pgRefreshTokens };
function refreshLoad(keyhole: ServerChild, durationS: number, pool: RefreshPool = sqliteRefresh): Promise<HttpLoadResult> {
  const body = () => {
    const j = pool.next++;
    if (j >= pool.max) throw new Error('bench: out of pre-minted refresh tokens (raise refreshTokens)');
    return { body: `grant_type=refresh_token&client_id=${encodeURIComponent(ids.clientId)}&refresh_token=${ids.refreshToken(j)}` };
  };
  return httpLoad({ url: `${keyhole.url}/token`, connections: P.tokenConnections, durationS, headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, perRequest: body });
}

async function measureToken(keyhole: ServerChild, pool: RefreshPool = sqliteRefresh): Promise<TokenResults> {
  const run = (durationS: number) => refreshLoad(keyhole, durationS, pool);
  await run(P.warmupS / 2);
  const runs: Array<HttpLoadResult & { cpuUsPerReq: number }> = [];
  for (let rep = 0; rep < P.reps; rep++) {
    const c0 = keyhole.cpuUs();
    const r = await run(P.tokenDurationS);
    const cpuUsPerReq = (keyhole.cpuUs() - c0) / Math.max(1, r.ok + r.non2xx);
    warnIfFailed('token', r);
    runs.push({ ...r, cpuUsPerReq });
    log(`token rep ${rep + 1}/${P.reps}: ${r.rps.toFixed(0)} refresh/s, p50 ${r.p50Ms.toFixed(2)} ms, ${cpuUsPerReq.toFixed(0)} CPU µs/refresh (${pool.next.toLocaleString('en')} refresh tokens used)`);
  }
  return {
    connections: P.tokenConnections,
    refreshPerSec: spread(runs.map((r) => r.rps)),
    p50Ms: spread(runs.map((r) => r.p50Ms)),
    p99Ms: spread(runs.map((r) => r.p99Ms)),
    cpuUsPerReq: spread(runs.map((r) => r.cpuUsPerReq)),
    failed: runs.reduce((s, r) => s + r.non2xx + r.errors, 0),
  };
}

interface MemoryResults {
  grants: number;
  rssIdleMb: number;
  /** Right after the burst of one call per grant. */
  rssAllGrantsActiveMb: number;
  /** `settleS` seconds later, idle. */
  rssSettledMb: number;
  settleS: number;
  allGrantsHeapMb: { heapTotal: number; heapUsed: number };
  /** The bare pass-through's RSS, fresh and with the same number of open streams, for scale. */
  bareRssIdleMb: number;
  bareRssWithStreamsMb: number;
  touchRps: number;
  streamsRequested: number;
  streamsOpened: number;
  streamFailures: Record<string, number>;
  rssWithStreamsMb: number;
  heapUsedWithStreamsMb: number;
  /** process.memoryUsage() of keyhole at the end (MB): what part of the RSS is V8 heap, external memory, the rest. */
  breakdownMb: { heapTotal: number; heapUsed: number; external: number; arrayBuffers: number };
}

async function measureMemory(db: KeyholeDb, upstream: ServerChild): Promise<MemoryResults> {
  const mb = (b: number) => round(b / 1048576);
  const kh = await startKeyhole(db, `${upstream.url}/mcp`, 'keyhole-memory');
  await sleep(1000);
  const rssIdle = await kh.rss();
  log(`memory: fresh keyhole with ${grants.toLocaleString('en')} grants: RSS ${mb(rssIdle)} MB`);

  // The goal's scenario: 100k stored grants, 1,000 open SSE streams (each on its own grant).
  const streams = await openStreams(`${kh.url}/mcp/${ids.server}`, (i) => ids.accessToken(i), P.memoryStreams, 45_000);
  await sleep(500);
  const rssStreams = await kh.rss();
  const mem = await kh.memory();
  log(`memory: ${streams.opened}/${P.memoryStreams} SSE streams open through keyhole in ${(streams.openMs / 1000).toFixed(1)} s: RSS ${mb(rssStreams)} MB (V8 heap ${mb(mem.heapTotal)} MB, ${mb(mem.heapUsed)} used)${streams.failed ? `; failures ${JSON.stringify(streams.failures)}` : ''}`);
  streams.close();

  // Worst case on top: every grant makes one call in a burst, so the per-grant caches (upstream token,
  // last-touched) hold all of them.
  let g = 0;
  const touch = await httpLoad({
    url: `${kh.url}/mcp/${ids.server}`, connections: P.touchConnections, durationS: 600, amount: grants, body: TOOLS_CALL, headers: MCP_HEADERS,
    perRequest: () => ({ headers: { Authorization: `Bearer ${ids.accessToken(g++ % grants)}` } }),
  });
  warnIfFailed('memory touch', touch);
  await sleep(500);
  const rssActive = await kh.rss();
  const heapActive = await kh.memory();
  log(`memory: right after one call on each of the ${grants.toLocaleString('en')} grants (${touch.rps.toFixed(0)} req/s): RSS ${mb(rssActive)} MB (V8 heap ${mb(heapActive.heapTotal)} MB, ${mb(heapActive.heapUsed)} used)`);
  // V8 gives heap pages back only after a while without allocation (its memory reducer): read again once idle.
  await sleep(P.settleS * 1000);
  const rssSettled = await kh.rss();
  const heapSettled = await kh.memory();
  log(`memory: ${P.settleS} s later: RSS ${mb(rssSettled)} MB (V8 heap ${mb(heapSettled.heapTotal)} MB, ${mb(heapSettled.heapUsed)} used)`);
  await stop(kh);

  // For scale: the bare pass-through (no keyhole code, no store) holding the same streams.
  const bare = await start(startChild({ name: 'bare-memory', module: './bare-proxy.js', args: ['--mode', 'hono', '--upstream', `${upstream.url}/mcp`] }));
  await sleep(1000);
  const bareIdle = await bare.rss();
  const bareStreams = await openStreams(`${bare.url}/mcp`, (i) => ids.upstreamToken(i), P.memoryStreams, 45_000);
  await sleep(500);
  const bareWithStreams = await bare.rss();
  bareStreams.close();
  await stop(bare);
  log(`memory: bare pass-through: RSS ${mb(bareIdle)} MB fresh, ${mb(bareWithStreams)} MB with ${bareStreams.opened} open SSE streams`);
  return {
    bareRssIdleMb: mb(bareIdle), bareRssWithStreamsMb: mb(bareWithStreams),
    grants, rssIdleMb: mb(rssIdle),
    streamsRequested: P.memoryStreams, streamsOpened: streams.opened, streamFailures: streams.failures,
    rssWithStreamsMb: mb(rssStreams), heapUsedWithStreamsMb: mb(mem.heapUsed),
    breakdownMb: { heapTotal: mb(mem.heapTotal), heapUsed: mb(mem.heapUsed), external: mb(mem.external), arrayBuffers: mb(mem.arrayBuffers) },
    rssAllGrantsActiveMb: mb(rssActive), rssSettledMb: mb(rssSettled), settleS: P.settleS, touchRps: round(touch.rps),
    allGrantsHeapMb: { heapTotal: mb(heapSettled.heapTotal), heapUsed: mb(heapSettled.heapUsed) },
  };
}

interface LookupRow { grants: number; seedSeconds: number; dbMb: number; p50Us: Spread; p99Us: Spread; meanUs: Spread; withHashMeanUs: Spread; queryMeanUs?: Spread; queryP99Us?: Spread }
interface LookupResults {
  sizes: LookupRow[];
}

function lookupRow(r: LookupSize): LookupRow {
  const q = r.reps.every((x) => x.queryMeanUs !== undefined);
  return {
    grants: r.grants, seedSeconds: round(r.seedSeconds), dbMb: round(r.dbBytes / 1048576),
    p50Us: spread(r.reps.map((x) => x.p50Us)), p99Us: spread(r.reps.map((x) => x.p99Us)),
    meanUs: spread(r.reps.map((x) => x.meanUs)), withHashMeanUs: spread(r.reps.map((x) => x.withHashMeanUs)),
    ...(q ? { queryMeanUs: spread(r.reps.map((x) => x.queryMeanUs!)), queryP99Us: spread(r.reps.map((x) => x.queryP99Us!)) } : {}),
  };
}

async function measureLookups(): Promise<LookupResults> {
  const sizes: LookupResults['sizes'] = [];
  for (const size of P.lookupSizes) {
    const r: LookupSize = await measureLookup({ dir, size, samples: P.lookupSamples, reps: P.lookupReps, runId, log });
    sizes.push(lookupRow(r));
    log(`lookup ${size.toLocaleString('en')} grants: findAccess mean ${sizes.at(-1)!.meanUs.median.toFixed(2)} µs, p99 ${sizes.at(-1)!.p99Us.median.toFixed(2)} µs; statement alone mean ${sizes.at(-1)!.queryMeanUs?.median.toFixed(2)} µs`);
  }
  return { sizes };
}

interface PgResults {
  grants: number;
  /** tools/call at c=16, interleaved: raw proxy, keyhole on SQLite (100k grants), keyhole on PostgreSQL. */
  json: Record<string, { rps: Spread; p50Ms: Spread; cpuUsPerReq: Spread; failed: number }>;
  token: TokenResults;
  lookup: LookupRow[];
}

/** keyhole on PostgreSQL beside keyhole on SQLite: forwarded tools/call at c=16 (interleaved), refresh grants, lookups. */
async function measurePg(pgServer: PostgresServer, sqliteTargets: Target[], upstream: ServerChild): Promise<PgResults> {
  const url = await pgServer.createDatabase({ name: `keyhole_bench_${runId}` });
  const db = await seedKeyholeDb(url);
  const kh = await startKeyhole(db, `${upstream.url}/mcp`, 'keyhole-pg');
  const pgT: Target = { name: 'keyhole-pg', url: `${kh.url}/mcp/${ids.server}`, token: (i) => ids.accessToken(i), proxy: kh };
  const targets = [...sqliteTargets, pgT];
  for (const t of targets) await jsonLoad(t, 16, P.warmupS);
  const runs: Record<string, JsonRun[]> = {};
  for (let rep = 0; rep < P.reps; rep++) {
    for (const t of rotate(targets, rep)) {
      const r = await measuredJsonLoad(t, upstream, 16, P.jsonDurationS);
      warnIfFailed(`pg json ${t.name}`, r);
      (runs[t.name] ??= []).push(r);
    }
    log(`pg json rep ${rep + 1}/${P.reps} c=16: ${targets.map((t) => `${t.name} ${runs[t.name]!.at(-1)!.rps.toFixed(0)} req/s ${runs[t.name]!.at(-1)!.cpuUsPerReq.toFixed(0)} µs/req`).join(', ')}`);
  }
  const json: PgResults['json'] = {};
  for (const [name, rs] of Object.entries(runs)) {
    json[name] = { rps: spread(rs.map((r) => r.rps)), p50Ms: spread(rs.map((r) => r.p50Ms)), cpuUsPerReq: spread(rs.map((r) => r.cpuUsPerReq)), failed: rs.reduce((n, r) => n + r.non2xx + r.errors, 0) };
  }
  const k = runs['keyhole-pg']!;
  const raw = runs.raw;
  const sq = runs.keyhole;
  const none = spread([]);
  if (raw) json['keyhole-pg / raw'] = { rps: spread(k.map((r, i) => r.rps / raw[i]!.rps)), p50Ms: none, cpuUsPerReq: spread(k.map((r, i) => r.cpuUsPerReq / raw[i]!.cpuUsPerReq)), failed: 0 };
  if (sq) json['keyhole-pg / keyhole'] = { rps: spread(k.map((r, i) => r.rps / sq[i]!.rps)), p50Ms: none, cpuUsPerReq: spread(k.map((r, i) => r.cpuUsPerReq / sq[i]!.cpuUsPerReq)), failed: 0 };
  const token = await measureToken(kh, pgRefresh);
  await stop(kh);
  const lookup: LookupRow[] = [];
  // 1k grants in a database of their own; the largest size is keyhole's database above (seeding PostgreSQL one
  // statement at a time is slow: ~3k rows/s here).
  for (const size of [...P.pgLookupSizes, P.pgGrants]) {
    const own = size === P.pgGrants;
    const store = await createPostgresStore(own ? url : await pgServer.createDatabase({ name: `keyhole_lookup_${runId}_${size}` }));
    try {
      lookup.push(lookupRow(await measureStoreLookup({ store, size, samples: P.pgLookupSamples, reps: P.lookupReps, runId, log, label: 'pg', ...(own ? { seeded: ids } : {}) })));
      log(`lookup PostgreSQL ${size.toLocaleString('en')} grants: mean ${lookup.at(-1)!.meanUs.median.toFixed(1)} µs, p99 ${lookup.at(-1)!.p99Us.median.toFixed(1)} µs`);
    } finally {
      await store.close();
    }
  }
  return { grants: P.pgGrants, json, token, lookup };
}

// ---------------------------------------------------------------------------------------------------------------
// output

function machine() {
  let commit: string | null = null;
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    /* not a git checkout */
  }
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    totalMemMb: Math.round(totalmem() / 1048576),
    freeMemMbAtStart: Math.round(freemem() / 1048576),
    platform: `${platform()} ${release()}`,
    node: process.version,
    date: new Date().toISOString(),
    commit,
    /** 1/5/15-minute load averages at the start: anything well above 0 means other work shared the CPUs. */
    loadAvgAtStart: loadavg().map((x) => round(x)),
    loadAvgAtEnd: [] as number[],
  };
}

const fmt = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '–');
const cell = (s: Spread | undefined, d = 2, scale = 1) =>
  s && Number.isFinite(s.median) ? `${fmt(s.median * scale, d)} (${fmt(s.min * scale, d)}–${fmt(s.max * scale, d)})` : '–';
const pad = (x: string, n: number) => (x.length >= n ? x : x + ' '.repeat(n - x.length));

interface Results {
  machine: ReturnType<typeof machine>;
  quick: boolean;
  params: typeof P;
  json?: JsonResults;
  ladder?: LadderResults;
  sse?: SseResults;
  token?: TokenResults;
  memory?: MemoryResults;
  lookup?: LookupResults;
  pg?: PgResults;
  goals?: Goal[];
}

interface Goal {
  goal: string;
  measured: string;
  met: boolean | null;
}

/** The goals of issue 17, each against the raw node:http keep-alive proxy measured in the same run. */
function goals(r: Results): Goal[] {
  const out: Goal[] = [];
  for (const c of [16, 128]) {
    const m = r.json?.[`c=${c}`]?.['keyhole / raw'];
    if (m) out.push({ goal: `keyhole req/s ≥ 0.85× the raw proxy's, c=${c}`, measured: `${fmt(m.rps.median, 2)}× (${fmt(r.json![`c=${c}`]!.keyhole!.rps.median, 0)} vs ${fmt(r.json![`c=${c}`]!.raw!.rps.median, 0)} req/s)`, met: m.rps.median >= 0.85 });
  }
  for (const c of [16, 128]) {
    const m = r.json?.[`c=${c}`]?.['keyhole / raw'];
    if (m) out.push({ goal: `keyhole CPU µs/req ≤ 1.2× the raw proxy's, c=${c}`, measured: `${fmt(m.cpuUsPerReq.median, 2)}× (${fmt(r.json![`c=${c}`]!.keyhole!.cpuUsPerReq.median, 0)} vs ${fmt(r.json![`c=${c}`]!.raw!.cpuUsPerReq.median, 0)} µs)`, met: m.cpuUsPerReq.median <= 1.2 });
  }
  const c1 = r.json?.['c=1'];
  const added = c1?.['keyhole added / raw added'];
  if (c1 && added) {
    const k = c1['keyhole − direct']!.p50Ms.median;
    const raw = c1.raw!.p50Ms.median - c1.direct!.p50Ms.median;
    out.push({ goal: 'added latency at c=1 over direct ≤ 1.15× the raw proxy\'s (p50)', measured: `${fmt(added.p50Ms.median, 2)}× (+${fmt(k, 3)} vs +${fmt(raw, 3)} ms)`, met: added.p50Ms.median <= 1.15 });
  }
  const sse = r.sse?.latency['keyhole − direct'];
  if (sse) out.push({ goal: 'SSE relay keeps +0.13 ms p99 per event over direct', measured: `+${fmt(sse.p99Us.median / 1000, 3)} ms (p50 +${fmt(sse.p50Us.median / 1000, 3)} ms)`, met: sse.p99Us.median <= 130 });
  const batching = r.sse?.latency.keyhole?.eventsPerRead;
  if (batching) out.push({ goal: '  SSE: no batching (events per client read ≈ 1)', measured: `${fmt(batching.median, 2)} events/read`, met: batching.median <= 1.05 });
  if (r.token) out.push({ goal: 'refresh_token grants ≥ 2,000/s on SQLite', measured: `${fmt(r.token.refreshPerSec.median, 0)} /s`, met: r.token.refreshPerSec.median >= 2000 });
  if (r.pg) out.push({ goal: '  refresh_token grants on PostgreSQL (reported)', measured: `${fmt(r.pg.token.refreshPerSec.median, 0)} /s`, met: null });
  if (r.lookup && r.lookup.sizes.length >= 2) {
    const first = r.lookup.sizes[0]!;
    const last = r.lookup.sizes.at(-1)!;
    if (first.queryMeanUs && last.queryMeanUs) {
      const ratio = last.queryMeanUs.median / first.queryMeanUs.median;
      out.push({
        goal: `access-token lookup ${first.grants.toLocaleString('en')} → ${last.grants.toLocaleString('en')} grants ≤ 1.3× (the statement, mean)`,
        measured: `${fmt(first.queryMeanUs.median, 2)} → ${fmt(last.queryMeanUs.median, 2)} µs (${fmt(ratio, 2)}×)`, met: ratio <= 1.3,
      });
    }
    const ratio = last.meanUs.median / first.meanUs.median;
    out.push({ goal: '  findAccess through the store\'s lookup cache (reported: all 1k fit in the cache, 1M do not)', measured: `${fmt(first.meanUs.median, 2)} → ${fmt(last.meanUs.median, 2)} µs (${fmt(ratio, 2)}×)`, met: null });
  }
  if (r.pg?.lookup.length) {
    out.push({ goal: '  access-token lookup on PostgreSQL (reported)', measured: r.pg.lookup.map((l) => `${l.grants.toLocaleString('en')}: ${fmt(l.meanUs.median, 0)} µs`).join(', '), met: null });
  }
  if (r.memory) {
    const m = r.memory;
    const allOpen = m.streamsOpened === m.streamsRequested;
    out.push({
      goal: `RSS ≤ 150 MB with ${m.grants.toLocaleString('en')} grants and ${m.streamsRequested.toLocaleString('en')} open SSE streams`,
      measured: `${fmt(m.rssWithStreamsMb, 0)} MB${allOpen ? '' : ` (only ${m.streamsOpened} streams opened)`}`,
      met: allOpen && m.rssWithStreamsMb <= 150,
    });
    out.push({ goal: 'RSS ≤ 150 MB after a burst over all grants (all per-grant caches full)', measured: `${fmt(m.rssAllGrantsActiveMb, 0)} MB right after, ${fmt(m.rssSettledMb, 0)} MB ${m.settleS} s later`, met: m.rssAllGrantsActiveMb <= 150 && m.rssSettledMb <= 150 });
  }
  if (r.pg) {
    const x = r.pg.json['keyhole-pg / keyhole'];
    const y = r.pg.json['keyhole-pg / raw'];
    if (x && y) out.push({ goal: '  forwarded tools/call on PostgreSQL, c=16 (reported)', measured: `${fmt(r.pg.json['keyhole-pg']!.rps.median, 0)} req/s: ${fmt(x.rps.median, 2)}× keyhole on SQLite, ${fmt(y.rps.median, 2)}× raw`, met: null });
  }
  for (const c of P.concurrencies) {
    const m = r.json?.[`c=${c}`]?.['keyhole / bare'];
    if (m) out.push({ goal: `  (for reference) keyhole / bare Hono pass-through, c=${c}`, measured: `${fmt(m.rps.median, 2)}× req/s, ${fmt(m.cpuUsPerReq.median, 2)}× CPU`, met: null });
  }
  return out;
}

function table(r: Results): string {
  const L: string[] = [];
  const m = r.machine;
  L.push(`keyhole bench${r.quick ? ' (--quick: tiny sizes, figures not meaningful)' : ''} — ${m.date}`);
  L.push(`${m.cpu}, ${m.cores} cores, ${m.totalMemMb} MB RAM, ${m.platform}, Node ${m.node}${m.commit ? `, commit ${m.commit}` : ''}`);
  L.push(`every figure: median (min–max) over ${P.reps} interleaved repetitions; load average at start ${m.loadAvgAtStart.join(' ')}, at end ${m.loadAvgAtEnd.join(' ')}`);
  if (r.json) {
    L.push('', `1. tools/call, ~100-byte JSON-RPC request, JSON response (${P.jsonDurationS} s runs, one grant per connection)`);
    L.push('   cpu µs/req: CPU time (user+sys) of the proxy process per request (direct: of the upstream) — robust to machine noise');
    L.push(`   ${pad('mode', 21)}${pad('target', 17)}${pad('req/s', 24)}${pad('p50 ms', 24)}${pad('p99 ms', 26)}cpu µs/req`);
    for (const [mode, byT] of Object.entries(r.json)) {
      for (const [t, v] of Object.entries(byT)) {
        const ratio = t.includes('/');
        const d = ratio ? 2 : 3;
        L.push(`   ${pad(mode, 21)}${pad(t, 17)}${pad(cell(v.rps, ratio ? 2 : 0), 24)}${pad(cell(v.p50Ms, d), 24)}${pad(cell(v.p99Ms, d), 26)}${cell(v.cpuUsPerReq, ratio ? 2 : 0)}${v.failed ? `  (${v.failed} failed)` : ''}`);
      }
    }
  }
  if (r.ladder) {
    const x = r.ladder;
    L.push('', `1b. cost ladder: tools/call ${x.mode}, ${x.durationS} s runs, ${x.reps} interleaved repetition${x.reps === 1 ? "" : "s"}; each keyhole rung has one feature fewer than the one above`);
    L.push(`   ${pad('rung', 24)}${pad('req/s', 24)}${pad('cpu µs/req', 22)}${pad('cpu × raw', 20)}${pad('req/s × raw', 20)}${pad('step µs/req', 20)}the step: what this rung has that the next has not`);
    for (const g of x.rungs) {
      L.push(`   ${pad(g.name, 24)}${pad(cell(g.rps, 0), 24)}${pad(cell(g.cpuUsPerReq, 0), 22)}${pad(cell(g.cpuToRaw, 2), 20)}${pad(cell(g.rpsToRaw, 2), 20)}${pad(g.stepCpuUs.runs.length ? cell(g.stepCpuUs, 0) : '', 20)}${g.step}${g.failed ? `  (${g.failed} failed)` : ''}`);
    }
  }
  if (r.sse) {
    L.push('', `2. SSE: ${r.sse.events} progress notifications per call`);
    L.push(`   per-event latency (upstream send → client receive), one stream, events every ${r.sse.intervalMs} ms:`);
    L.push(`   ${pad('target', 18)}${pad('p50 µs', 26)}${pad('p99 µs', 26)}events per client read`);
    for (const [t, v] of Object.entries(r.sse.latency)) L.push(`   ${pad(t, 18)}${pad(cell(v.p50Us, 0), 26)}${pad(cell(v.p99Us, 0), 26)}${cell(v.eventsPerRead, 2)}`);
    L.push(`   throughput, unpaced events, ${r.sse.throughputConcurrency} concurrent streams, back-to-back calls:`);
    for (const [t, v] of Object.entries(r.sse.throughput)) {
      L.push(t.includes('/') ? `   ${pad(t, 18)}${cell(v.bytesPerSec, 2)}×` : `   ${pad(t, 18)}${pad(`${cell(v.bytesPerSec, 1, 1 / 1048576)} MiB/s`, 30)}${cell(v.eventsPerSec, 0)} events/s${v.failed ? `  (${v.failed} failed)` : ''}`);
    }
  }
  if (r.token) {
    L.push('', `3. POST /token grant_type=refresh_token (rotation; ${r.token.connections} connections)`);
    L.push(`   refresh/s ${cell(r.token.refreshPerSec, 0)}   p50 ${cell(r.token.p50Ms, 2)} ms   p99 ${cell(r.token.p99Ms, 2)} ms   cpu µs/refresh ${cell(r.token.cpuUsPerReq, 0)}${r.token.failed ? `  (${r.token.failed} failed)` : ''}`);
  }
  if (r.memory) {
    const x = r.memory;
    L.push('', `4. keyhole RSS (its own process), ${x.grants.toLocaleString('en')} stored grants`);
    L.push(`   fresh start ${fmt(x.rssIdleMb, 0)} MB · with ${x.streamsOpened}/${x.streamsRequested} open SSE streams ${fmt(x.rssWithStreamsMb, 0)} MB (V8 heap ${fmt(x.breakdownMb.heapTotal, 0)} MB, ${fmt(x.breakdownMb.heapUsed, 0)} used; external ${fmt(x.breakdownMb.external, 0)} MB)`);
    L.push(`   for scale, the bare pass-through: ${fmt(x.bareRssIdleMb, 0)} MB fresh, ${fmt(x.bareRssWithStreamsMb, 0)} MB with the same streams open`);
    L.push(`   worst case, then one call on every grant in a burst (${fmt(x.touchRps, 0)} req/s): ${fmt(x.rssAllGrantsActiveMb, 0)} MB, ${x.settleS} s later ${fmt(x.rssSettledMb, 0)} MB (V8 heap ${fmt(x.allGrantsHeapMb.heapTotal, 0)} MB, ${fmt(x.allGrantsHeapMb.heapUsed, 0)} used)`);
    if (x.streamsOpened < x.streamsRequested) L.push(`   streams that did not open: ${JSON.stringify(x.streamFailures)}`);
  }
  if (r.lookup) {
    L.push('', '5. grant lookup: await store.tokens.findAccess(hash), random hits (µs per call)');
    L.push(`   ${pad('grants', 12)}${pad('mean', 22)}${pad('p50', 22)}${pad('p99', 22)}${pad('+ sha256 (mean)', 22)}${pad('statement alone (mean)', 24)}seed`);
    for (const s of r.lookup.sizes) {
      L.push(`   ${pad(s.grants.toLocaleString('en'), 12)}${pad(cell(s.meanUs), 22)}${pad(cell(s.p50Us), 22)}${pad(cell(s.p99Us), 22)}${pad(cell(s.withHashMeanUs), 22)}${pad(cell(s.queryMeanUs), 24)}${fmt(s.seedSeconds, 1)} s, ${fmt(s.dbMb, 0)} MB`);
    }
  }
  if (r.pg) {
    L.push('', `6. keyhole on PostgreSQL (${r.pg.grants.toLocaleString('en')} grants) beside keyhole on SQLite (${grants.toLocaleString('en')}), tools/call c=16, interleaved`);
    for (const [t, v] of Object.entries(r.pg.json)) {
      const ratio = t.includes('/');
      L.push(`   ${pad(t, 24)}${pad(`${cell(v.rps, ratio ? 2 : 0)}${ratio ? '×' : ' req/s'}`, 30)}${ratio ? `cpu ${cell(v.cpuUsPerReq, 2)}×` : `cpu ${cell(v.cpuUsPerReq, 0)} µs/req`}`);
    }
    L.push(`   refresh_token grants on PostgreSQL: ${cell(r.pg.token.refreshPerSec, 0)} /s, p50 ${cell(r.pg.token.p50Ms, 2)} ms, keyhole cpu µs/refresh ${cell(r.pg.token.cpuUsPerReq, 0)}${r.pg.token.failed ? `  (${r.pg.token.failed} failed)` : ''}`);
    for (const l of r.pg.lookup) L.push(`   lookup ${pad(l.grants.toLocaleString('en'), 10)} mean ${cell(l.meanUs, 1)} µs, p99 ${cell(l.p99Us, 1)} µs`);
  }
  if (r.goals?.length) {
    L.push('', 'goals (issue 17, against the raw node:http proxy of the same run)');
    for (const g of r.goals) L.push(`   ${g.met === null ? '  ' : g.met ? 'ok' : 'NO'}  ${pad(g.goal, 80)}${g.measured}`);
  }
  return L.join('\n');
}

function roundDeep<T>(x: T): T {
  if (typeof x === 'number') return round(x) as T;
  if (Array.isArray(x)) return x.map(roundDeep) as T;
  if (x && typeof x === 'object') {
    const o = x as Record<string, unknown>;
    if ('min' in o && 'median' in o && 'max' in o && 'runs' in o) return roundSpread(o as unknown as Spread) as T;
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, roundDeep(v)])) as T;
  }
  return x;
}

// ---------------------------------------------------------------------------------------------------------------
// main

/** utime and stime (µs) and context switches of a process, from /proc (Linux). */
function procStats(pid: number): { userUs: number; sysUs: number; voluntary: number; involuntary: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const tick = 1e6 / 100;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const num = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  return { userUs: Number(f[11]) * tick, sysUs: Number(f[12]) * tick, voluntary: num('voluntary_ctxt_switches'), involuntary: num('nonvoluntary_ctxt_switches') };
}

/** `--profile [mcp|token]`: keyhole under --cpu-prof while serving tools/call (default) or refresh grants at c=16. */
async function profile(): Promise<void> {
  const arg = argv[argv.indexOf('--profile') + 1] ?? '';
  const what = ['token', 'bare', 'raw'].includes(arg) ? arg : 'mcp';
  const upstream = await startUpstream();
  const db = await seedKeyholeDb();
  const profDir = join(dir, 'profile');
  mkdirSync(profDir, { recursive: true });
  // `--syscalls`: no profiler; `strace -f -c` counts the proxy's system calls over the measured load instead.
  const SYSCALLS = argv.includes('--syscalls');
  const profArgs = SYSCALLS ? [] : ['--cpu-prof', '--cpu-prof-dir', profDir];
  const kh = what === 'bare' || what === 'raw'
    ? await start(startChild({ name: what, module: './bare-proxy.js', args: ['--mode', what === 'raw' ? 'raw' : 'hono', '--upstream', `${upstream.url}/mcp`], execArgv: profArgs }))
    : await startKeyhole(db, `${upstream.url}/mcp`, 'keyhole-profiled', profArgs);
  // The samples of the measured load only (start-up, seeding and warm-up left out): CLOCK_MONOTONIC µs, V8's clock.
  let window: ProfileWindow | undefined;
  if (what !== 'token') {
    const target: Target = what === 'mcp'
      ? { name: 'keyhole', url: `${kh.url}/mcp/${ids.server}`, token: (i) => ids.accessToken(i) }
      : { name: what as TargetName, url: `${kh.url}/mcp`, token: (i) => ids.upstreamToken(i) };
    await jsonLoad(target, 16, P.warmupS);
    if (SYSCALLS) {
      // First without strace: user and system CPU and context switches per request, from /proc.
      const before = procStats(kh.pid);
      const r0 = await jsonLoad(target, 16, P.profileS);
      const after = procStats(kh.pid);
      const n0 = r0.ok + r0.non2xx;
      const per = (k: keyof typeof before) => ((after[k] - before[k]) / n0).toFixed(2);
      process.stdout.write(`${what} without strace: ${r0.rps.toFixed(0)} req/s; per request: user ${per('userUs')} µs, system ${per('sysUs')} µs, voluntary context switches ${per('voluntary')}, involuntary ${per('involuntary')}\n`);
      if (argv.includes('--no-strace')) {
        await stop(kh);
        return;
      }
    }
    const straceOut = join(dir, 'strace.txt');
    const tracer = SYSCALLS ? spawn('strace', ['-f', '-c', '-o', straceOut, '-p', String(kh.pid)], { stdio: 'ignore' }) : undefined;
    if (tracer) await new Promise((r) => setTimeout(r, 500));
    const c0 = kh.cpuUs();
    const fromUs = Number(process.hrtime.bigint() / 1000n);
    const r = await jsonLoad(target, 16, P.profileS);
    window = { fromUs, toUs: Number(process.hrtime.bigint() / 1000n) };
    log(`profile: ${what} tools/call c=16 ${SYSCALLS ? 'under strace' : 'under --cpu-prof'}: ${r.rps.toFixed(0)} req/s, p50 ${r.p50Ms.toFixed(3)} ms, ${((kh.cpuUs() - c0) / (r.ok + r.non2xx)).toFixed(0)} CPU µs/req`);
    if (tracer) {
      const exited = new Promise((r) => tracer.once('exit', r));
      tracer.kill('SIGINT');
      await exited;
      const n = r.ok + r.non2xx;
      const lines = readFileSync(straceOut, 'utf8').split('\n');
      const perReq = lines.flatMap((l) => {
        const m = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:(\d+)\s+)?(\w+)\s*$/.exec(l);
        return m ? [`${m[3]!.padEnd(16)} ${(Number(m[1]) / n).toFixed(2).padStart(8)} /req${m[2] ? `  (${(Number(m[2]) / n).toFixed(2)} errors/req)` : ''}`] : [];
      });
      process.stdout.write(lines.slice(0, 8).join('\n') + '\n');
      process.stdout.write(`strace -f -c of ${what} over ${n} requests (calls per request; the warm-up excluded):\n${perReq.join('\n')}\n`);
      await stop(kh);
      return;
    }
  } else {
    await refreshLoad(kh, P.warmupS / 2);
    const c0 = kh.cpuUs();
    const fromUs = Number(process.hrtime.bigint() / 1000n);
    const r = await refreshLoad(kh, P.profileS);
    window = { fromUs, toUs: Number(process.hrtime.bigint() / 1000n) };
    log(`profile: keyhole /token refresh c=${P.tokenConnections} under --cpu-prof: ${r.rps.toFixed(0)} req/s, p50 ${r.p50Ms.toFixed(3)} ms, ${((kh.cpuUs() - c0) / (r.ok + r.non2xx)).toFixed(0)} CPU µs/req; samples of the load only: --window ${window.fromUs},${window.toUs}`);
  }
  await stop(kh);
  const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error('no .cpuprofile written');
  mkdirSync(resultsDir, { recursive: true });
  const dest = join(resultsDir, `${what === 'mcp' ? 'keyhole' : what}.cpuprofile`);
  copyFileSync(join(profDir, file), dest);
  const split = what === 'token' ? `\n\ntoken endpoint phases (first matching rule wins, bench/lib/cpuprofile.ts TOKEN_PHASES):\n${formatSplit(splitCpuProfile(dest, TOKEN_PHASES, window))}` : '';
  const text = formatProfile(summariseCpuProfile(dest, 25, window)) + split;
  writeFileSync(join(resultsDir, `profile-${what}.txt`), `${text}\n`);
  process.stdout.write(`${text}\n\nprofile written to bench/results/${what === 'mcp' ? 'keyhole' : what}.cpuprofile (open in Chrome DevTools), summary in bench/results/profile-${what}.txt\n`);
}

async function main(): Promise<void> {
  log(`${QUICK ? 'quick run' : 'full run'} in ${dir}`);
  if (PROFILE) return profile();
  const results: Results = { machine: machine(), quick: QUICK, params: P };
  const needStack = enabled('json') || enabled('ladder') || enabled('sse') || enabled('token') || enabled('memory') || enabled('pg');
  if (needStack) {
    const upstream = await startUpstream();
    const db = await seedKeyholeDb();
    // Copied before any keyhole writes to the file.
    const ladderDbs = enabled('ladder') ? LADDER.map((l) => copyKeyholeDb(db, l.name)) : [];
    if (enabled('json') || enabled('ladder') || enabled('sse') || enabled('token') || enabled('pg')) {
      const upstreamMcp = `${upstream.url}/mcp`;
      // The ladder's keyholes start with the others (idle until the ladder runs): same publicUrl as the seeded grants'
      // resource (`db.port`), each listening on a port of its own.
      const startLadder = () => Promise.all(LADDER.map(async (l, i) => {
        const child = await startKeyhole({ ...ladderDbs[i]!, port: await freePort() }, upstreamMcp, l.name, [], { ...l.variant, publicUrl: db.publicUrl });
        return { name: l.name, url: `${child.url}/mcp/${ids.server}`, token: (j: number) => ids.accessToken(j), proxy: child } satisfies Target;
      }));
      const [raw, bare, kh, rungs] = await Promise.all([
        start(startChild({ name: 'raw', module: './bare-proxy.js', args: ['--mode', 'raw', '--upstream', upstreamMcp] })),
        start(startChild({ name: 'bare', module: './bare-proxy.js', args: ['--mode', 'hono', '--upstream', upstreamMcp] })),
        startKeyhole(db, upstreamMcp, 'keyhole'),
        enabled('ladder') ? startLadder() : Promise.resolve([]),
      ]);
      const up = (name: TargetName, url: string, proxy?: ServerChild): Target => ({ name, url, token: (i) => ids.upstreamToken(i), ...(proxy ? { proxy } : {}) });
      const direct = up('direct', upstreamMcp);
      const rawT = up('raw', `${raw.url}/mcp`, raw);
      const bareT = up('bare', `${bare.url}/mcp`, bare);
      const khT: Target = { name: 'keyhole', url: `${kh.url}/mcp/${ids.server}`, token: (i) => ids.accessToken(i), proxy: kh };
      if (enabled('json')) results.json = await measureJson([direct, rawT, bareT, khT], upstream);
      if (enabled('ladder')) {
        results.ladder = await measureLadder([khT, ...rungs, bareT, rawT], upstream, new Set(results.json ? [rawT, bareT, khT] : []));
        await Promise.all(rungs.map((t) => stop(t.proxy)));
      }
      if (enabled('sse')) results.sse = await measureSse([direct, bareT, khT]);
      if (enabled('token')) results.token = await measureToken(kh);
      if (enabled('pg')) {
        let pgServer: PostgresServer | undefined;
        try {
          pgServer = await startPostgres();
          results.pg = await measurePg(pgServer, [rawT, khT], upstream);
        } finally {
          await pgServer?.stop();
        }
      }
      await Promise.all([stop(raw), stop(bare), stop(kh)]);
    }
    if (enabled('memory')) results.memory = await measureMemory(db, upstream);
    await stop(upstream);
  }
  if (enabled('lookup')) results.lookup = await measureLookups();
  results.goals = goals(results);
  results.machine.loadAvgAtEnd = loadavg().map((x) => round(x));
  const rounded = roundDeep(results);
  mkdirSync(resultsDir, { recursive: true });
  // A --quick or partial run must not replace the figures of the last full run.
  const out = QUICK ? 'quick.json' : ONLY.size ? 'partial.json' : 'latest.json';
  writeFileSync(join(resultsDir, out), `${JSON.stringify(rounded, null, 2)}\n`);
  process.stdout.write(`\n${table(results)}\n\nwritten to bench/results/${out} (${((performance.now() - t0) / 1000).toFixed(0)} s)\n`);
}

try {
  await main();
} finally {
  await cleanup();
}
