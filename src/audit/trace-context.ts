/**
 * W3C Trace Context `traceparent`: parse an incoming one or start a new trace; the request id derives from it.
 * keyhole is one hop: it keeps the trace id, and its own span id becomes the parent id of what it forwards.
 * @see https://www.w3.org/TR/trace-context/#traceparent-header
 */
import { randomFillSync } from 'node:crypto';

export interface TraceContext {
  /** 32 lowercase hex, not all zeros. */
  traceId: string;
  /** The caller's span (16 hex), or null when keyhole started the trace. */
  parentId: string | null;
  /** keyhole's own span for this request (16 hex, not all zeros). */
  spanId: string;
  /** 2 hex; bit 0 = sampled. */
  flags: string;
}

// https://www.w3.org/TR/trace-context/#traceparent-header-field-values: lowercase hex only; version ff is invalid.
const TRACEPARENT_00 = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
/** A future version: the same first four fields, then optionally more after a dash (spec §"Versioning"). */
const TRACEPARENT_FUTURE = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(?:-.*)?$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

export interface ParsedTraceparent {
  traceId: string;
  parentId: string;
  flags: string;
}

/** Null for anything malformed (then the caller starts a new trace, as the spec says). */
export function parseTraceparent(header: string | null | undefined): ParsedTraceparent | null {
  if (typeof header !== 'string' || header.length < 55 || header.length > 512) return null;
  const value = header.replace(/^[ \t]+|[ \t]+$/g, '');
  let m = TRACEPARENT_00.exec(value);
  let traceId: string, parentId: string, flags: string;
  if (m) {
    [, traceId, parentId, flags] = m as unknown as [string, string, string, string];
  } else {
    const f = TRACEPARENT_FUTURE.exec(value);
    // Version 00 must be exactly 55 characters; version ff is forbidden.
    if (!f || f[1] === '00' || f[1] === 'ff') return null;
    [, , traceId, parentId, flags] = f as unknown as [string, string, string, string, string];
  }
  if (traceId === ZERO_TRACE || parentId === ZERO_SPAN) return null;
  return { traceId, parentId, flags };
}

export type RandomHex = (bytes: number) => string;
/** Random bytes drawn from a 4 KiB pool refilled in one call (a `randomBytes(8)` per request costs ~2 µs). */
const pool = Buffer.alloc(4_096);
let poolOffset = pool.length;
const defaultRandomHex: RandomHex = (bytes) => {
  if (poolOffset + bytes > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const hex = pool.toString('hex', poolOffset, poolOffset + bytes);
  poolOffset += bytes;
  return hex;
};

/** Continues the caller's trace when `traceparent` is valid, else starts one (sampled flag off). */
export function traceContextFrom(header: string | null | undefined, randomHex: RandomHex = defaultRandomHex): TraceContext {
  const parsed = parseTraceparent(header);
  const spanId = nonZero(randomHex, 8, ZERO_SPAN);
  if (parsed) return { traceId: parsed.traceId, parentId: parsed.parentId, spanId, flags: parsed.flags };
  return { traceId: nonZero(randomHex, 16, ZERO_TRACE), parentId: null, spanId, flags: '00' };
}

function nonZero(randomHex: RandomHex, bytes: number, zero: string): string {
  for (let i = 0; i < 4; i++) {
    const v = randomHex(bytes);
    if (v !== zero) return v;
  }
  throw new Error('random source returned zeros');
}

/** The `traceparent` keyhole sends upstream: same trace, keyhole's span as the parent (always version 00). */
export function formatTraceparent(ctx: TraceContext): string {
  return `00-${ctx.traceId}-${ctx.spanId}-${ctx.flags}`;
}

/** The request id in audit records and logs: `<trace id>-<keyhole span id>`, unique per request. */
export function requestIdOf(ctx: TraceContext): string {
  return `${ctx.traceId}-${ctx.spanId}`;
}
