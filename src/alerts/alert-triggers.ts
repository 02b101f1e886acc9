/**
 * Alert triggers (issue 14): pure functions from what happened to an {@link Alert} or null. The dispatcher
 * (alert-dispatcher.ts) deduplicates by `key` per minute and delivers. Alerts carry ids and names, never a
 * token value or tool arguments.
 * - a watched tool was called (`alerts.watchTools`, `*` globs);
 * - denied calls or auth failures above their per-minute rate (a fixed one-minute window; one alert per window);
 * - an upstream refresh failed;
 * - the upstream revoked a grant (`invalid_grant` on refresh).
 */
import { compileGlob, type Matcher } from '../policy/glob.js';

export const ALERT_KINDS = ['watched_tool_called', 'denied_rate_exceeded', 'auth_failure_rate_exceeded', 'upstream_refresh_failed', 'grant_revoked_by_upstream', 'tool_list_changed'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

export interface Alert {
  kind: AlertKind;
  /** Deduplication key: the same key alerts at most once a minute. */
  key: string;
  /** One line for a human. */
  summary: string;
  /** Epoch ms of the event. */
  at: number;
  detail: Record<string, string | number | null>;
}

export interface ToolCall {
  server: string;
  tool: string;
  subject: string | null;
  clientId: string | null;
  grantId: string | null;
  requestId: string;
  outcome: string;
}

/** Compiles `watchTools` once; the result answers whether a tool name is watched. */
export function watchedTools(patterns: readonly string[]): Matcher {
  const matchers = patterns.map(compileGlob);
  return (tool) => matchers.some((m) => m(tool));
}

export function watchedToolAlert(isWatched: Matcher, call: ToolCall, at: number): Alert | null {
  if (!isWatched(call.tool)) return null;
  return {
    kind: 'watched_tool_called',
    // One per caller and tool per minute: a loop of deletes is one alert, not hundreds.
    key: `watched_tool_called:${call.server}:${call.tool}:${call.grantId ?? '-'}`,
    summary: `watched tool ${call.tool} called on ${call.server}`,
    at,
    detail: { server: call.server, tool: call.tool, subject: call.subject, clientId: call.clientId, grantId: call.grantId, requestId: call.requestId, outcome: call.outcome },
  };
}

/** A fixed one-minute window: the minute it counts and how many it saw. */
export interface RateWindow { minute: number; count: number }
export const EMPTY_WINDOW: RateWindow = Object.freeze({ minute: -1, count: 0 });

/**
 * Counts one occurrence at `at`. `fired` is true exactly once per window: when the count first exceeds
 * `perMinute`.
 */
export function countInWindow(window: RateWindow, at: number, perMinute: number): { window: RateWindow; fired: boolean } {
  const minute = Math.floor(at / 60_000);
  const count = window.minute === minute ? window.count + 1 : 1;
  return { window: { minute, count }, fired: count === perMinute + 1 };
}

export function rateAlert(kind: 'denied_rate_exceeded' | 'auth_failure_rate_exceeded', window: RateWindow, perMinute: number, at: number): Alert {
  const what = kind === 'denied_rate_exceeded' ? 'denied calls' : 'authentication failures';
  return {
    kind,
    key: kind,
    summary: `more than ${perMinute} ${what} in a minute`,
    at,
    detail: { perMinute, count: window.count, windowStart: new Date(window.minute * 60_000).toISOString() },
  };
}

/** A stateful convenience over {@link countInWindow}: `record(at)` returns the alert when the rate is crossed. */
export function rateTrigger(kind: 'denied_rate_exceeded' | 'auth_failure_rate_exceeded', perMinute: number | undefined): (at: number) => Alert | null {
  if (perMinute === undefined) return () => null;
  if (!Number.isInteger(perMinute) || perMinute < 1) throw new TypeError(`rateTrigger: perMinute must be a positive integer`);
  let window = EMPTY_WINDOW;
  return (at) => {
    const r = countInWindow(window, at, perMinute);
    window = r.window;
    return r.fired ? rateAlert(kind, window, perMinute, at) : null;
  };
}

export function refreshFailedAlert(e: { server: string; grantId: string; reason: string }, at: number): Alert {
  return {
    kind: 'upstream_refresh_failed',
    key: `upstream_refresh_failed:${e.server}:${e.grantId}`,
    summary: `upstream token refresh failed on ${e.server} (${e.reason})`,
    at,
    detail: { server: e.server, grantId: e.grantId, reason: e.reason },
  };
}

export function grantRevokedByUpstreamAlert(e: { server: string; grantId: string; subject: string | null; clientId: string | null }, at: number): Alert {
  return {
    kind: 'grant_revoked_by_upstream',
    key: `grant_revoked_by_upstream:${e.grantId}`,
    summary: `the upstream of ${e.server} revoked grant ${e.grantId}`,
    at,
    detail: { server: e.server, grantId: e.grantId, subject: e.subject, clientId: e.clientId },
  };
}

/** The upstream's tool list changed (tool-list drift): tools added, removed, or with a new description or schema. */
export function toolListChangedAlert(e: { server: string; added: readonly string[]; removed: readonly string[]; changed: readonly string[] }, at: number): Alert {
  const classes: Array<[string, readonly string[]]> = [['added', e.added], ['removed', e.removed], ['changed', e.changed]];
  const parts = classes.filter(([, names]) => names.length > 0).map(([what, names]) => `${what} ${names.join(', ')}`);
  return {
    kind: 'tool_list_changed',
    key: `tool_list_changed:${e.server}`,
    summary: `the tools of ${e.server} changed: ${parts.join('; ')}`.slice(0, 500),
    at,
    detail: { server: e.server, added: e.added.join(','), removed: e.removed.join(','), changed: e.changed.join(',') },
  };
}
