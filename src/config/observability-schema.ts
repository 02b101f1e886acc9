/**
 * Config blocks of issue 14 ("Every call on the record"), for schema.ts to plug in:
 * - top level: `metrics` → {@link metricsSchema}, `logLevel` → {@link logLevelSchema}, `alerts` → {@link alertsSchema},
 *   `retention` → {@link retentionSchema};
 * - per server: `audit` → {@link serverAuditSchema}.
 * Absent `metrics` means no `/metrics` route (404); absent `alerts` means no dispatcher.
 */
import { z } from 'zod';
import { LOG_LEVELS } from '../http/logger.js';

const httpUrl = z.string().url().refine((u) => /^https?:\/\//.test(u), 'must be an http(s) URL');
/** A tool name or a `*` glob over tool names (same shape as the policy blocks). */
const toolPattern = z.string().min(1).max(200);

export const metricsSchema = z.strictObject({
  /** When set, `GET /metrics` requires `Authorization: Bearer <token>` (compared in constant time). */
  token: z.string().min(24, 'must be at least 24 characters (use `openssl rand -base64 32`)').optional(),
  /** Node process metrics (CPU, memory, event loop lag, GC) in the same registry. */
  processMetrics: z.boolean().default(true),
});

export const logLevelSchema = z.enum(LOG_LEVELS).default('info');

export const alertsSchema = z.strictObject({
  /** Where alerts are POSTed (JSON, signed with `X-Keyhole-Signature: sha256=<hex HMAC>`). */
  webhook: httpUrl,
  /** HMAC-SHA256 key of the signature, usually `${ALERT_SECRET}`. */
  secret: z.string().min(16, 'must be at least 16 characters (use `openssl rand -base64 32`)'),
  /** Tool names or globs whose every call raises an alert, e.g. `["delete_*", "*_write"]`. */
  watchTools: z.array(toolPattern).max(200).default([]),
  /** Denied calls per minute (all servers) above which an alert is raised; absent: never. */
  deniedPerMinute: z.number().int().min(1).max(1_000_000).optional(),
  /** Authentication failures per minute above which an alert is raised; absent: never. */
  authFailuresPerMinute: z.number().int().min(1).max(1_000_000).optional(),
  /** Per delivery attempt. */
  timeoutMs: z.number().int().min(100).max(60_000).default(5_000),
  /** Attempts per alert (the first included), with exponential backoff between them. */
  maxAttempts: z.number().int().min(1).max(10).default(4),
});

export const retentionSchema = z.strictObject({
  /** Audit records older than this are deleted. */
  auditDays: z.number().int().min(1).max(36_500).default(30),
  /** Lifecycle events older than this are deleted. */
  eventDays: z.number().int().min(1).max(36_500).default(365),
  /** Keyhole tokens and codes expired for longer than this are deleted. */
  expiredTokensDays: z.number().int().min(0).max(3_650).default(7),
  /** How often the purge job runs. */
  intervalMinutes: z.number().int().min(1).max(10_080).default(60),
  /** Rows deleted per batch (the store's transaction size). */
  batchSize: z.number().int().min(1).max(100_000).default(500),
});

/** Per server: `"none"` (default) never records tool arguments; `"redacted"` records them with secrets replaced. */
export const serverAuditSchema = z.strictObject({
  arguments: z.enum(['none', 'redacted']).default('none'),
});

export type MetricsConfig = z.infer<typeof metricsSchema>;
export type AlertsConfig = z.infer<typeof alertsSchema>;
export type RetentionConfig = z.infer<typeof retentionSchema>;
export type ServerAuditConfig = z.infer<typeof serverAuditSchema>;
