import { describe, expect, it } from 'vitest';
import { createServerPolicies } from '../../../src/policy/server-policy.js';
import { serverPolicyFields } from '../../../src/config/policy-schema.js';
import { z } from 'zod';
import type { StateChange } from '../../../src/policy/circuit-breaker.js';

const serverPolicySchema = z.strictObject(serverPolicyFields);

describe('server-policy', () => {
  it('builds inactive units for a server that configures nothing', () => {
    const p = createServerPolicies({ servers: { plain: serverPolicySchema.parse({}) }, now: () => 0 }).get('plain')!;
    expect([p.limits.active, p.breaker, p.argumentRules.active, p.pins, p.redactor.active]).toEqual([false, null, false, null, false]);
  });

  it('builds every configured unit from the parsed config blocks, and reports breaker changes by server', () => {
    const changes: Array<[string, StateChange['to']]> = [];
    const config = serverPolicySchema.parse({
      limits: { perPerson: { requestsPerMinute: 1 } },
      circuitBreaker: { failureThreshold: 1 },
      health: {},
      argumentRules: [{ tool: 'create_issue', pointer: '/repo', allow: ['acme/*'] }],
      pinTools: true,
      guardrails: { redactSecrets: true },
    });
    const policies = createServerPolicies({ servers: { gh: config }, now: () => 0, onBreakerStateChange: (s, c) => changes.push([s, c.to]) });
    const p = policies.get('gh')!;
    expect(p.limits.active).toBe(true);
    expect(p.argumentRules.check('create_issue', { repo: 'x/y' })).toMatchObject({ ok: false, reason: 'not_allowed' });
    expect(p.pins!.checkCall('anything')).toEqual({ ok: false, reason: 'unapproved' });
    expect(p.redactor.redact('AKIAIOSFODNN7EXAMPLE')).toBe('[REDACTED:aws_access_key]');
    const a = p.breaker!.admit();
    if (a.ok) a.permit.failure();
    expect(changes).toEqual([['gh', 'open']]);
    expect(policies.get('nope')).toBe(undefined);
  });

  it('gives a server with health checks and no circuitBreaker a breaker with the schema defaults', () => {
    const p = createServerPolicies({ servers: { h: serverPolicySchema.parse({ health: {} }) }, now: () => 0 }).get('h')!;
    for (let i = 0; i < 4; i++) {
      const a = p.breaker!.admit();
      if (a.ok) a.permit.failure();
    }
    expect(p.breaker!.snapshot().state).toBe('closed');
    const a = p.breaker!.admit();
    if (a.ok) a.permit.failure();
    expect(p.breaker!.snapshot()).toEqual({ state: 'open', since: 0, failures: 0, retryAfterSeconds: 30 });
  });
});
