import { describe, expect, it } from 'vitest';
import { createKeyholeMetrics } from '../../../src/metrics/keyhole-metrics.js';
import { metricsRoutes } from '../../../src/metrics/metrics-route.js';
import { parsePrometheusText, sampleValue } from './prom-text.js';

const TOKEN = 'metrics-token-0123456789abcdef';
const metrics = () => {
  const m = createKeyholeMetrics({ servers: ['demo'], processMetrics: false });
  m.observeRequest({ server: 'demo', method: 'ping', tool: null, outcome: 'ok', durationSeconds: 0.002 });
  return m;
};

describe('metrics-route', () => {
  it('serves the text format without a token when none is configured', async () => {
    const res = await metricsRoutes({ config: {}, metrics: metrics() }).request('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const f = parsePrometheusText(await res.text());
    expect(sampleValue(f, 'keyhole_mcp_requests_total', { server: 'demo', method: 'ping', tool: 'none', outcome: 'ok' })).toBe(1);
  });

  it('answers 404 when the config has no metrics block', async () => {
    const res = await metricsRoutes({ config: undefined, metrics: metrics() }).request('/metrics');
    expect(res.status).toBe(404);
  });

  it('asks for the bearer token with a keyhole-metrics challenge', async () => {
    const app = metricsRoutes({ config: { token: TOKEN }, metrics: metrics() });
    const none = await app.request('/metrics');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="keyhole-metrics"');
    const wrong = await app.request('/metrics', { headers: { Authorization: `Bearer ${TOKEN}x` } });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toBe('Bearer realm="keyhole-metrics", error="invalid_token"');
    expect(await wrong.text()).not.toContain('keyhole_mcp');
    const basic = await app.request('/metrics', { headers: { Authorization: `Basic ${TOKEN}` } });
    expect(basic.status).toBe(401);
    const ok = await app.request('/metrics', { headers: { Authorization: `bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('keyhole_mcp_requests_total{server="demo",method="ping",tool="none",outcome="ok"} 1');
  });

  it('checks its options when built', () => {
    expect(() => metricsRoutes({ config: { token: 'short' }, metrics: metrics() })).toThrow('metrics.token must be at least 24 characters');
    expect(() => metricsRoutes({ config: {}, metrics: undefined })).toThrow('metrics is required');
  });
});
