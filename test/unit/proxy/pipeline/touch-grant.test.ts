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
