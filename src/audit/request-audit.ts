/**
 * The audit trail of one `/mcp/{server}` request, for the pipeline's audit step: `begin()` when the request
 * arrives (trace context, request id, a meter on the response's write path), `end()` once the answer is over
 * (outcome and JSON-RPC error code from the status and the first bytes written, arguments redacted per the
 * server's audit mode, the record enqueued and handed to `onRecord` for metrics and alerts). Never throws from
 * `end()`: auditing must not break a request.
 */
import type { ServerAuditConfig } from '../config/observability-schema.js';
import { createArgumentRedactor, type ArgumentRedactor } from './argument-redactor.js';
import type { AuditQueue } from './audit-queue.js';
import { buildAuditRecord, newAuditId, type AuditRecord } from './audit-record.js';
import { createResponseMeter, meterServerResponse, outcomeOf, scanJsonRpcErrorCode, scanToolError, type WritableResponse } from './response-accounting.js';
import { requestIdOf, traceContextFrom, type TraceContext } from './trace-context.js';

/** What the steps learned; everything optional except the status. */
export interface AuditFacts {
  httpStatus: number;
  person?: string | null;
  subject?: string | null;
  clientId?: string | null;
  grantId?: string | null;
  method?: string | null;
  tool?: string | null;
  denialReason?: string | null;
  requestBytes?: number;
  /** The raw `params.arguments` of a tools/call; stored (redacted) only in `redacted` mode. */
  arguments?: unknown;
}

export interface AuditTrail {
  readonly trace: TraceContext;
  readonly requestId: string;
  /** Idempotent: the first call records, later ones return the same record. */
  end(facts: AuditFacts): AuditRecord | null;
}

export interface RequestAuditorOptions {
  queue: Pick<AuditQueue, 'enqueue'>;
  /** Per server `audit` config; absent server → `{ arguments: 'none' }`. */
  serverAudit?: (server: string) => ServerAuditConfig | undefined;
  now?: () => number;
  redactor?: ArgumentRedactor;
  newId?: () => string;
  /** Metrics and alerts feed (called after enqueue; a throw is swallowed). */
  onRecord?: (record: AuditRecord) => void;
}

export interface RequestAuditor {
  begin(server: string, traceparent: string | null | undefined, res: WritableResponse | undefined): AuditTrail;
}

export function createRequestAuditor(opts: RequestAuditorOptions): RequestAuditor {
  if (typeof opts?.queue?.enqueue !== 'function') throw new TypeError('createRequestAuditor: queue is required');
  const now = opts.now ?? Date.now;
  const redact = opts.redactor ?? createArgumentRedactor();
  const newId = opts.newId ?? newAuditId;
  return {
    begin(server, traceparent, res) {
      const startedAt = now();
      const trace = traceContextFrom(traceparent);
      const requestId = requestIdOf(trace);
      const meter = createResponseMeter(startedAt, now);
      const restore = res ? meterServerResponse(res, meter) : () => {};
      let record: AuditRecord | null | undefined;
      return {
        trace,
        requestId,
        end(facts) {
          if (record !== undefined) return record;
          try {
            restore();
            const m = meter.finish();
            const rpcErrorCode = scanJsonRpcErrorCode(m.head);
            const mode = opts.serverAudit?.(server)?.arguments ?? 'none';
            // A literal of fixed shape, not a spread of `facts`: the spread made a slow dictionary-mode object (~8 µs).
            record = buildAuditRecord({
              startedAt, server, requestId,
              // A tool result with isError (an upstream tool failure) is an error too, though HTTP and JSON-RPC say ok.
              outcome: rpcErrorCode === null && facts.httpStatus === 200 && facts.method === 'tools/call' && scanToolError(m.head) ? 'error' : outcomeOf(facts.httpStatus, rpcErrorCode),
              httpStatus: facts.httpStatus,
              person: facts.person, subject: facts.subject, clientId: facts.clientId, grantId: facts.grantId,
              method: facts.method, tool: facts.tool, denialReason: facts.denialReason,
              rpcErrorCode,
              durationMsToFirstByte: m.durationMsToFirstByte,
              durationMsTotal: m.durationMsTotal,
              requestBytes: facts.requestBytes,
              responseBytes: m.responseBytes,
              arguments: mode === 'redacted' && facts.arguments !== undefined ? redact(facts.arguments) : undefined,
            }, newId);
            opts.queue.enqueue(record);
            try { opts.onRecord?.(record); } catch { /* metrics and alerts never break a request */ }
            return record;
          } catch {
            record = null;
            return null;
          }
        },
      };
    },
  };
}
