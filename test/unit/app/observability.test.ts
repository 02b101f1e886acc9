/**
 * src/observability.ts on a real SQLite store with a controllable clock: retention deletes exactly the expired
 * rows and records one `retention.purged` event with the counts; lifecycle events feed refresh metrics, alerts
 * and the operator's upstream warn lines; the new config blocks parse with their defaults.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load-config.js';
import { openSqliteStore, SqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import { createObservability, type Observability } from '../../../src/observability.js';
import { createLogger } from '../../../src/http/logger.js';
import type { EventInput } from '../../../src/events/recorder.js';
import type { AuditLogRecord } from '../../../src/store/repositories/audit-log.js';
import { parsePrometheusText, sampleValue } from '../metrics/prom-text.js';
import { makeGrant } from '../store/store-contract.js';
import { healthRoutes } from '../../../src/metrics/health-routes.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 5, 1);

function config(extra: Record<string, unknown> = {}) {
  return parseConfig({
    publicUrl: 'http://127.0.0.1:8787',
    servers: { demo: { upstream: 'http://127.0.0.1:9000/mcp', oauth: { issuer: 'http://127.0.0.1:9001', clientId: 'k' } } },
    ...extra,
  });
}

function rec(id: number, at: number): AuditLogRecord {
  return {
    id: `au_${String(id).padStart(32, '0')}`, at: new Date(at).toISOString(), person: null, subject: 's', clientId: 'c', server: 'demo', grantId: 'g',
    method: 'tools/call', tool: 't', outcome: 'ok', httpStatus: 200, rpcErrorCode: null, denialReason: null, durationMsToFirstByte: 1,
    durationMsTotal: 2, requestBytes: 3, responseBytes: 4, requestId: `r${id}`,
  };
}

describe('observability assembly', () => {
  let store: SqliteStore;
  let obs: Observability;
  let now: number;
  const lines: string[] = [];
  const recorded: EventInput[] = [];

  function build(extra: Record<string, unknown> = {}) {
    const cfg = config(extra);
    const auditLog = store.auditLog;
    obs = createObservability({
      config: cfg, auditLog, logger: createLogger((l) => lines.push(l)), log: (l) => lines.push(l), checks: [], now: () => now,
      recordEvent: (e) => {
        recorded.push(e);
        void store.events.append({ at: Math.floor(now / 1000), type: e.type, grantId: null, clientId: null, server: e.server ?? null, subject: null, outcome: e.outcome ?? 'success', detail: e.detail ?? {} });
      },
    });
    return { cfg, auditLog };
  }

  beforeEach(() => {
    store = openSqliteStore(':memory:');
    now = NOW;
    lines.length = 0;
    recorded.length = 0;
  });
  afterEach(async () => {
    await obs?.close();
    await store.close();
  });

  it('parses the new config blocks with their defaults', () => {
    const cfg = config();
    expect(cfg.logLevel).toBe('info');
    expect(cfg.metrics).toBeUndefined();
    expect(cfg.alerts).toBeUndefined();
    expect(cfg.retention).toEqual({ auditDays: 30, eventDays: 365, expiredTokensDays: 7, intervalMinutes: 60, batchSize: 500 });
    expect(cfg.servers.demo!.audit).toEqual({ arguments: 'none' });
    expect(() => config({ logLevel: 'loud' })).toThrow(/logLevel/);
    expect(() => config({ metrics: { token: 'short' } })).toThrow(/metrics\.token/);
  });

  it('retention deletes exactly the rows past their age, in batches, and records the counts', async () => {
    const { auditLog } = build({ retention: { auditDays: 30, eventDays: 365, expiredTokensDays: 7, batchSize: 2 } });
    // Audit: 3 older than 30 days (one by a single ms), 2 inside.
    await auditLog.append([rec(1, NOW - 90 * DAY), rec(2, NOW - 31 * DAY), rec(3, NOW - 30 * DAY - 1), rec(4, NOW - 30 * DAY), rec(5, NOW - DAY)]);
    // Events: 1 older than 365 days, 1 exactly at the cut (kept).
    const ev = (atMs: number) => store.events.append({ at: atMs / 1000, type: 'grant.created', grantId: null, clientId: null, server: null, subject: null, outcome: 'success', detail: {} });
    await ev(NOW - 400 * DAY);
    await ev(NOW - 365 * DAY);
    // Tokens: one access token expired 8 days ago (purged), one 6 days ago (kept).
    await store.grants.create(makeGrant({ id: 'g_1' }));
    const base = { grantId: 'g_1', familyId: 'f', clientId: 'c', resource: 'r', scopes: [], revokedAt: null };
    await store.tokens.createAccess({ ...base, hash: 'old', expiresAt: (NOW - 8 * DAY) / 1000 });
    await store.tokens.createAccess({ ...base, hash: 'new', expiresAt: (NOW - 6 * DAY) / 1000 });

    // Batches of 2: audit 2 + 1 (short, stop), events 1, tokens 1 → 4.
    const run = await obs.retention.runOnce();
    expect([run.audit, run.events, run.expiredTokens, run.error]).toEqual([3, 1, 1, null]);
    expect((await auditLog.query({}, { limit: 10 })).records.map((r) => r.requestId)).toEqual(['r5', 'r4']);
    expect(SqliteStore.connectionOf(store).prepare('SELECT at FROM events WHERE type = ? ORDER BY at').pluck().all('grant.created')).toEqual([(NOW - 365 * DAY) / 1000]);
    expect(SqliteStore.connectionOf(store).prepare('SELECT hash FROM access_tokens').pluck().all()).toEqual(['new']);
    expect(recorded).toEqual([{
      type: 'retention.purged', outcome: 'success',
      detail: { audit: 3, events: 1, expired_tokens: 1, batches: 4, audit_before: new Date(NOW - 30 * DAY).toISOString(), events_before: new Date(NOW - 365 * DAY).toISOString(), error: null },
    }]);
    // A day later nothing more is old enough except record 4.
    now += DAY;
    expect((await obs.retention.runOnce()).audit).toBe(1);
  });

  it('turns refresh events into metrics and warn lines naming server and cause, never a value', async () => {
    build({ metrics: {} });
    obs.onEvent({ type: 'upstream.token_refreshed', server: 'demo', grantId: 'g_1', detail: { access_fp: 'fp_x' } });
    obs.onEvent({ type: 'upstream.refresh_failed', server: 'demo', grantId: 'g_1', outcome: 'failure', detail: { reason: 'timeout', fatal: false } });
    obs.onEvent({ type: 'upstream.refresh_failed', server: 'demo', grantId: 'g_2', outcome: 'failure', detail: { reason: 'invalid_grant', fatal: true, refresh_fp: 'fp_y' } });
    obs.onEvent({ type: 'upstream.revocation', server: 'demo', grantId: 'g_2', outcome: 'failure', detail: { result: 'failed', error: 'TypeError', token_fp: 'fp_z' } });
    const families = parsePrometheusText(await obs.metrics.render());
    expect(sampleValue(families, 'keyhole_upstream_refresh_total', { server: 'demo', outcome: 'ok' })).toBe(1);
    expect(sampleValue(families, 'keyhole_upstream_refresh_total', { server: 'demo', outcome: 'timeout' })).toBe(1);
    expect(sampleValue(families, 'keyhole_upstream_refresh_total', { server: 'demo', outcome: 'invalid_grant' })).toBe(1);
    expect(lines.map((l) => JSON.parse(l) as unknown)).toEqual([
      { level: 'warn', msg: 'keyhole.upstream_failure', server: 'demo', stage: 'token_endpoint', cause: 'timeout', grant_id: 'g_1' },
      { level: 'warn', msg: 'keyhole.upstream_failure', server: 'demo', stage: 'token_endpoint', cause: 'invalid_grant', grant_id: 'g_2' },
      { level: 'warn', msg: 'keyhole.upstream_failure', server: 'demo', stage: 'revocation', cause: 'TypeError', grant_id: 'g_2' },
    ]);
  });

  it('raises refresh-failed and revoked-by-upstream alerts, each recorded as an event', async () => {
    const sent: string[] = [];
    const cfg = config({ alerts: { webhook: 'http://127.0.0.1:9/hook', secret: 'alert-secret-0123456789' } });
    obs = createObservability({
      config: cfg, auditLog: store.auditLog, logger: createLogger(() => {}), log: () => {}, checks: [], now: () => now,
      recordEvent: (e) => recorded.push(e),
      fetch: (async (_u: unknown, init?: RequestInit) => { sent.push(String(init?.body)); return new Response(null, { status: 204 }); }) as typeof fetch,
    });
    obs.onEvent({ type: 'upstream.refresh_failed', server: 'demo', grantId: 'g_2', subject: 'bob', clientId: 'c_1', outcome: 'failure', detail: { reason: 'invalid_grant', fatal: true } });
    await obs.alerts!.flush();
    expect(sent.map((b) => (JSON.parse(b) as { kind: string }).kind)).toEqual(['upstream_refresh_failed', 'grant_revoked_by_upstream']);
    expect(recorded.map((e) => [e.type, e.detail?.kind])).toEqual([['alert.raised', 'upstream_refresh_failed'], ['alert.raised', 'grant_revoked_by_upstream']]);
  });

  it('shows the circuit states in keyhole_circuit_state and under /readyz detail', async () => {
    let state: 'closed' | 'half-open' | 'open' = 'open';
    obs = createObservability({
      config: config({ metrics: {} }), auditLog: store.auditLog, logger: createLogger(() => {}), log: () => {}, checks: [], now: () => now,
      recordEvent: (e) => recorded.push(e), circuitStates: () => ({ demo: state }),
    });
    expect(sampleValue(parsePrometheusText(await obs.metrics.render()), 'keyhole_circuit_state', { server: 'demo' })).toBe(2);
    state = 'half-open';
    expect(sampleValue(parsePrometheusText(await obs.metrics.render()), 'keyhole_circuit_state', { server: 'demo' })).toBe(1);
    const res = await healthRoutes(obs.health).request('/readyz');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ready', detail: { circuits: { demo: 'half-open' } } });
  });

  it('counts grants per server and status at scrape time', async () => {
    build({ metrics: {} });
    await store.grants.create(makeGrant({ server: 'demo' }));
    await store.grants.create(makeGrant({ server: 'demo', status: 'revoked', revokedAt: 1 }));
    const families = parsePrometheusText(await obs.metrics.render());
    expect(sampleValue(families, 'keyhole_grants', { server: 'demo', status: 'active' })).toBe(1);
    expect(sampleValue(families, 'keyhole_grants', { server: 'demo', status: 'revoked' })).toBe(1);
  });

  it('labels listed tools in metrics and turns a changed tool list into an event and an alert', async () => {
    const sent: string[] = [];
    const cfg = config({ metrics: {}, alerts: { webhook: 'http://127.0.0.1:9/hook', secret: 'alert-secret-0123456789' } });
    obs = createObservability({
      config: cfg, auditLog: store.auditLog, logger: createLogger(() => {}), log: () => {}, checks: [], now: () => now,
      recordEvent: (e) => recorded.push(e),
      fetch: (async (_u: unknown, init?: RequestInit) => { sent.push(String(init?.body)); return new Response(null, { status: 204 }); }) as typeof fetch,
    });
    obs.onToolsList('demo', [{ name: 'read', description: 'r' }, { name: 'gone' }]);
    obs.onToolsList('demo', [{ name: 'read', description: 'r' }, { name: 'gone' }]);
    expect(recorded).toEqual([]); // the first list is the baseline; the same list is no drift
    obs.onToolsList('demo', [{ name: 'read', description: 'now writes too' }, { name: 'fresh' }]);
    expect(recorded).toEqual([
      { type: 'tools.changed', server: 'demo', detail: { added: ['fresh'], removed: ['gone'], changed: ['read'] } },
      { type: 'alert.raised', server: 'demo', detail: { kind: 'tool_list_changed', summary: 'the tools of demo changed: added fresh; removed gone; changed read' } },
    ]);
    await obs.alerts!.flush();
    expect(sent.map((b) => (JSON.parse(b) as { summary: string }).summary)).toEqual(['the tools of demo changed: added fresh; removed gone; changed read']);
    obs.metrics.observeRequest({ server: 'demo', method: 'tools/call', tool: 'fresh', outcome: 'ok', durationSeconds: 0.01 });
    obs.metrics.observeRequest({ server: 'demo', method: 'tools/call', tool: 'gone', outcome: 'ok', durationSeconds: 0.01 });
    const families = parsePrometheusText(await obs.metrics.render());
    expect(sampleValue(families, 'keyhole_mcp_requests_total', { server: 'demo', method: 'tools/call', tool: 'fresh', outcome: 'ok' })).toBe(1);
    expect(sampleValue(families, 'keyhole_mcp_requests_total', { server: 'demo', method: 'tools/call', tool: 'other', outcome: 'ok' })).toBe(1);
  });
});
