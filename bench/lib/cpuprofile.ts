/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`): self time per function, self time per package/area,
 * and inclusive time of keyhole's own functions.
 */
import { readFileSync } from 'node:fs';

export interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileRow {
  name: string;
  ms: number;
  /** Share of non-idle time. */
  pct: number;
}

export interface ProfileSummary {
  totalMs: number;
  busyMs: number;
  topSelf: ProfileRow[];
  byArea: ProfileRow[];
  /** Inclusive time of keyhole's functions (src/), i.e. with everything they call. */
  keyholeInclusive: ProfileRow[];
}

function shortUrl(url: string): string {
  if (!url) return '';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) return url.slice(nm + 14);
  const src = url.indexOf('/dist-bench/');
  if (src >= 0) return url.slice(src + 12);
  return url.replace(/^file:\/\//, '');
}

export function areaOf(cf: CallFrame): string {
  const u = cf.url;
  if (!u) {
    if (cf.functionName.startsWith('(')) return cf.functionName; // (garbage collector), (program), (idle), (root)
    return '(native: V8 builtins, addons)';
  }
  if (u.includes('/node_modules/@hono/node-server/')) return '@hono/node-server';
  if (u.includes('/node_modules/hono/')) return 'hono';
  if (u.includes('/node_modules/better-sqlite3/')) return 'better-sqlite3 (JS)';
  if (u.includes('/node_modules/jose/')) return 'jose';
  if (u.includes('/node_modules/zod/')) return 'zod';
  if (u.includes('/node_modules/')) return 'other packages';
  if (u.includes('/dist-bench/src/')) return 'keyhole src/';
  if (u.includes('/dist-bench/')) return 'bench/';
  if (/^node:(internal\/)?(_http|http)|internal\/http/.test(u)) return 'node: http';
  if (/internal\/streams|node:stream/.test(u)) return 'node: streams';
  if (/node:net|stream_base_commons|internal\/net/.test(u)) return 'node: net';
  if (/internal\/url|node:url/.test(u)) return 'node: url';
  if (/internal\/(process\/task_queues|timers)|node:timers/.test(u)) return 'node: timers/microtasks';
  if (/internal\/webstreams|internal\/deps\/undici|node:internal\/fetch/.test(u)) return 'node: web streams/undici';
  if (/internal\/crypto|node:crypto/.test(u)) return 'node: crypto';
  if (u.startsWith('node:')) return 'node: other';
  return 'other';
}

function keyOf(cf: CallFrame): string {
  return `${cf.functionName || '(anonymous)'} ${shortUrl(cf.url)}${cf.url ? `:${cf.lineNumber + 1}` : ''}`;
}

/**
 * A time window in CLOCK_MONOTONIC microseconds (`process.hrtime.bigint() / 1000n` in any process of the machine: V8
 * stamps profile samples with the same clock), to leave start-up and warm-up out of a summary.
 */
export interface ProfileWindow { fromUs: number; toUs: number }

/** Sample i's timestamp is startTime plus the deltas up to i; true when it falls inside the window (or there is none). */
function inWindow(p: CpuProfile, window: ProfileWindow | undefined): (i: number) => boolean {
  if (!window) return () => true;
  const at: number[] = new Array<number>(p.samples.length);
  let t = p.startTime;
  for (let i = 0; i < p.samples.length; i++) { t += p.timeDeltas[i] ?? 0; at[i] = t; }
  return (i) => at[i]! >= window.fromUs && at[i]! <= window.toUs;
}

/** The profile, its nodes by id, and each node's parent id. */
function loadProfile(file: string): { p: CpuProfile; byId: Map<number, ProfileNode>; parent: Map<number, number> } {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of p.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  return { p, byId, parent };
}

export function summariseCpuProfile(file: string, top = 25, window?: ProfileWindow): ProfileSummary {
  const { p, byId, parent } = loadProfile(file);
  const self = new Map<string, number>();
  const area = new Map<string, number>();
  const incl = new Map<string, number>();
  let totalUs = 0;
  let idleUs = 0;
  const inside = inWindow(p, window);
  // timeDeltas[i] is the time since the previous sample: attribute timeDeltas[i+1] to sample i.
  for (let i = 0; i < p.samples.length; i++) {
    if (!inside(i)) continue;
    const dt = p.timeDeltas[i + 1] ?? 0;
    const node = byId.get(p.samples[i]!);
    if (!node) continue;
    totalUs += dt;
    const cf = node.callFrame;
    if (cf.functionName === '(idle)') {
      idleUs += dt;
      continue;
    }
    const k = keyOf(cf);
    self.set(k, (self.get(k) ?? 0) + dt);
    const a = areaOf(cf);
    area.set(a, (area.get(a) ?? 0) + dt);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const f = byId.get(id)!.callFrame;
      if (!f.url.includes('/dist-bench/src/')) continue;
      const fk = keyOf(f);
      if (seen.has(fk)) continue;
      seen.add(fk);
      incl.set(fk, (incl.get(fk) ?? 0) + dt);
    }
  }
  const busyUs = totalUs - idleUs;
  const rows = (m: Map<string, number>, n: number): ProfileRow[] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => ({ name, ms: Math.round(us / 100) / 10, pct: Math.round((us / busyUs) * 1000) / 10 }));
  return { totalMs: totalUs / 1000, busyMs: busyUs / 1000, topSelf: rows(self, top), byArea: rows(area, 40), keyholeInclusive: rows(incl, top) };
}

export function formatProfile(s: ProfileSummary): string {
  const lines: string[] = [];
  const pad = (x: string, n: number) => (x.length >= n ? x : x + ' '.repeat(n - x.length));
  lines.push(`profile: ${s.totalMs.toFixed(0)} ms sampled, ${s.busyMs.toFixed(0)} ms busy (percentages are of busy time)`);
  lines.push('', 'self time by area:');
  for (const r of s.byArea) lines.push(`  ${pad(r.name, 34)} ${r.pct.toFixed(1).padStart(5)} %  ${r.ms.toFixed(0).padStart(6)} ms`);
  lines.push('', 'top self-time functions:');
  for (const r of s.topSelf) lines.push(`  ${r.pct.toFixed(1).padStart(5)} %  ${r.name}`);
  lines.push('', 'keyhole functions, inclusive time:');
  for (const r of s.keyholeInclusive) lines.push(`  ${r.pct.toFixed(1).padStart(5)} %  ${r.name}`);
  return lines.join('\n');
}

/**
 * The token endpoint's phases (issue 17), for `--split token`: each busy sample goes to the phase of the first rule,
 * in this order, that matches any frame of its stack (so the statements client authentication runs count as client
 * authentication, the hashing inside the rotation's transaction as hashing, and so on).
 */
export const TOKEN_PHASES: ReadonlyArray<readonly [string, (cf: CallFrame) => boolean]> = [
  ['event writes (recorder, queue, client use)', (f) => /\/src\/events\/|\/client-usage\.js|\/store\/(sqlite|postgres)\/events\.js/.test(f.url)
    || (f.functionName === 'touch' && /\/clients\.js/.test(f.url)) || (f.functionName === 'record' && /\/src\/keyhole\.js/.test(f.url))],
  ['client authentication', (f) => /\/authorization-server\/client-(auth|id-metadata)\.js/.test(f.url)],
  ['token generation / hashing', (f) => /\/store\/crypto\/hash\.js/.test(f.url)],
  ['store: transaction and statements', (f) => /\/src\/store\/|\/node_modules\/(better-sqlite3|pg|pg-pool|pg-protocol)\//.test(f.url)],
  ['body parsing (readForm)', (f) => /\/src\/http\/read-form\.js/.test(f.url)],
  ['JSON / response write', (f) => /node:_http_outgoing|stream_base_commons|node:net$/.test(f.url) || f.functionName === 'writev'
    || (f.functionName === 'json' && /\/hono\//.test(f.url)) || /^response/.test(f.functionName)],
  ['rotation / grant rules (own code)', (f) => /\/src\/(grants|oauth|authorization-server)\//.test(f.url)],
  ['Hono routing, middleware, node http parsing', (f) => /\/node_modules\/(hono|@hono)\/|node:_http_|\/src\/http\/|\/src\/app\.js|\/src\/keyhole\.js/.test(f.url)],
  ['garbage collector', (f) => f.functionName === '(garbage collector)'],
];

/** Busy time split into phases (first matching rule wins; the rest is "other"). */
export function splitCpuProfile(file: string, phases: ReadonlyArray<readonly [string, (cf: CallFrame) => boolean]>, window?: ProfileWindow): ProfileRow[] {
  const { p, byId, parent } = loadProfile(file);
  const phaseOfNode = new Map<number, string>();
  const phaseOf = (leaf: ProfileNode): string => {
    const cached = phaseOfNode.get(leaf.id);
    if (cached) return cached;
    const frames: CallFrame[] = [];
    for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) frames.push(byId.get(id)!.callFrame);
    const hit = phases.find(([, test]) => frames.some(test));
    const name = hit ? hit[0] : 'other (node internals, microtasks, timers, startup)';
    phaseOfNode.set(leaf.id, name);
    return name;
  };
  const out = new Map<string, number>();
  let busyUs = 0;
  const inside = inWindow(p, window);
  for (let i = 0; i < p.samples.length; i++) {
    if (!inside(i)) continue;
    const dt = p.timeDeltas[i + 1] ?? 0;
    const node = byId.get(p.samples[i]!);
    if (!node || node.callFrame.functionName === '(idle)') continue;
    busyUs += dt;
    const k = phaseOf(node);
    out.set(k, (out.get(k) ?? 0) + dt);
  }
  return [...out.entries()].sort((a, b) => b[1] - a[1])
    .map(([name, us]) => ({ name, ms: Math.round(us / 100) / 10, pct: Math.round((us / busyUs) * 1000) / 10 }));
}

export function formatSplit(rows: readonly ProfileRow[]): string {
  const lines = ['| phase | % of busy | ms |', '|---|---|---|'];
  for (const r of rows) lines.push(`| ${r.name} | ${r.pct.toFixed(1)} % | ${r.ms.toFixed(0)} |`);
  return lines.join('\n');
}

/** The `n` functions with the most self time, as a Markdown table (bench/results/profile-*.md). */
export function formatTopSelf(s: ProfileSummary, n = 10): string {
  const lines = ['| # | self % of busy | self ms | function |', '|---|---|---|---|'];
  s.topSelf.slice(0, n).forEach((r, i) => lines.push(`| ${i + 1} | ${r.pct.toFixed(1)} % | ${r.ms.toFixed(0)} | \`${r.name.trim() || '(anonymous)'}\` |`));
  return lines.join('\n');
}

// `node dist-bench/bench/lib/cpuprofile.js <file.cpuprofile> [--top N | --split token]`: the whole summary, only the
// top N self-time functions as a Markdown table, or the token endpoint's phases as a Markdown table.
// `--window FROM,TO` (CLOCK_MONOTONIC µs, as printed by `--profile`) keeps only the samples of the measured load.
if (process.argv[1]?.endsWith('cpuprofile.js') && process.argv[2]) {
  const topAt = process.argv.indexOf('--top');
  const windowAt = process.argv.indexOf('--window');
  const [fromUs, toUs] = windowAt > 0 ? (process.argv[windowAt + 1] ?? '').split(',').map(Number) : [];
  const window = fromUs !== undefined && toUs !== undefined && Number.isFinite(fromUs) && Number.isFinite(toUs) ? { fromUs, toUs } : undefined;
  if (process.argv.includes('--split')) {
    process.stdout.write(`${formatSplit(splitCpuProfile(process.argv[2], TOKEN_PHASES, window))}\n`);
  } else {
    const summary = summariseCpuProfile(process.argv[2], 25, window);
    process.stdout.write(`${topAt > 0 ? formatTopSelf(summary, Number(process.argv[topAt + 1]) || 10) : formatProfile(summary)}\n`);
  }
}
