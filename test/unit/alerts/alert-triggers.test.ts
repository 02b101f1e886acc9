import { describe, expect, it } from 'vitest';
import {
  countInWindow, EMPTY_WINDOW, grantRevokedByUpstreamAlert, rateTrigger, refreshFailedAlert, watchedToolAlert, watchedTools, type ToolCall,
} from '../../../src/alerts/alert-triggers.js';

const call = (tool: string): ToolCall => ({ server: 'github', tool, subject: 'alice', clientId: 'c_1', grantId: 'g_1', requestId: 'r_1', outcome: 'ok' });
const T = Date.UTC(2026, 11, 1, 16, 0, 0);

describe('alert-triggers', () => {
  it('alerts on a call of a watched tool (glob match) and on nothing else', () => {
    const watched = watchedTools(['delete_*', '*_write', 'drop']);
    expect(watchedToolAlert(watched, call('delete_repo'), T)).toEqual({
      kind: 'watched_tool_called',
      key: 'watched_tool_called:github:delete_repo:g_1',
      summary: 'watched tool delete_repo called on github',
      at: T,
      detail: { server: 'github', tool: 'delete_repo', subject: 'alice', clientId: 'c_1', grantId: 'g_1', requestId: 'r_1', outcome: 'ok' },
    });
    expect(watchedToolAlert(watched, call('file_write'), T)?.kind).toBe('watched_tool_called');
    expect(watchedToolAlert(watched, call('drop'), T)?.kind).toBe('watched_tool_called');
    expect(watchedToolAlert(watched, call('dropped'), T)).toBeNull();
    expect(watchedToolAlert(watched, call('undelete_repo'), T)).toBeNull();
    expect(watchedToolAlert(watchedTools([]), call('delete_repo'), T)).toBeNull();
  });

  it('fires once per minute window, when the count first exceeds the rate', () => {
    let w = EMPTY_WINDOW;
    const fired: boolean[] = [];
    for (let i = 0; i < 5; i++) { const r = countInWindow(w, T + i, 3); w = r.window; fired.push(r.fired); }
    expect(fired).toEqual([false, false, false, true, false]);
    expect(w).toEqual({ minute: T / 60_000, count: 5 });
    expect(countInWindow(w, T + 60_000, 3)).toEqual({ window: { minute: T / 60_000 + 1, count: 1 }, fired: false });
  });

  it('builds the rate alert with its window', () => {
    const trigger = rateTrigger('auth_failure_rate_exceeded', 2);
    expect([trigger(T), trigger(T + 1)]).toEqual([null, null]);
    expect(trigger(T + 2)).toEqual({
      kind: 'auth_failure_rate_exceeded', key: 'auth_failure_rate_exceeded', summary: 'more than 2 authentication failures in a minute',
      at: T + 2, detail: { perMinute: 2, count: 3, windowStart: '2026-12-01T16:00:00.000Z' },
    });
    expect(trigger(T + 3)).toBeNull();
    expect(rateTrigger('denied_rate_exceeded', undefined)(T)).toBeNull();
    expect(() => rateTrigger('denied_rate_exceeded', 0)).toThrow('perMinute must be a positive integer');
  });

  it('alerts on a failed upstream refresh and on an upstream revocation', () => {
    expect(refreshFailedAlert({ server: 'github', grantId: 'g_9', reason: 'timeout' }, T)).toEqual({
      kind: 'upstream_refresh_failed', key: 'upstream_refresh_failed:github:g_9', summary: 'upstream token refresh failed on github (timeout)', at: T,
      detail: { server: 'github', grantId: 'g_9', reason: 'timeout' },
    });
    expect(grantRevokedByUpstreamAlert({ server: 'github', grantId: 'g_9', subject: 'bob', clientId: null }, T)).toEqual({
      kind: 'grant_revoked_by_upstream', key: 'grant_revoked_by_upstream:g_9', summary: 'the upstream of github revoked grant g_9', at: T,
      detail: { server: 'github', grantId: 'g_9', subject: 'bob', clientId: null },
    });
  });
});
