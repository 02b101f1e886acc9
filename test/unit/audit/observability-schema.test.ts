import { describe, expect, it } from 'vitest';
import { alertsSchema, logLevelSchema, metricsSchema, retentionSchema, serverAuditSchema } from '../../../src/config/observability-schema.js';

const issues = (r: { success: boolean; error?: { issues: Array<{ path: PropertyKey[]; message: string }> } }) =>
  r.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);

describe('observability-schema', () => {
  it('fills the defaults', () => {
    expect(metricsSchema.parse({})).toEqual({ processMetrics: true });
    expect(logLevelSchema.parse(undefined)).toBe('info');
    expect(retentionSchema.parse({})).toEqual({ auditDays: 30, eventDays: 365, expiredTokensDays: 7, intervalMinutes: 60, batchSize: 500 });
    expect(serverAuditSchema.parse({})).toEqual({ arguments: 'none' });
    expect(alertsSchema.parse({ webhook: 'https://hooks.example.com/k', secret: 's'.repeat(16) })).toEqual({
      webhook: 'https://hooks.example.com/k', secret: 's'.repeat(16), watchTools: [], timeoutMs: 5_000, maxAttempts: 4,
    });
  });

  it('accepts the issue example', () => {
    const a = alertsSchema.parse({ webhook: 'https://x.example/h', secret: 'a-long-alert-secret', watchTools: ['delete_*', '*_write'], deniedPerMinute: 20, authFailuresPerMinute: 50 });
    expect(a.watchTools).toEqual(['delete_*', '*_write']);
    expect(a.deniedPerMinute).toBe(20);
  });

  it('names the field of each error', () => {
    expect(issues(metricsSchema.safeParse({ token: 'short' }))).toEqual(['token: must be at least 24 characters (use `openssl rand -base64 32`)']);
    expect(issues(alertsSchema.safeParse({ webhook: 'ftp://x', secret: 'x'.repeat(16) }))).toEqual(['webhook: must be an http(s) URL']);
    expect(issues(serverAuditSchema.safeParse({ arguments: 'all' }))?.[0]).toMatch(/^arguments: /);
    expect(issues(retentionSchema.safeParse({ auditDays: 0 }))?.[0]).toMatch(/^auditDays: /);
    expect(issues(logLevelSchema.safeParse('verbose'))?.[0]).toMatch(/^: /);
    expect(issues(metricsSchema.safeParse({ extra: 1 }))?.[0]).toMatch(/extra/);
  });
});
