import { describe, expect, it } from 'vitest';
import { touchGrant } from '../../../../src/proxy/pipeline/touch-grant.js';
import { accessToken, authenticatedRequest, NOW, stepApp } from './step-app.js';

function setup(opts: { failing?: boolean } = {}) {
  const writes: Array<[string, number]> = [];
  let ms = 1_000_000;
  const store = {
    grants: {
      touch: async (id: string, at: number) => {
        writes.push([id, at]);
        if (opts.failing) throw new Error('database is locked');
      },
    },
  };
  let grantId = 'g_1';
  const app = stepApp(touchGrant({ store, clock: () => NOW, intervalMs: 60_000, now: () => ms }), () => authenticatedRequest({ token: accessToken({ grantId }) }));
  return {
    ...app,
    writes,
    advance: (by: number) => void (ms += by),
    as: (id: string) => void (grantId = id),
    call: () => app.request('/mcp/demo', { method: 'GET' }),
  };
}

describe('touchGrant', () => {
  it('records the grant\'s last use with the clock\'s time and passes the request on', async () => {
    const { call, writes, reached } = setup();
    expect((await call()).status).toBe(200);
    expect(writes).toEqual([['g_1', NOW]]);
    expect(reached).toHaveLength(1);
  });

  it('writes at most once per interval per grant', async () => {
    const { call, writes, advance } = setup();
    await call();
    advance(59_999);
    await call();
    advance(60_000);
    await call();
    expect(writes).toHaveLength(2);
  });

  it('keeps one interval per grant', async () => {
    const { call, writes, as } = setup();
    await call();
    as('g_2');
    await call();
    expect(writes.map(([id]) => id)).toEqual(['g_1', 'g_2']);
  });

  it('passes the request on when the write fails, and tries again on the next request', async () => {
    const { call, writes, reached } = setup({ failing: true });
    expect((await call()).status).toBe(200);
    await new Promise((resolve) => setImmediate(resolve)); // the rejection is handled (vitest fails on an unhandled one)
    expect((await call()).status).toBe(200);
    expect(writes).toHaveLength(2);
    expect(reached).toHaveLength(2);
  });

  it('checks its options when built', () => {
    expect(() => touchGrant(undefined as never)).toThrow(TypeError);
    expect(() => touchGrant({ store: {} as never, clock: () => NOW })).toThrow(/store/);
    expect(() => touchGrant({ store: { grants: { touch: async () => undefined } }, clock: () => NOW, intervalMs: -1 })).toThrow(/intervalMs/);
  });
});

describe('touchGrant memory (issue 17)', () => {
  function bounded(maxGrants: number) {
    const writes: string[] = [];
    let ms = 1_000_000;
    let grantId = 'g_0';
    const step = touchGrant({ store: { grants: { touch: async (id: string) => void writes.push(id) } }, clock: () => NOW, intervalMs: 60_000, now: () => ms, maxGrants });
    const app = stepApp(step, () => authenticatedRequest({ token: accessToken({ grantId }) }));
    return {
      step, writes,
      advance: (by: number) => void (ms += by),
      call: (id: string) => { grantId = id; return app.request('/mcp/demo', { method: 'GET' }); },
    };
  }

  it('remembers at most maxGrants grants; an evicted grant is written again on its next request (never skipped)', async () => {
    const { step, writes, call } = bounded(3);
    for (const id of ['g_1', 'g_2', 'g_3', 'g_4', 'g_5']) await call(id);
    expect(step.remembered()).toBe(3);
    await call('g_5'); // remembered: no second write within the interval
    expect(writes.filter((w) => w === 'g_5')).toHaveLength(1);
    await call('g_1'); // evicted: written again
    expect(writes.filter((w) => w === 'g_1')).toHaveLength(2);
    expect(step.remembered()).toBe(3);
  });

  it('forgets grants written longer than the interval ago as new ones come', async () => {
    const { step, call, advance } = bounded(10_000);
    for (let i = 0; i < 100; i++) await call(`g_${i}`);
    expect(step.remembered()).toBe(100);
    advance(60_001);
    await call('g_new');
    expect(step.remembered()).toBe(1);
  });

  it('refuses a bad maxGrants when built', () => {
    expect(() => touchGrant({ store: { grants: { touch: async () => undefined } }, clock: () => NOW, maxGrants: 0 })).toThrow(/maxGrants/);
  });
});
