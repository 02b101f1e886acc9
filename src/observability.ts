/**
 * Assembles issue 14's units for one keyhole: audit queue (write-behind into the store's audit log) → request
 * auditor → Prometheus metrics → alert dispatcher (each alert also recorded as an `alert.raised` event) →
 * retention job (one `retention.purged` event per run). keyhole.ts builds it and closes it on shutdown (the queue
 * flushes); app.ts mounts its health and metrics routes; the `/mcp` pipeline gets the auditor and `onAuthRefused`.
 *
 * Operator warn lines for upstream failures users see name the server, the stage and the cause, never a value:
 * `keyhole.upstream_failure` with stage `mcp` (from the audit record), `token_endpoint` (refresh or code
 * exchange, from the lifecycle events) or `revocation`.
 */
import { statSync } from 'node:fs';
import { statfs as statfsAsync } from 'node:fs/promises';
import Database from 'better-sqlite3';
import type { KeyholeConfig } from './config/schema.js';
import type { AuditLogRepository } from './store/repositories/audit-log.js';
import type { EventInput } from './events/recorder.js';
import type { Logger, LineSink } from './http/logger.js';
import { createAuditQueue, type AuditQueue } from './audit/audit-queue.js';
import { createRequestAuditor, type RequestAuditor } from './audit/request-audit.js';
import type { AuditRecord } from './audit/audit-record.js';
import { createRetentionJob, type RetentionJob } from './audit/retention.js';
import { REDACTION_KINDS } from './policy/secret-redactor.js';
import { createKeyholeMetrics, type CircuitStateName, type KeyholeMetrics } from './metrics/keyhole-metrics.js';
import type { HealthRoutesOptions, ReadinessCheck } from './metrics/health-routes.js';
import { createAlertDispatcher, type AlertDispatcher } from './alerts/alert-dispatcher.js';
import { grantRevokedByUpstreamAlert, rateTrigger, refreshFailedAlert, toolListChangedAlert, watchedToolAlert, watchedTools } from './alerts/alert-triggers.js';
import { diff as diffTools, fingerprintToolList, hasDrift, type ToolListFingerprint } from './audit/tool-list-drift.js';

export interface ObservabilityOptions {
  config: KeyholeConfig;
  auditLog: AuditLogRepository;
  logger: Logger;
  /** The raw log sink: one `keyhole.audit` line per record (when the log level lets info through). */
  log: LineSink;
  recordEvent: (e: EventInput) => void;
  checks: readonly ReadinessCheck[];
  /** The circuit breakers' states by server (`keyhole_circuit_state`, `/readyz` detail); absent: none shown. */
  circuitStates?: () => Readonly<Record<string, CircuitStateName>>;
  /** More `/readyz` detail (e.g. the free disk space); merged with the circuits. */
  readinessDetail?: () => Promise<Record<string, unknown>>;
  /** Epoch ms (retention cut-offs, alert times). Default Date.now. */
  now?: () => number;
  /** For the alert webhook. Default the global fetch. */
  fetch?: typeof fetch;
}

export interface Observability {
  readonly auditor: RequestAuditor;
  readonly queue: AuditQueue;
  readonly metrics: KeyholeMetrics;
  readonly alerts: AlertDispatcher | undefined;
  readonly retention: RetentionJob;
  readonly health: HealthRoutesOptions;
  /** authenticate's refusals: `keyhole_auth_failures_total` and the auth-failure rate alert. */
  onAuthRefused(reason: string): void;
  /**
   * The upstream's tools of a whole `tools/list` answer: the metrics' tool labels, and tool-list drift against the
   * previous answer seen since start (a change is a `tools.changed` event and a `tool_list_changed` alert).
   */
  onToolsList(server: string, tools: unknown[]): void;
  /** The tools a server's upstream listed last since start (names, sorted) and when (epoch ms); undefined before any. */
  listedTools(server: string): { names: string[]; at: number } | undefined;
  /** Every lifecycle event, after it is recorded: refresh metrics, refresh and upstream-revocation alerts, warn lines. */
  onEvent(e: EventInput): void;
  start(): void;
  /** Stops the retention job, flushes the audit queue, drains the alert queue. */
  close(): Promise<void>;
}

const errorName = (e: unknown) => (e instanceof Error ? e.name : 'Error');

export function createObservability(opts: ObservabilityOptions): Observability {
  const { config, auditLog, logger } = opts;
  const now = opts.now ?? Date.now;
  const queue = createAuditQueue({
    sink: (records) => auditLog.append(records),
    ...(logger.enabled('info') ? { log: opts.log } : {}),
    onSinkError: (error, attempt) => logger.warn('keyhole.audit_write_failed', { error: errorName(error), attempt }),
    onDrop: (count, reason) => logger.warn('keyhole.audit_dropped', { count, reason }),
  });
  const configTools = Object.fromEntries(Object.entries(config.servers).map(([name, s]) => [name, Object.values(s.scopes ?? {}).flatMap((d) => d.tools)]));
  const metrics = createKeyholeMetrics({
    servers: Object.keys(config.servers),
    configTools,
    processMetrics: config.metrics?.processMetrics ?? false,
    grants: () => auditLog.countByServerAndStatus(),
    auditDropped: () => queue.dropped,
    redactionKinds: [...REDACTION_KINDS, ...Object.values(config.servers).flatMap((s) => (s.guardrails?.patterns ?? []).map((p) => p.name))],
    ...(opts.circuitStates ? { circuitStates: opts.circuitStates } : {}),
    onCollectError: (metric, error) => logger.warn('keyhole.metrics_collect_failed', { metric, error: errorName(error) }),
  });
  const alerts = config.alerts
    ? createAlertDispatcher({
      config: config.alerts,
      now,
      ...(opts.fetch ? { fetch: opts.fetch } : {}),
      onAlert: (a) => opts.recordEvent({ type: 'alert.raised', server: typeof a.detail.server === 'string' ? a.detail.server : null, detail: { kind: a.kind, summary: a.summary } }),
      onDeliveryFailure: (a, reason, status) => logger.warn('keyhole.alert_undelivered', { kind: a.kind, reason, status }),
    })
    : undefined;
  const isWatched = watchedTools(config.alerts?.watchTools ?? []);
  const deniedRate = rateTrigger('denied_rate_exceeded', config.alerts?.deniedPerMinute);
  const authRate = rateTrigger('auth_failure_rate_exceeded', config.alerts?.authFailuresPerMinute);

  const fingerprints = new Map<string, ToolListFingerprint>();
  const listed = new Map<string, { names: string[]; at: number }>();
  const onRecord = (r: AuditRecord): void => {
    metrics.observeRequest({ server: r.server, method: r.method, tool: r.tool, outcome: r.outcome, durationSeconds: r.durationMsTotal / 1000 });
    if (r.redactions) metrics.redacted(r.server, r.redactions);
    if (alerts) {
      if (r.method === 'tools/call' && r.tool !== null) {
        alerts.send(watchedToolAlert(isWatched, { server: r.server, tool: r.tool, subject: r.subject, clientId: r.clientId, grantId: r.grantId, requestId: r.requestId, outcome: r.outcome }, now()));
      }
      if (r.outcome === 'denied') alerts.send(deniedRate(now()));
    }
    if (r.outcome === 'upstream_unavailable' || r.outcome === 'timeout') {
      logger.warn('keyhole.upstream_failure', { server: r.server, stage: 'mcp', cause: r.outcome, http_status: r.httpStatus, rpc_error_code: r.rpcErrorCode, request_id: r.requestId });
    }
  };
  const auditor = createRequestAuditor({ queue, serverAudit: (s) => config.servers[s]?.audit, onRecord });

  const retention = createRetentionJob({
    purger: {
      purgeAudit: (b, l) => auditLog.purgeBefore(b, l),
      purgeEvents: (b, l) => auditLog.purgeEventsBefore(b, l),
      purgeExpiredTokens: (b, l) => auditLog.purgeExpiredTokens(b, l),
    },
    config: config.retention,
    now,
    onRun: (run) => opts.recordEvent({
      type: 'retention.purged',
      outcome: run.error ? 'failure' : 'success',
      detail: { audit: run.audit, events: run.events, expired_tokens: run.expiredTokens, batches: run.batches, audit_before: new Date(run.auditBefore).toISOString(), events_before: new Date(run.eventsBefore).toISOString(), error: run.error },
    }),
  });

  return {
    auditor, queue, metrics, alerts, retention,
    health: {
      checks: opts.checks,
      ...(opts.circuitStates || opts.readinessDetail
        ? { detail: async () => ({ ...(opts.circuitStates ? { circuits: opts.circuitStates() } : {}), ...(opts.readinessDetail ? await opts.readinessDetail() : {}) }) }
        : {}),
    },
    onAuthRefused(reason) {
      metrics.authFailure(reason);
      alerts?.send(authRate(now()));
    },
    onToolsList(server, tools) {
      const current = fingerprintToolList(tools);
      metrics.setUpstreamTools(server, [...current.keys()]);
      listed.set(server, { names: [...current.keys()].sort(), at: now() });
      const previous = fingerprints.get(server);
      fingerprints.set(server, current);
      if (!previous) return;
      const d = diffTools(previous, current);
      if (!hasDrift(d)) return;
      opts.recordEvent({ type: 'tools.changed', server, detail: { added: d.added, removed: d.removed, changed: d.changed } });
      alerts?.send(toolListChangedAlert({ server, ...d }, now()));
    },
    listedTools: (server) => listed.get(server),
    onEvent(e) {
      const server = e.server ?? '';
      const detail = e.detail ?? {};
      if (e.type === 'upstream.token_refreshed') metrics.upstreamRefresh(server, 'ok');
      else if (e.type === 'upstream.refresh_failed') {
        const reason = String(detail.reason ?? 'unknown');
        if (detail.fatal === true) metrics.upstreamRefresh(server, 'invalid_grant');
        else if (detail.fatal === false) metrics.upstreamRefresh(server, reason === 'timeout' ? 'timeout' : 'transient_error');
        logger.warn('keyhole.upstream_failure', { server, stage: 'token_endpoint', cause: reason, grant_id: e.grantId ?? null });
        if (alerts && e.grantId) {
          alerts.send(refreshFailedAlert({ server, grantId: e.grantId, reason }, now()));
          if (detail.fatal === true) alerts.send(grantRevokedByUpstreamAlert({ server, grantId: e.grantId, subject: e.subject ?? null, clientId: e.clientId ?? null }, now()));
        }
      } else if (e.type === 'upstream.authorization_failed') {
        logger.warn('keyhole.upstream_failure', { server, stage: 'token_endpoint', cause: String(detail.upstream_error ?? 'unknown'), grant_id: e.grantId ?? null });
      } else if (e.type === 'upstream.revocation' && detail.result === 'failed') {
        logger.warn('keyhole.upstream_failure', { server, stage: 'revocation', cause: String(detail.error ?? 'unknown'), grant_id: e.grantId ?? null });
      }
    },
    start: () => retention.start(),
    async close() {
      await retention.stop();
      await queue.close();
      await alerts?.close();
    },
  };
}

/**
 * Readiness of the SQLite file: a fresh connection (not the store's, whose open descriptor keeps writing after a
 * chmod) takes and releases a write lock. root ignores permission bits, so a file whose mode grants no write
 * permission at all is reported too: an operator who made it read-only meant it.
 */
export function sqliteWritableCheck(path: string): ReadinessCheck {
  return {
    name: 'database',
    async check() {
      if (path === ':memory:') return true;
      if ((statSync(path).mode & 0o222) === 0) throw Object.assign(new Error('the database file is read-only'), { name: 'ReadOnlyDatabase' });
      const db = new Database(path, { fileMustExist: true, timeout: 500 });
      try {
        db.exec('BEGIN IMMEDIATE');
        db.exec('ROLLBACK');
      } finally {
        db.close();
      }
      return true;
    },
  };
}

/**
 * /readyz `disk`: the file system holding the SQLite database has at least `minFreeBytes` available to keyhole
 * (`statfs` f_bavail × f_bsize: what an unprivileged writer may use). Below that, writes (rotated upstream refresh
 * tokens above all) are about to fail: the check fails with `LowDiskSpace` so that a load balancer or an operator
 * notices before they do (issue 12 §3, "disk full"). `statfs` is injectable for tests.
 */
export function diskSpaceCheck(
  directory: string,
  minFreeBytes: number,
  statfs: (path: string) => Promise<{ bavail: number | bigint; bsize: number | bigint }> = (p) => statfsAsync(p),
): ReadinessCheck & { freeBytes(): Promise<number> } {
  const freeBytes = async () => {
    const s = await statfs(directory);
    return Number(s.bavail) * Number(s.bsize);
  };
  return {
    name: 'disk',
    freeBytes,
    async check() {
      const free = await freeBytes();
      if (free < minFreeBytes) {
        throw Object.assign(new Error(`${free} bytes free in ${directory}, below ${minFreeBytes}`), { name: 'LowDiskSpace' });
      }
      return true;
    },
  };
}

/**
 * Readiness: every rotated upstream refresh token has been written. While one is kept in memory because its write
 * failed (disk full, database unreachable; see src/upstream/token-manager.ts), /readyz answers 503 with this check
 * failed (`UnwrittenRefreshTokens`): a restart now would lose those grants. No token value, no grant id in the answer.
 */
export function refreshWritesCheck(source: { pendingWrites(): readonly string[] }): ReadinessCheck {
  return {
    name: 'upstream refresh writes',
    async check() {
      const pending = source.pendingWrites().length;
      if (pending > 0) throw Object.assign(new Error(`${pending} rotated upstream refresh token(s) wait to be written`), { name: 'UnwrittenRefreshTokens' });
      return true;
    },
  };
}
