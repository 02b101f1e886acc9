import { register as globalRegistry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createKeyholeMetrics, DURATION_BUCKETS, type KeyholeMetricsOptions } from '../../../src/metrics/keyhole-metrics.js';
import { parsePrometheusText, sampleValue } from './prom-text.js';

const make = (over: Partial<KeyholeMetricsOptions> = {}) =>
  createKeyholeMetrics({ servers: ['demo', 'github'], configTools: { demo: ['echo'] }, processMetrics: false, ...over });
const scrape = async (m: ReturnType<typeof make>) => parsePrometheusText(await m.render());

describe('keyhole-metrics', () => {
  it('counts requests with bounded labels', async () => {
    const m = make();
    m.observeRequest({ server: 'demo', method: 'tools/call', tool: 'echo', outcome: 'ok', durationSeconds: 0.004 });
    m.observeRequest({ server: 'demo', method: 'tools/call', tool: 'echo', outcome: 'ok', durationSeconds: 0.02 });
    m.observeRequest({ server: 'demo', method: 'tools/call', tool: 'rm_rf', outcome: 'denied', durationSeconds: 0.001 });
    m.observeRequest({ server: 'evil', method: 'x/y', tool: 'z', outcome: 'error', durationSeconds: 1 });
    const f = await scrape(m);
    expect(f.get('keyhole_mcp_requests_total')?.type).toBe('counter');
    expect(sampleValue(f, 'keyhole_mcp_requests_total', { server: 'demo', method: 'tools/call', tool: 'echo', outcome: 'ok' })).toBe(2);
    expect(sampleValue(f, 'keyhole_mcp_requests_total', { server: 'demo', method: 'tools/call', tool: 'other', outcome: 'denied' })).toBe(1);
    expect(sampleValue(f, 'keyhole_mcp_requests_total', { server: 'other', method: 'other', tool: 'other', outcome: 'error' })).toBe(1);
    expect(f.get('keyhole_mcp_requests_total')?.samples).toHaveLength(3);
  });

  it('accepts a tool once the upstream listed it', async () => {
    const m = make();
    m.setUpstreamTools('github', ['search_issues']);
    m.observeRequest({ server: 'github', method: 'tools/call', tool: 'search_issues', outcome: 'ok', durationSeconds: 0.1 });
    expect(sampleValue(await scrape(m), 'keyhole_mcp_requests_total', { server: 'github', method: 'tools/call', tool: 'search_issues', outcome: 'ok' })).toBe(1);
  });

  it('observes durations in a histogram from 1 ms to 30 s', async () => {
    const m = make();
    m.observeRequest({ server: 'demo', method: 'tools/call', tool: 'echo', outcome: 'ok', durationSeconds: 0.004 });
    m.observeRequest({ server: 'demo', method: 'tools/call', tool: 'echo', outcome: 'ok', durationSeconds: 0.02 });
    const f = await scrape(m);
    const l = { server: 'demo', method: 'tools/call' };
    expect(f.get('keyhole_mcp_request_duration_seconds')?.type).toBe('histogram');
    expect(DURATION_BUCKETS[0]).toBe(0.001);
    expect(DURATION_BUCKETS.at(-1)).toBe(30);
    expect(sampleValue(f, 'keyhole_mcp_request_duration_seconds_bucket', { ...l, le: '0.0025' })).toBe(0);
    expect(sampleValue(f, 'keyhole_mcp_request_duration_seconds_bucket', { ...l, le: '0.005' })).toBe(1);
    expect(sampleValue(f, 'keyhole_mcp_request_duration_seconds_bucket', { ...l, le: '0.025' })).toBe(2);
    expect(sampleValue(f, 'keyhole_mcp_request_duration_seconds_bucket', { ...l, le: '+Inf' })).toBe(2);
    expect(sampleValue(f, 'keyhole_mcp_request_duration_seconds_count', l)).toBe(2);
    expect(sampleValue(f, 'keyhole_mcp_request_duration_seconds_sum', l)).toBeCloseTo(0.024, 9);
  });

  it('counts auth failures and refreshes with bounded reasons and outcomes', async () => {
    const m = make();
    m.authFailure('expired_token');
    m.authFailure('expired_token');
    m.authFailure('made-up');
    m.upstreamRefresh('github', 'invalid_grant');
    m.upstreamRefresh('nope', 'ok');
    const f = await scrape(m);
    expect(sampleValue(f, 'keyhole_auth_failures_total', { reason: 'expired_token' })).toBe(2);
    expect(sampleValue(f, 'keyhole_auth_failures_total', { reason: 'other' })).toBe(1);
    expect(sampleValue(f, 'keyhole_upstream_refresh_total', { server: 'github', outcome: 'invalid_grant' })).toBe(1);
    expect(sampleValue(f, 'keyhole_upstream_refresh_total', { server: 'other', outcome: 'ok' })).toBe(1);
  });

  it('counts redactions per server and kind, unknown kinds and servers as other', async () => {
    const m = make({ redactionKinds: ['private_key', 'aws_access_key', 'jwt', 'internal_id'] });
    m.redacted('demo', { private_key: 1, aws_access_key: 2, jwt: 1 });
    m.redacted('demo', { jwt: 1, internal_id: 3, 'AKIA-not-a-kind': 1 });
    m.redacted('evil', { jwt: 1 });
    m.redacted('demo', { jwt: 0, bearer: Number.NaN });
    const f = await scrape(m);
    expect(f.get('keyhole_redactions_total')?.type).toBe('counter');
    const v = (server: string, kind: string) => sampleValue(f, 'keyhole_redactions_total', { server, kind });
    expect([v('demo', 'private_key'), v('demo', 'aws_access_key'), v('demo', 'jwt'), v('demo', 'internal_id'), v('demo', 'other'), v('other', 'jwt')]).toEqual([1, 2, 2, 3, 1, 1]);
    expect(f.get('keyhole_redactions_total')?.samples).toHaveLength(6);
  });

  it('reads streams, grants, dropped audit records and circuit states at scrape time', async () => {
    let dropped = 3;
    let grantsOpen = 4;
    const m = make({
      activeStreams: () => ({ demo: 2 }),
      grants: async () => [{ server: 'demo', status: 'active', count: grantsOpen }, { server: 'github', status: 'revoked', count: 1 }],
      auditDropped: () => dropped,
      circuitStates: () => ({ demo: 'open', github: 'half-open' }),
    });
    let f = await scrape(m);
    expect(sampleValue(f, 'keyhole_active_streams', { server: 'demo' })).toBe(2);
    expect(sampleValue(f, 'keyhole_active_streams', { server: 'github' })).toBe(0);
    expect(sampleValue(f, 'keyhole_grants', { server: 'demo', status: 'active' })).toBe(4);
    expect(sampleValue(f, 'keyhole_grants', { server: 'github', status: 'revoked' })).toBe(1);
    expect(sampleValue(f, 'keyhole_audit_dropped_total')).toBe(3);
    expect(sampleValue(f, 'keyhole_circuit_state', { server: 'demo' })).toBe(2);
    expect(sampleValue(f, 'keyhole_circuit_state', { server: 'github' })).toBe(1);
    dropped = 5;
    grantsOpen = 6;
    f = await scrape(m);
    expect(sampleValue(f, 'keyhole_audit_dropped_total')).toBe(5);
    expect(sampleValue(f, 'keyhole_grants', { server: 'demo', status: 'active' })).toBe(6);
  });

  it('leaves a series empty for a scrape whose callback throws, and says so', async () => {
    const errors: string[] = [];
    const m = make({ grants: async () => { throw new Error('db locked'); }, activeStreams: () => { throw new Error('x'); }, onCollectError: (name) => errors.push(name) });
    const f = await scrape(m);
    expect(f.get('keyhole_grants')?.samples).toEqual([]);
    expect(sampleValue(f, 'keyhole_active_streams', { server: 'demo' })).toBe(0);
    expect(errors.sort()).toEqual(['keyhole_active_streams', 'keyhole_grants']);
  });

  it('uses its own registry, with process metrics when asked, never the global one', async () => {
    const m = make({ processMetrics: true });
    const f = await scrape(m);
    expect(f.has('process_cpu_user_seconds_total')).toBe(true);
    expect(f.has('nodejs_eventloop_lag_seconds')).toBe(true);
    expect(await globalRegistry.metrics()).not.toContain('keyhole_');
    expect(m.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect((await scrape(make())).has('process_cpu_user_seconds_total')).toBe(false);
  });
});
