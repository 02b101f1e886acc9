/**
 * Config blocks of traffic policy (issue 15), for schema.ts to plug in:
 * - top level: `limits` (global) → {@link limitsSchema};
 * - per server: `limits`, `circuitBreaker`, `health`, `argumentRules`, `pinTools`, `guardrails`.
 * Regexes and JSON Pointers are checked here so a bad one fails at config load with its field path; src/policy
 * compiles them once when a server's units are built.
 * @see https://www.rfc-editor.org/rfc/rfc6901 (JSON Pointer)
 */
import { z } from 'zod';

/** A tool name or a `*` glob over tool names. */
const toolPattern = z.string().min(1).max(200);
const positiveInt = z.number().int().positive();

/** One rate: at least one of the windows; `burst` is the bucket size (default: the smallest window's count). */
export const rateLimitSchema = z
  .strictObject({
    requestsPerSecond: positiveInt.optional(),
    requestsPerMinute: positiveInt.optional(),
    requestsPerHour: positiveInt.optional(),
    requestsPerDay: positiveInt.optional(),
    burst: positiveInt.optional(),
  })
  .refine((r) => r.requestsPerSecond || r.requestsPerMinute || r.requestsPerHour || r.requestsPerDay, {
    message: 'needs at least one of requestsPerSecond, requestsPerMinute, requestsPerHour, requestsPerDay',
  });

export const upstreamLimitSchema = z
  .strictObject({
    /** Requests in flight to the upstream at once (a gate, released when the answer ends). */
    maxConcurrent: positiveInt.optional(),
    requestsPerSecond: positiveInt.optional(),
    requestsPerMinute: positiveInt.optional(),
    burst: positiveInt.optional(),
  })
  .refine((r) => r.maxConcurrent || r.requestsPerSecond || r.requestsPerMinute, {
    message: 'needs maxConcurrent, requestsPerSecond or requestsPerMinute',
  });

/** `limits`, per server and (same shape) at the top level, where it applies across all servers. */
export const limitsSchema = z.strictObject({
  /** Per person (the grant's subject). */
  perPerson: rateLimitSchema.optional(),
  /** Per OAuth client. */
  perClient: rateLimitSchema.optional(),
  /** `tools/call` only, per person and per pattern: every tool a pattern matches shares its bucket. */
  tools: z.record(toolPattern, rateLimitSchema).optional(),
  /** Everything sent to the upstream, whoever sends it. */
  upstream: upstreamLimitSchema.optional(),
});

export const circuitBreakerSchema = z.strictObject({
  /** Consecutive failures (connection failure, timeout, 5xx) that open the circuit. */
  failureThreshold: z.number().int().min(1).max(1_000).default(5),
  /** Seconds the circuit stays open before one trial request is let through. */
  openSeconds: z.number().int().min(1).max(3_600).default(30),
  /** Successful trials (half-open) that close the circuit again. */
  successThreshold: z.number().int().min(1).max(100).default(2),
});

export const healthSchema = z
  .strictObject({
    /** Path probed on the upstream's origin (GET, 2xx = healthy). */
    path: z.string().regex(/^\/[^\s#]*$/, 'must be an absolute path such as /healthz').default('/healthz'),
    intervalSeconds: z.number().int().min(1).max(3_600).default(10),
    timeoutSeconds: z.number().int().min(1).max(60).default(3),
    unhealthyThreshold: z.number().int().min(1).max(100).default(3),
    healthyThreshold: z.number().int().min(1).max(100).default(2),
  })
  .refine((h) => h.timeoutSeconds <= h.intervalSeconds, { message: 'must not exceed intervalSeconds', path: ['timeoutSeconds'] });

// RFC 6901 §3: "" or a sequence of "/" reference tokens, where "~" is only ever followed by 0 or 1.
const POINTER = /^(?:\/(?:[^~/]|~[01])*)*$/;

/** JS has no inline flags: a leading `(?i)` becomes the `i` flag. Returns the error message, or null when it compiles. */
export function regexProblem(source: string): string | null {
  const ci = source.startsWith('(?i)');
  try {
    new RegExp(ci ? source.slice(4) : source, ci ? 'i' : '');
  } catch (e) {
    return `invalid regex: ${(e as Error).message}`;
  }
  // ReDoS heuristic: a quantified group that itself ends in a quantifier, e.g. (a+)+ or (\w*)*.
  if (/\((?:[^()\\]|\\.)*[+*}]\)[+*{]/.test(source)) return 'nested quantifiers such as (a+)+ are not allowed (catastrophic backtracking)';
  return null;
}

const regexSource = z.string().min(1).max(1_000).superRefine((s, ctx) => {
  const problem = regexProblem(s);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

export const argumentRuleSchema = z
  .strictObject({
    /** Tool name or `*` glob. */
    tool: toolPattern,
    /** RFC 6901 JSON Pointer into `params.arguments`, e.g. `/repo` or `/files/0/path`. */
    pointer: z.string().max(500).regex(POINTER, 'must be an RFC 6901 JSON Pointer ("" or "/a/b", "~" only as ~0 or ~1)'),
    /** `glob` (default; `*` matches any run of characters) or `regex` (`(?i)` prefix = case-insensitive). */
    match: z.enum(['glob', 'regex']).default('glob'),
    /** The value must match one of these. */
    allow: z.array(z.string().min(1).max(1_000)).min(1).max(100).optional(),
    /** The value must match none of these. */
    deny: z.array(z.string().min(1).max(1_000)).min(1).max(100).optional(),
  })
  .refine((r) => r.allow || r.deny, { message: 'needs "allow" or "deny"' })
  .superRefine((r, ctx) => {
    if (r.match !== 'regex') return;
    for (const field of ['allow', 'deny'] as const) {
      r[field]?.forEach((source, i) => {
        const problem = regexProblem(source);
        if (problem) ctx.addIssue({ code: 'custom', message: problem, path: [field, i] });
      });
    }
  });

export const argumentRulesSchema = z.array(argumentRuleSchema).max(500);

export const guardrailsSchema = z.strictObject({
  /** Built-in detectors: PEM private keys, AWS/GitHub/GitLab/Slack tokens, JWTs, Bearer values, secret-like key=value. */
  redactSecrets: z.boolean().default(true),
  /** Extra detectors; each match becomes `[REDACTED:<name>]`. */
  patterns: z
    .array(z.strictObject({ name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,39}$/, 'lowercase letters, digits, "_" and "-"'), regex: regexSource }))
    .max(50)
    .default([]),
});

/** The per-server policy fields, to spread into serverSchema. */
export const serverPolicyFields = {
  limits: limitsSchema.optional(),
  circuitBreaker: circuitBreakerSchema.optional(),
  health: healthSchema.optional(),
  argumentRules: argumentRulesSchema.optional(),
  /** Only tools whose description and inputSchema match the approved snapshot are listed and callable. */
  pinTools: z.boolean().default(false),
  guardrails: guardrailsSchema.optional(),
};

export type RateLimitConfig = z.infer<typeof rateLimitSchema>;
export type UpstreamLimitConfig = z.infer<typeof upstreamLimitSchema>;
export type LimitsConfig = z.infer<typeof limitsSchema>;
export type CircuitBreakerConfig = z.infer<typeof circuitBreakerSchema>;
export type HealthConfig = z.infer<typeof healthSchema>;
export type ArgumentRuleConfig = z.infer<typeof argumentRuleSchema>;
export type GuardrailsConfig = z.infer<typeof guardrailsSchema>;
