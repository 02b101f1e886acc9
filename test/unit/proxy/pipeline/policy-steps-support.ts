/** Shared by the unit tests of the traffic-policy steps: policies built from config blocks, a fake client response. */
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { createServerPolicies, type ServerPolicyConfig } from '../../../../src/policy/server-policy.js';
import { argumentRulesSchema, circuitBreakerSchema, guardrailsSchema, limitsSchema } from '../../../../src/config/policy-schema.js';

export function policiesFor(demo: { limits?: unknown; circuitBreaker?: unknown; argumentRules?: unknown; guardrails?: unknown; pinTools?: boolean }, now = () => 1_000_000) {
  const config: ServerPolicyConfig = {
    ...(demo.limits ? { limits: limitsSchema.parse(demo.limits) } : {}),
    ...(demo.circuitBreaker ? { circuitBreaker: circuitBreakerSchema.parse(demo.circuitBreaker) } : {}),
    ...(demo.argumentRules ? { argumentRules: argumentRulesSchema.parse(demo.argumentRules) } : {}),
    ...(demo.guardrails ? { guardrails: guardrailsSchema.parse(demo.guardrails) } : {}),
    ...(demo.pinTools ? { pinTools: true } : {}),
  };
  return createServerPolicies({ servers: { demo: config, other: {} }, now });
}

/** Stands in for the client's ServerResponse: the steps only listen for 'close'. */
export function fakeOutgoing(): ServerResponse & { finish(): void } {
  const e = new EventEmitter() as EventEmitter & { destroyed: boolean; writableFinished: boolean; finish(): void };
  e.destroyed = false;
  e.writableFinished = false;
  e.finish = () => {
    e.writableFinished = true;
    e.emit('close');
  };
  return e as unknown as ServerResponse & { finish(): void };
}
