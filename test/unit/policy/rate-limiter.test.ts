import { describe, expect, it } from 'vitest';
import { createRateLimits, type LimitDecision } from '../../../src/policy/rate-limiter.js';
import { createMemoryBucketStore, type BucketStore } from '../../../src/policy/bucket-store.js';
import { rateLimitedError } from '../../../src/policy/jsonrpc-errors.js';
import { limitsSchema } from '../../../src/config/policy-schema.js';

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => { t += ms; } };
}
const sync = (d: LimitDecision | Promise<LimitDecision>): LimitDecision => {
  if (d instanceof Promise) throw new Error('expected a synchronous decision');
  return d;
};
const alice = { person: 'alice', clientId: 'c1' };

describe('rate-limiter', () => {
  it('is inactive and allocates nothing when no limit is configured', () => {
    const limits = createRateLimits({ now: () => 0 });
    const s = limits.forServer('demo', undefined);
    expect(s.active).toBe(false);
    expect(sync(s.check(alice))).toBe(sync(s.check({ person: 'bob', clientId: 'c2', tool: 'x' })));
    expect(limits.store.size()).toBe(0);
  });

  it('allows the burst, then refuses per person with retry_after from the refill rate', () => {
    const c = clock();
    const s = createRateLimits({ now: c.now }).forServer('demo', { perPerson: { requestsPerMinute: 60, burst: 3 } });
    for (let i = 0; i < 3; i++) expect(sync(s.check(alice)).ok).toBe(true);
    expect(sync(s.check(alice))).toEqual({ ok: false, data: { limit_type: 'per_person', retry_after: 1, limit: 60, window: '60s' } });
    // another person has their own bucket
    expect(sync(s.check({ person: 'bob', clientId: 'c1' })).ok).toBe(true);
    c.advance(1_000); // 60/min = one token per second
    expect(sync(s.check(alice)).ok).toBe(true);
    expect(sync(s.check(alice)).ok).toBe(false);
  });

  it('reports retry_after as whole seconds rounded up (30/min → 2 s per token)', () => {
    const c = clock();
    const s = createRateLimits({ now: c.now }).forServer('demo', { perClient: { requestsPerMinute: 30, burst: 1 } });
    expect(sync(s.check(alice)).ok).toBe(true);
    c.advance(500);
    expect(sync(s.check(alice))).toEqual({ ok: false, data: { limit_type: 'per_client', retry_after: 2, limit: 30, window: '60s' } });
  });

  it('counts tool limits only for tools/call of a matching tool, shared by the pattern, per person', () => {
    const c = clock();
    const s = createRateLimits({ now: c.now }).forServer('demo', { tools: { 'execute_*': { requestsPerMinute: 2 } } });
    expect(sync(s.check({ ...alice, tool: 'execute_code' })).ok).toBe(true);
    expect(sync(s.check({ ...alice, tool: 'execute_sql' })).ok).toBe(true);
    expect(sync(s.check({ ...alice, tool: 'execute_code' }))).toEqual({ ok: false, data: { limit_type: 'per_tool', tool: 'execute_code', retry_after: 30, limit: 2, window: '60s' } });
    expect(sync(s.check({ ...alice, tool: 'read_file' })).ok).toBe(true);
    expect(sync(s.check(alice)).ok).toBe(true); // not a tools/call
    expect(sync(s.check({ person: 'bob', clientId: 'c1', tool: 'execute_code' })).ok).toBe(true);
  });

  it('applies every window of a rate: requestsPerDay refuses once the day is spent', () => {
    const c = clock();
    const s = createRateLimits({ now: c.now }).forServer('demo', { tools: { 'execute_*': { requestsPerMinute: 30, requestsPerDay: 3 } } });
    for (let i = 0; i < 3; i++) {
      expect(sync(s.check({ ...alice, tool: 'execute_code' })).ok).toBe(true);
      c.advance(60_000);
    }
    expect(sync(s.check({ ...alice, tool: 'execute_code' }))).toEqual({ ok: false, data: { limit_type: 'per_tool', tool: 'execute_code', retry_after: 28_620, limit: 3, window: '1d' } });
  });

  it('takes nothing from earlier buckets when a later one refuses', () => {
    const c = clock();
    const s = createRateLimits({ now: c.now }).forServer('demo', { perPerson: { requestsPerMinute: 60, burst: 2 }, tools: { run: { requestsPerMinute: 1 } } });
    expect(sync(s.check({ ...alice, tool: 'run' })).ok).toBe(true); // person 1 left, tool 0 left
    expect(sync(s.check({ ...alice, tool: 'run' })).ok).toBe(false); // refused by the tool: the person bucket keeps its token
    expect(sync(s.check({ ...alice, tool: 'run' })).ok).toBe(false);
    expect(sync(s.check(alice)).ok).toBe(true); // the one person token still there
    expect(sync(s.check(alice))).toMatchObject({ ok: false, data: { limit_type: 'per_person' } });
  });

  it('names the refusing bucket with the longest wait', () => {
    const c = clock();
    const s = createRateLimits({ now: c.now }).forServer('demo', { perPerson: { requestsPerSecond: 1 }, perClient: { requestsPerMinute: 1 } });
    expect(sync(s.check(alice)).ok).toBe(true);
    expect(sync(s.check(alice))).toEqual({ ok: false, data: { limit_type: 'per_client', retry_after: 60, limit: 1, window: '60s' } });
  });

  it('gates concurrency per upstream and frees the slot on release (idempotent)', () => {
    const s = createRateLimits({ now: () => 0 }).forServer('demo', { upstream: { maxConcurrent: 2 } });
    const a = sync(s.check(alice));
    const b = sync(s.check(alice));
    expect(a.ok && b.ok).toBe(true);
    expect(sync(s.check(alice))).toEqual({ ok: false, data: { limit_type: 'per_upstream', retry_after: 1, limit: 2, window: 'concurrent' } });
    if (a.ok) { a.release(); a.release(); }
    expect(sync(s.check(alice)).ok).toBe(true);
    expect(sync(s.check(alice)).ok).toBe(false); // the double release freed one slot, not two
  });

  it('gives the gate back when a bucket refuses', () => {
    const s = createRateLimits({ now: () => 0 }).forServer('demo', { upstream: { maxConcurrent: 1, requestsPerSecond: 1 } });
    const first = sync(s.check(alice));
    if (first.ok) first.release();
    expect(sync(s.check(alice))).toEqual({ ok: false, data: { limit_type: 'per_upstream', retry_after: 1, limit: 1, window: '1s' } });
    // the refused request did not keep the single slot: with the rate refilled it is admitted
    const s2 = createRateLimits({ now: () => 0 }).forServer('demo', { upstream: { maxConcurrent: 1 }, perPerson: { requestsPerSecond: 1 } });
    expect(sync(s2.check(alice)).ok).toBe(true);
    expect(sync(s2.check({ person: 'bob', clientId: 'c' })).ok).toBe(false); // gate held by alice
  });

  it('shares global limits across servers and reports them as global', () => {
    const c = clock();
    const limits = createRateLimits({ now: c.now, global: { perPerson: { requestsPerMinute: 2 } } });
    const a = limits.forServer('a', undefined);
    const b = limits.forServer('b', { perClient: { requestsPerMinute: 100 } });
    expect(a.active && b.active).toBe(true);
    expect(sync(a.check(alice)).ok).toBe(true);
    expect(sync(b.check(alice)).ok).toBe(true);
    expect(sync(a.check(alice))).toEqual({ ok: false, data: { limit_type: 'global', retry_after: 30, limit: 2, window: '60s' } });
  });

  it('keeps per-server buckets apart', () => {
    const limits = createRateLimits({ now: () => 0 });
    const a = limits.forServer('a', { perPerson: { requestsPerMinute: 1 } });
    const b = limits.forServer('b', { perPerson: { requestsPerMinute: 1 } });
    expect(sync(a.check(alice)).ok).toBe(true);
    expect(sync(b.check(alice)).ok).toBe(true);
    expect(sync(a.check(alice)).ok).toBe(false);
  });

  it('works over an asynchronous (shared) store', async () => {
    const mem = createMemoryBucketStore();
    const store: BucketStore = { takeAll: async (specs, now) => mem.takeAll(specs, now), sweep: mem.sweep, size: mem.size };
    const s = createRateLimits({ now: () => 0, store }).forServer('demo', { perPerson: { requestsPerMinute: 1 }, upstream: { maxConcurrent: 5 } });
    const first = await s.check(alice);
    expect(first.ok).toBe(true);
    expect(await s.check(alice)).toEqual({ ok: false, data: { limit_type: 'per_person', retry_after: 60, limit: 1, window: '60s' } });
  });

  it('builds the JSON-RPC 429 body and Retry-After of a refusal', () => {
    const r = rateLimitedError(7, { limit_type: 'per_tool', tool: 'execute_code', retry_after: 45, limit: 30, window: '60s' });
    expect(r.status).toBe(429);
    expect(r.headers).toEqual({ 'Retry-After': '45' });
    expect(JSON.stringify(r.body)).toBe('{"jsonrpc":"2.0","id":7,"error":{"code":-32029,"message":"Rate limit exceeded","data":{"limit_type":"per_tool","tool":"execute_code","retry_after":45,"limit":30,"window":"60s"}}}');
    expect(rateLimitedError({ bad: 1 }, { limit_type: 'global', retry_after: 1, limit: 2, window: '1s' }).body.id).toBe(null);
  });

  it('accepts the documented config shape and rejects a rate without a window', () => {
    const parsed = limitsSchema.safeParse({ perPerson: { requestsPerMinute: 600, burst: 50 }, perClient: { requestsPerMinute: 600, burst: 50 }, tools: { 'execute_*': { requestsPerMinute: 30, requestsPerDay: 500 } }, upstream: { maxConcurrent: 10, requestsPerSecond: 5 } });
    expect(parsed.success).toBe(true);
    const bad = limitsSchema.safeParse({ perPerson: { burst: 5 } });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues.map((i) => i.path.join('.'))).toEqual(['perPerson']);
  });
});

describe('bucket-store', () => {
  it('stays bounded with 100k keys: least recently used evicted first', () => {
    const store = createMemoryBucketStore({ maxKeys: 10_000 });
    const spec = (key: string) => [{ key, capacity: 1, refillPerMs: 1 / 60_000 }];
    const hot = [{ key: 'hot', capacity: 100, refillPerMs: 1 / 60_000 }];
    store.takeAll(hot, 0);
    for (let i = 0; i < 100_000; i++) {
      store.takeAll(spec(`k${i}`), 0);
      if (i % 5_000 === 0) store.takeAll(hot, 0); // used: moves to the back of the LRU order
    }
    expect(store.size()).toBe(10_000);
    expect(store.takeAll(spec('k99999'), 0).ok).toBe(false); // recent: still drained
    expect(store.takeAll(spec('k0'), 0).ok).toBe(true); // evicted long ago: a fresh bucket
    for (let i = 0; i < 79; i++) expect(store.takeAll(hot, 0).ok).toBe(true); // 21 used so far, never evicted
    expect(store.takeAll(hot, 0).ok).toBe(false);
  });

  it('sweeps buckets that have refilled completely, and only those', () => {
    const store = createMemoryBucketStore({ maxKeys: 200_000 });
    for (let i = 0; i < 100_000; i++) store.takeAll([{ key: `k${i}`, capacity: 10, refillPerMs: 1 / 1_000 }], 0);
    store.takeAll([{ key: 'busy', capacity: 10, refillPerMs: 1 / 1_000 }], 500);
    expect(store.size()).toBe(100_001);
    expect(store.sweep(999)).toBe(0);
    expect(store.sweep(1_000)).toBe(100_000);
    expect(store.size()).toBe(1);
  });

  it('rejects a bad maxKeys when built', () => {
    expect(() => createMemoryBucketStore({ maxKeys: 0 })).toThrow('maxKeys must be a positive integer');
  });
});

describe('rate-limiter with several instances (config `instances`: each enforces limit / instances)', () => {
  it('gives each instance its share of the burst and of the refill, and reports the configured limit', () => {
    const c = clock();
    const limits = { perPerson: { requestsPerMinute: 60, burst: 10 } };
    const a = createRateLimits({ now: c.now, instances: 2 }).forServer('demo', limits);
    const b = createRateLimits({ now: c.now, instances: 2 }).forServer('demo', limits);
    // Round-robin over two instances: 10 in all, 5 on each, then both refuse.
    for (let i = 0; i < 5; i++) {
      expect(sync(a.check(alice)).ok).toBe(true);
      expect(sync(b.check(alice)).ok).toBe(true);
    }
    expect(sync(a.check(alice))).toEqual({ ok: false, data: { limit_type: 'per_person', retry_after: 2, limit: 60, window: '60s' } });
    expect(sync(b.check(alice)).ok).toBe(false);
    c.advance(2_000); // 30/min per instance: one token every 2 s
    expect(sync(a.check(alice)).ok).toBe(true);
    expect(sync(a.check(alice)).ok).toBe(false);
  });

  it('splits a concurrency limit (rounded up) and never goes below one token', () => {
    const c = clock();
    const s = createRateLimits({ now: c.now, instances: 3 }).forServer('demo', { upstream: { maxConcurrent: 4 }, perClient: { requestsPerMinute: 2 } });
    const first = sync(s.check(alice));
    const second = sync(s.check({ person: 'bob', clientId: 'c2' }));
    expect(first.ok && second.ok).toBe(true);
    expect(sync(s.check({ person: 'carol', clientId: 'c3' }))).toMatchObject({ ok: false, data: { window: 'concurrent', limit: 2 } });
    if (first.ok) first.release();
    expect(sync(s.check(alice))).toMatchObject({ ok: false, data: { limit_type: 'per_client', limit: 2 } }); // 2/3 of a token: floor 1 already used
  });

  it('refuses a nonsense instance count', () => {
    expect(() => createRateLimits({ now: () => 0, instances: 0 })).toThrow(TypeError);
  });
});

describe('bucket-store between sweeps (issue 17)', () => {
  it('drops the oldest buckets once they are full again as new keys arrive, so a burst over many keys does not stay', () => {
    const store = createMemoryBucketStore({ maxKeys: 200_000 });
    // 100k people, one request each, 1 ms apart; a bucket refills completely 10 ms after its request.
    for (let i = 0; i < 100_000; i++) expect(store.takeAll([{ key: `p${i}`, capacity: 10, refillPerMs: 1 / 10 }], i).ok).toBe(true);
    // Only the buckets still refilling (the last ~10 ms) remain, not 100k.
    expect(store.size()).toBeLessThanOrEqual(12);
    expect(store.size()).toBeGreaterThanOrEqual(10);
  });

  it('never drops a bucket that is still refilling: its limit holds', () => {
    const store = createMemoryBucketStore({ maxKeys: 200_000 });
    const slow = [{ key: 'slow', capacity: 1, refillPerMs: 1 / 60_000 }];
    expect(store.takeAll(slow, 0).ok).toBe(true); // drained; full again at 60 000
    for (let i = 0; i < 1_000; i++) store.takeAll([{ key: `k${i}`, capacity: 10, refillPerMs: 1 }], i + 1);
    expect(store.takeAll(slow, 2_000)).toMatchObject({ ok: false });
    expect(store.takeAll(slow, 60_000).ok).toBe(true);
  });
});
