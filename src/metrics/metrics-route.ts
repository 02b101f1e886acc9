/**
 * `GET /metrics`: the Prometheus text exposition of keyhole's registry. With `metrics.token` configured it needs
 * `Authorization: Bearer <token>` (compared in constant time); without credentials or with a wrong token: 401
 * with `WWW-Authenticate: Bearer realm="keyhole-metrics"`. With no `metrics` block in the config the route
 * answers 404, as if it did not exist.
 * @see https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3
 */
import { Hono } from 'hono';
import type { MetricsConfig } from '../config/observability-schema.js';
import { safeEqual } from '../store/crypto/hash.js';

export const METRICS_REALM = 'keyhole-metrics';

export interface MetricsSource {
  render(): Promise<string>;
  readonly contentType: string;
}

export function metricsRoutes(opts: { config: Pick<MetricsConfig, 'token'> | undefined; metrics: MetricsSource | undefined }): Hono {
  const app = new Hono();
  const { config, metrics } = opts;
  if (config && !metrics) throw new TypeError('metricsRoutes: metrics is required when the config has a metrics block');
  if (config?.token !== undefined && (typeof config.token !== 'string' || config.token.length < 24)) {
    throw new TypeError('metricsRoutes: metrics.token must be at least 24 characters');
  }
  app.get('/metrics', async function serveMetrics(c) {
    if (!config || !metrics) return c.notFound();
    c.header('Cache-Control', 'no-store');
    if (config.token !== undefined) {
      // https://www.rfc-editor.org/rfc/rfc6750#section-2.1 — credentials = "Bearer" 1*SP b64token
      const match = /^Bearer +(\S+) *$/i.exec(c.req.header('authorization') ?? '');
      if (!match) {
        // https://www.rfc-editor.org/rfc/rfc6750#section-3.1 — no error code when the request has no credentials.
        c.header('WWW-Authenticate', `Bearer realm="${METRICS_REALM}"`);
        return c.json({ error: 'unauthorized', error_description: 'metrics need Authorization: Bearer <metrics token>' }, 401);
      }
      if (!safeEqual(match[1]!, config.token)) {
        c.header('WWW-Authenticate', `Bearer realm="${METRICS_REALM}", error="invalid_token"`);
        return c.json({ error: 'invalid_token', error_description: 'the metrics token is not valid' }, 401);
      }
    }
    const body = await metrics.render();
    return c.body(body, 200, { 'Content-Type': metrics.contentType });
  });
  return app;
}
