/**
 * Rate limits (issue 15): token buckets per person, per client, per tool pattern (`tools/call` only, per person)
 * and per upstream, plus a concurrency gate per upstream. The same shape at the top level of the config applies
 * across all servers and refuses with `limit_type: "global"`.
 *
 * `check` is all-or-nothing: the gates are acquired first (and released again on a refusal), then one token is
 * taken from every bucket that applies, or from none (see bucket-store.ts). A refusal names the bucket with the
 * longest wait, so retrying after `retry_after` seconds is not refused again by another bucket of this request.
 */
import type { LimitsConfig, RateLimitConfig } from '../config/policy-schema.js';
import { createMemoryBucketStore, type BucketSpec, type BucketStore, type TakeResult } from './bucket-store.js';
import { createConcurrencyGate, type ConcurrencyGate } from './concurrency-gate.js';
import { toolIndex } from './glob.js';
import type { RateLimitData } from './jsonrpc-errors.js';

export interface LimitsRequest {
  /** The person (identity), or the grant's upstream subject until people exist. */
  person: string;
  clientId: string;
  /** The tool of a `tools/call`; absent for every other method. */
  tool?: string | undefined;
}

export type LimitDecision = { ok: true; release: () => void } | { ok: false; data: RateLimitData };

export interface ServerLimiter {
  /** False when neither this server nor the global config sets a limit: `check` is then a constant. */
  readonly active: boolean;
  check(req: LimitsRequest): LimitDecision | Promise<LimitDecision>;
}

export interface RateLimits {
  forServer(server: string, limits: LimitsConfig | undefined): ServerLimiter;
  readonly store: BucketStore;
}

type LimitType = RateLimitData['limit_type'];
interface Window { count: number; ms: number; label: string }
/** One bucket of a rate, with what a refusal reports. */
interface BucketRule { suffix: string; capacity: number; refillPerMs: number; limit: number; window: string; type: LimitType }

const WINDOWS: ReadonlyArray<[keyof RateLimitConfig, number, string]> = [
  ['requestsPerSecond', 1_000, '1s'],
  ['requestsPerMinute', 60_000, '60s'],
  ['requestsPerHour', 3_600_000, '1h'],
  ['requestsPerDay', 86_400_000, '1d'],
];

/**
 * A rate → one bucket per window; `burst` sizes the smallest window's bucket. `share` (1 / instances) scales the
 * bucket to this instance's part of the deployment-wide limit (at least 1 token); a refusal still reports the
 * configured `limit`.
 */
function bucketRules(rate: { burst?: number | undefined } & Partial<Record<keyof RateLimitConfig, number | undefined>>, type: LimitType, share = 1): BucketRule[] {
  const windows: Window[] = [];
  for (const [field, ms, label] of WINDOWS) {
    const count = rate[field];
    if (count !== undefined) windows.push({ count, ms, label });
  }
  if (windows.length === 0) throw new TypeError('a rate needs at least one window');
  return windows.map((w, i) => ({
    suffix: `|${w.label}`,
    capacity: Math.max(1, (i === 0 && rate.burst !== undefined ? rate.burst : w.count) * share),
    refillPerMs: (w.count * share) / w.ms,
    limit: w.count,
    window: w.label,
    type,
  }));
}

const NOOP = (): void => {};
const ALLOW: LimitDecision = Object.freeze({ ok: true, release: NOOP });

interface Compiled {
  person: BucketRule[];
  client: BucketRule[];
  /** Fixed keys: built once. */
  upstream: BucketSpec[];
  upstreamRules: BucketRule[];
  tools: (tool: string) => ReadonlyArray<{ rules: BucketRule[]; index: number }>;
  toolCount: number;
  gate: ConcurrencyGate | null;
  prefix: string;
  global: boolean;
}

function compile(limits: LimitsConfig | undefined, prefix: string, global: boolean, instances: number): Compiled {
  const t = (type: LimitType): LimitType => (global ? 'global' : type);
  const share = 1 / instances;
  const upstreamRules = limits?.upstream && (limits.upstream.requestsPerSecond || limits.upstream.requestsPerMinute) ? bucketRules(limits.upstream, t('per_upstream'), share) : [];
  return {
    person: limits?.perPerson ? bucketRules(limits.perPerson, t('per_person'), share) : [],
    client: limits?.perClient ? bucketRules(limits.perClient, t('per_client'), share) : [],
    upstream: upstreamRules.map((r) => ({ key: `${prefix}u${r.suffix}`, capacity: r.capacity, refillPerMs: r.refillPerMs })),
    upstreamRules,
    tools: toolIndex(Object.entries(limits?.tools ?? {}).map(([pattern, rate], index) => ({ pattern, value: { rules: bucketRules(rate, t('per_tool'), share), index } }))),
    toolCount: Object.keys(limits?.tools ?? {}).length,
    gate: limits?.upstream?.maxConcurrent ? createConcurrencyGate(Math.max(1, Math.ceil(limits.upstream.maxConcurrent / instances))) : null,
    prefix,
    global,
  };
}

function pushRules(specs: BucketSpec[], out: BucketRule[], rules: readonly BucketRule[], key: string): void {
  for (const rule of rules) {
    specs.push({ key: key + rule.suffix, capacity: rule.capacity, refillPerMs: rule.refillPerMs });
    out.push(rule);
  }
}

const isEmpty = (c: Compiled): boolean => !c.person.length && !c.client.length && !c.upstream.length && !c.gate && c.toolCount === 0;

/**
 * `instances` (config `instances`, default 1): how many keyhole instances share the deployment. Buckets live in this
 * instance's memory, so each enforces `limit / instances` (concurrency: `ceil(maxConcurrent / instances)`): the
 * documented approximation of a shared limit (docs/architecture.md, "Several instances").
 */
export function createRateLimits(options: { global?: LimitsConfig | undefined; store?: BucketStore; now: () => number; instances?: number }): RateLimits {
  const { now } = options;
  if (typeof now !== 'function') throw new TypeError('now must be a function');
  const instances = options.instances ?? 1;
  if (!Number.isInteger(instances) || instances < 1) throw new TypeError('instances must be a positive integer');
  const store = options.store ?? createMemoryBucketStore();
  const global = compile(options.global, 'g|', true, instances);

  return {
    store,
    forServer(server, limits) {
      const local = compile(limits, `s|${server}|`, false, instances);
      const levels = [global, local].filter((c) => !isEmpty(c));
      if (levels.length === 0) return { active: false, check: () => ALLOW };

      return {
        active: true,
        check(req) {
          // 1. Gates (cheap and reversible).
          let releases: Array<() => void> | null = null;
          for (const c of levels) {
            if (!c.gate) continue;
            const release = c.gate.tryAcquire();
            if (!release) {
              releases?.forEach((r) => r());
              return { ok: false, data: { limit_type: c.global ? 'global' : 'per_upstream', retry_after: 1, limit: c.gate.max, window: 'concurrent' } };
            }
            (releases ??= []).push(release);
          }
          // 2. Buckets, all or nothing. `rules[i]` says what a refusal of `specs[i]` reports.
          const specs: BucketSpec[] = [];
          const rules: BucketRule[] = [];
          let toolFrom = -1;
          for (const c of levels) {
            for (let i = 0; i < c.upstream.length; i++) {
              specs.push(c.upstream[i]!);
              rules.push(c.upstreamRules[i]!);
            }
            if (c.person.length) pushRules(specs, rules, c.person, `${c.prefix}p|${req.person}`);
            if (c.client.length) pushRules(specs, rules, c.client, `${c.prefix}c|${req.clientId}`);
          }
          if (req.tool !== undefined) {
            toolFrom = specs.length;
            for (const c of levels) {
              if (c.toolCount === 0) continue;
              for (const t of c.tools(req.tool)) pushRules(specs, rules, t.rules, `${c.prefix}t${t.index}|${req.person}`);
            }
          }
          const release = releases === null ? NOOP : releases.length === 1 ? releases[0]! : () => releases!.forEach((r) => r());
          if (specs.length === 0) return releases === null ? ALLOW : { ok: true, release };
          const decide = (r: TakeResult): LimitDecision => {
            if (r.ok) return { ok: true, release };
            release();
            const rule = rules[r.index]!;
            const data: RateLimitData = { limit_type: rule.type, retry_after: Math.max(1, Math.ceil(r.retryAfterMs / 1000 - 1e-6)), limit: rule.limit, window: rule.window };
            if (toolFrom >= 0 && r.index >= toolFrom) data.tool = req.tool!;
            return { ok: false, data };
          };
          let result: TakeResult | Promise<TakeResult>;
          try {
            result = store.takeAll(specs, now());
          } catch (e) {
            release();
            throw e;
          }
          if (result instanceof Promise) {
            return result.then(decide, (e: unknown) => {
              release();
              throw e;
            });
          }
          return decide(result);
        },
      };
    },
  };
}
