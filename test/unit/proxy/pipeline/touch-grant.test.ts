import { describe, expect, it } from 'vitest';
import { touchGrant } from '../../../../src/proxy/pipeline/touch-grant.js';
import { accessToken, authenticatedRequest, NOW, stepApp } from './step-app.js';

function setup() {
  const writes: Array<[string, number]> = [];
  let ms = 1_000_000;
  const store = { touchGrant: (id: string, at: number) => void writes.push([id, at]) };
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

  it('checks its options when built', () => {
    expect(() => touchGrant(undefined as never)).toThrow(TypeError);
    expect(() => touchGrant({ store: {} as never, clock: () => NOW })).toThrow(/store/);
    expect(() => touchGrant({ store: { touchGrant: () => undefined }, clock: () => NOW, intervalMs: -1 })).toThrow(/intervalMs/);
  });
});
