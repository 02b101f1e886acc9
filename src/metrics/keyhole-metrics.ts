/**
 * keyhole's Prometheus metrics (issue 14), in a registry of their own (never prom-client's global one), with
 * Node's process metrics collected into it when asked. Every label passes through label-bounds.ts first.
 *
 * | series | type | labels |
 * |---|---|---|
 * | keyhole_mcp_requests_total | counter | server, method, tool, outcome |
 * | keyhole_mcp_request_duration_seconds | histogram (1 ms … 30 s) | server, method |
 * | keyhole_auth_failures_total | counter | reason |
 * | keyhole_upstream_refresh_total | counter | server, outcome |
 * | keyhole_active_streams | gauge (collect callback) | server |
 * | keyhole_grants | gauge (async collect callback) | server, status |
 * | keyhole_audit_dropped_total | counter (collect callback) | — |
 * | keyhole_circuit_state | gauge: 0 closed, 1 half-open, 2 open | server |
 * | keyhole_redactions_total | counter | server, kind (a known kind, else `other`) |
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { AUDIT_OUTCOMES, type AuditOutcome } from '../audit/audit-record.js';
import { createLabelBounds, OTHER, type LabelBounds } from './label-bounds.js';

export const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
export const AUTH_FAILURE_REASONS = ['missing_token', 'invalid_token', 'expired_token', 'wrong_audience', 'grant_revoked', 'upstream_grant_ended'] as const;
export const REFRESH_OUTCOMES = ['ok', 'transient_error', 'timeout', 'invalid_grant'] as const;
export const CIRCUIT_STATE_VALUES = { closed: 0, 'half-open': 1, open: 2 } as const;
export type CircuitStateName = keyof typeof CIRCUIT_STATE_VALUES;

export interface GrantCount { server: string; status: string; count: number }

export interface KeyholeMetricsOptions {
  servers: readonly string[];
  configTools?: Readonly<Record<string, readonly string[]>>;
  /** Node process metrics (CPU, memory, event loop lag, GC) in the same registry. Default true. */
  processMetrics?: boolean;
  /** Open SSE streams per server, read at scrape time. */
  activeStreams?: () => Readonly<Record<string, number>>;
  /** Grants per server and status, read at scrape time (the store's count query). */
  grants?: () => Promise<readonly GrantCount[]>;
  /** The audit queue's `dropped` counter, read at scrape time. */
  auditDropped?: () => number;
  /** Breaker state per server, read at scrape time. */
  circuitStates?: () => Readonly<Record<string, CircuitStateName>>;
  /** The redaction kinds a `kind` label may hold (built-in kinds and configured pattern names); others are `other`. */
  redactionKinds?: readonly string[];
  /** Called when a scrape-time callback throws (its series is left empty for that scrape). */
  onCollectError?: (metric: string, error: unknown) => void;
}

export interface RequestObservation {
  server: string;
  method: string | null;
  tool: string | null;
  outcome: AuditOutcome;
  durationSeconds: number;
}

export interface KeyholeMetrics {
  readonly registry: Registry;
  readonly labels: LabelBounds;
  observeRequest(o: RequestObservation): void;
  authFailure(reason: string): void;
  upstreamRefresh(server: string, outcome: string): void;
  setUpstreamTools(server: string, names: readonly string[]): void;
  /** Secrets redacted from one answer, count per kind (`keyhole_redactions_total`). */
  redacted(server: string, counts: Readonly<Record<string, number>>): void;
  /** Prometheus text exposition format 0.0.4. */
  render(): Promise<string>;
  readonly contentType: string;
}

const OUTCOMES: ReadonlySet<string> = new Set(AUDIT_OUTCOMES);
const bounded = (set: readonly string[], v: string): string => (set.includes(v) ? v : OTHER);

export function createKeyholeMetrics(opts: KeyholeMetricsOptions): KeyholeMetrics {
  const labels = createLabelBounds({ servers: opts.servers, ...(opts.configTools ? { configTools: opts.configTools } : {}) });
  const registry = new Registry();
  const registers = [registry];
  if (opts.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  const guard = <T>(metric: string, fn: () => T, fallback: T): T => {
    try { return fn(); } catch (error) { opts.onCollectError?.(metric, error); return fallback; }
  };

  const requests = new Counter({ name: 'keyhole_mcp_requests_total', help: 'MCP requests by server, method, tool and outcome.', labelNames: ['server', 'method', 'tool', 'outcome'] as const, registers });
  const duration = new Histogram({ name: 'keyhole_mcp_request_duration_seconds', help: 'MCP request duration (to the end of the answer), seconds.', labelNames: ['server', 'method'] as const, buckets: DURATION_BUCKETS, registers });
  const authFailures = new Counter({ name: 'keyhole_auth_failures_total', help: 'Refused MCP bearer tokens by reason.', labelNames: ['reason'] as const, registers });
  const redactions = new Counter({ name: 'keyhole_redactions_total', help: 'Secrets redacted from MCP answers by server and kind.', labelNames: ['server', 'kind'] as const, registers });
  const kinds: ReadonlySet<string> = new Set(opts.redactionKinds ?? []);
  const refreshes = new Counter({ name: 'keyhole_upstream_refresh_total', help: 'Upstream token refreshes by server and outcome.', labelNames: ['server', 'outcome'] as const, registers });

  const { activeStreams, grants, auditDropped, circuitStates } = opts;
  new Gauge({
    name: 'keyhole_active_streams', help: 'Open streamed (SSE) answers per server.', labelNames: ['server'] as const, registers,
    collect() {
      this.reset();
      const now = activeStreams ? guard('keyhole_active_streams', activeStreams, {}) : {};
      for (const s of labels.servers) this.set({ server: s }, now[s] ?? 0);
    },
  });
  new Gauge({
    name: 'keyhole_grants', help: 'Grants per server and status.', labelNames: ['server', 'status'] as const, registers,
    async collect() {
      this.reset();
      if (!grants) return;
      let rows: readonly GrantCount[] = [];
      try { rows = await grants(); } catch (error) { opts.onCollectError?.('keyhole_grants', error); return; }
      for (const r of rows) this.inc({ server: labels.server(r.server), status: bounded(['active', 'revoked'], r.status) }, r.count);
    },
  });
  let droppedSeen = 0;
  new Counter({
    name: 'keyhole_audit_dropped_total', help: 'Audit records dropped (queue full, closed, or the store failed after retries).', registers,
    collect() {
      const now = auditDropped ? guard('keyhole_audit_dropped_total', auditDropped, droppedSeen) : 0;
      if (now > droppedSeen) this.inc(now - droppedSeen);
      droppedSeen = Math.max(droppedSeen, now);
    },
  });
  new Gauge({
    name: 'keyhole_circuit_state', help: 'Circuit breaker state per server: 0 closed, 1 half-open, 2 open.', labelNames: ['server'] as const, registers,
    collect() {
      this.reset();
      if (!circuitStates) return;
      const states = guard('keyhole_circuit_state', circuitStates, {});
      for (const [s, state] of Object.entries(states)) {
        if (state in CIRCUIT_STATE_VALUES) this.set({ server: labels.server(s) }, CIRCUIT_STATE_VALUES[state]);
      }
    },
  });

  return {
    registry,
    labels,
    observeRequest(o) {
      const server = labels.server(o.server);
      const method = labels.method(o.method);
      requests.inc({ server, method, tool: labels.tool(o.server, o.tool), outcome: OUTCOMES.has(o.outcome) ? o.outcome : OTHER });
      if (Number.isFinite(o.durationSeconds) && o.durationSeconds >= 0) duration.observe({ server, method }, o.durationSeconds);
    },
    authFailure: (reason) => authFailures.inc({ reason: bounded(AUTH_FAILURE_REASONS as unknown as string[], reason) }),
    upstreamRefresh: (server, outcome) => refreshes.inc({ server: labels.server(server), outcome: bounded(REFRESH_OUTCOMES as unknown as string[], outcome) }),
    setUpstreamTools: (server, names) => labels.setUpstreamTools(server, names),
    redacted(server, counts) {
      for (const [kind, n] of Object.entries(counts)) {
        if (Number.isInteger(n) && n > 0) redactions.inc({ server: labels.server(server), kind: kinds.has(kind) ? kind : OTHER }, n);
      }
    },
    render: () => registry.metrics(),
    contentType: registry.contentType,
  };
}
