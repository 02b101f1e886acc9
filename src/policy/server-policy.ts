/**
 * Builds every traffic-policy unit of every server once, at startup, from the config blocks (policy-schema.ts):
 * what a data-plane step needs per request is then one Map lookup away. Units a server does not configure are
 * inactive constants (limits, argument rules, redactor) or null (breaker, pins), so the common case costs
 * a property read. Health checkers need a probe (HTTP) and are started by the caller (see health-checker.ts).
 */
import type { ArgumentRuleConfig, CircuitBreakerConfig, GuardrailsConfig, HealthConfig, LimitsConfig } from '../config/policy-schema.js';
import { createArgumentRules, type ArgumentRules } from './argument-rules.js';
import type { BucketStore } from './bucket-store.js';
import { createCircuitBreaker, type CircuitBreaker, type StateChange } from './circuit-breaker.js';
import { createPinnedTools, type PinnedTools, type ToolSnapshot } from './pinned-tools.js';
import { createRateLimits, type RateLimits, type ServerLimiter } from './rate-limiter.js';
import { createSecretRedactor, type Redactor } from './secret-redactor.js';

/** The policy fields of a server's config (a structural subset of ServerConfig once schema.ts has them). */
export interface ServerPolicyConfig {
  limits?: LimitsConfig | undefined;
  circuitBreaker?: CircuitBreakerConfig | undefined;
  /** Health checks feed a breaker: a server with `health` and no `circuitBreaker` gets one with the defaults. */
  health?: HealthConfig | undefined;
  argumentRules?: ArgumentRuleConfig[] | undefined;
  pinTools?: boolean | undefined;
  guardrails?: GuardrailsConfig | undefined;
}

export interface ServerPolicy {
  readonly server: string;
  readonly limits: ServerLimiter;
  readonly breaker: CircuitBreaker | null;
  readonly argumentRules: ArgumentRules;
  /** Null unless `pinTools`; with `pinTools` and no approved snapshot yet, every tool is unapproved. */
  readonly pins: PinnedTools | null;
  readonly redactor: Redactor;
}

/** circuitBreakerSchema's defaults (policy may import config types only, not the schema itself). */
const DEFAULT_BREAKER: CircuitBreakerConfig = { failureThreshold: 5, openSeconds: 30, successThreshold: 2 };

export interface ServerPolicies {
  get(server: string): ServerPolicy | undefined;
  readonly rateLimits: RateLimits;
}

export function createServerPolicies(options: {
  servers: Readonly<Record<string, ServerPolicyConfig>>;
  /** Top-level `limits`. */
  global?: LimitsConfig | undefined;
  now: () => number;
  store?: BucketStore;
  /** Instances sharing the deployment: each enforces `limit / instances` (./rate-limiter.ts). Default 1. */
  instances?: number;
  onBreakerStateChange?: (server: string, change: StateChange) => void;
  /** The approved tool snapshot of a pinned server (storage comes later). */
  approvedTools?: (server: string) => ToolSnapshot | undefined;
}): ServerPolicies {
  const { now } = options;
  const rateLimits = createRateLimits({ global: options.global, now, ...(options.store ? { store: options.store } : {}), ...(options.instances ? { instances: options.instances } : {}) });
  const policies = new Map<string, ServerPolicy>();
  for (const [server, config] of Object.entries(options.servers)) {
    const onChange = options.onBreakerStateChange;
    const breaker = config.circuitBreaker ?? (config.health ? DEFAULT_BREAKER : undefined);
    policies.set(server, {
      server,
      limits: rateLimits.forServer(server, config.limits),
      breaker: breaker
        ? createCircuitBreaker({ ...breaker, now, ...(onChange ? { onStateChange: (c: StateChange) => onChange(server, c) } : {}) })
        : null,
      argumentRules: createArgumentRules(config.argumentRules),
      pins: config.pinTools ? createPinnedTools(options.approvedTools?.(server) ?? {}) : null,
      redactor: createSecretRedactor(config.guardrails),
    });
  }
  return { get: (server) => policies.get(server), rateLimits };
}
