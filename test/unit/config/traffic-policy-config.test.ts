/**
 * The traffic-policy fields in the config (schema.ts spreads policy-schema.ts): defaults, errors naming the field
 * path, and the GitHub example, whose argument rules keep writes inside one organization.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load-config.js';
import { createArgumentRules } from '../../../src/policy/argument-rules.js';

const base = { publicUrl: 'http://127.0.0.1:8787', servers: { demo: { upstream: 'http://127.0.0.1:9000/mcp', oauth: { issuer: 'http://127.0.0.1:9001', clientId: 'k' } } } };
const withDemo = (extra: Record<string, unknown>, top: Record<string, unknown> = {}) => ({ ...base, ...top, servers: { demo: { ...base.servers.demo, ...extra } } });

describe('traffic policy config', () => {
  it('is off by default and fills defaults of the blocks given', () => {
    const off = parseConfig(base).servers.demo!;
    expect([off.limits, off.circuitBreaker, off.health, off.argumentRules, off.guardrails, off.pinTools]).toEqual([undefined, undefined, undefined, undefined, undefined, false]);
    const on = parseConfig(withDemo({ circuitBreaker: {}, health: {}, guardrails: {}, pinTools: true }, { limits: { perPerson: { requestsPerMinute: 60 } } }));
    expect(on.servers.demo!.circuitBreaker).toEqual({ failureThreshold: 5, openSeconds: 30, successThreshold: 2 });
    expect(on.servers.demo!.health).toEqual({ path: '/healthz', intervalSeconds: 10, timeoutSeconds: 3, unhealthyThreshold: 3, healthyThreshold: 2 });
    expect(on.servers.demo!.guardrails).toEqual({ redactSecrets: true, patterns: [] });
    expect(on.limits).toEqual({ perPerson: { requestsPerMinute: 60 } });
  });

  it('names the field path of a bad rule', () => {
    expect(() => parseConfig(withDemo({ argumentRules: [{ tool: 'x', pointer: 'owner', allow: ['a'] }] }))).toThrow(/servers\.demo\.argumentRules\.0\.pointer/);
    expect(() => parseConfig(withDemo({ limits: { tools: { x: {} } } }))).toThrow(/servers\.demo\.limits\.tools\.x/);
    expect(() => parseConfig(withDemo({}, { limits: { nope: 1 } }))).toThrow(/limits/);
  });

  it('parses the GitHub example, whose rules allow writes to acme only', () => {
    const config = parseConfig(JSON.parse(readFileSync(new URL('../../../examples/github/keyhole.json', import.meta.url), 'utf8')), { GITHUB_CLIENT_ID: 'x', GITHUB_CLIENT_SECRET: 'y', KEYHOLE_ADMIN_TOKEN: 'a'.repeat(32) });
    const rules = createArgumentRules(config.servers.github!.argumentRules);
    expect(rules.check('create_issue', { owner: 'acme', repo: 'api', title: 't' })).toEqual({ ok: true });
    expect(rules.check('create_issue', { owner: 'evil', repo: 'api', title: 't' })).toMatchObject({ ok: false, reason: 'not_allowed' });
    expect(rules.check('push_files', { repo: 'api' })).toMatchObject({ ok: false, reason: 'missing' });
    expect(rules.check('delete_file', { owner: 'acme', repo: 'infra', path: 'x' })).toMatchObject({ ok: false, reason: 'denied' });
    expect(rules.check('create_repository', { organization: 'acme', name: 'n' })).toEqual({ ok: true });
    expect(rules.check('get_file_contents', { owner: 'anyone', repo: 'x' })).toEqual({ ok: true }); // reads are not constrained
  });
});
