/**
 * Response accounting for the forward step: time to first byte, total duration and bytes of a streamed answer
 * (a passive `data` listener beside the existing pipe, so no extra stream sits on the hot path), and the audit
 * `outcome` / `rpcErrorCode` from the HTTP status and a bounded scan of the first bytes of the body.
 */
import type { Readable } from 'node:stream';
import type { AuditOutcome } from './audit-record.js';

export interface ResponseMeasure {
  /** ms from the request's start to the first body byte; null when none was sent. */
  durationMsToFirstByte: number | null;
  durationMsTotal: number;
  responseBytes: number;
  /** The first bytes of the body (at most `headBytes`), for {@link scanJsonRpcErrorCode}. */
  head: Buffer;
}

export interface ResponseMeter {
  /** Counts a chunk (call it from a write path or a Transform); the first one stamps the first byte. */
  observe(chunk: Buffer | Uint8Array | string, encoding?: BufferEncoding): void;
  /**
   * Counts everything `source` emits, without changing how it flows. Call it in the same tick as `pipe()` (before
   * or after): a `data` listener alone would start the flow, and chunks emitted before the pipe would be lost.
   */
  attach(source: Readable): void;
  /** Stops the clock (idempotent: the first call wins) and returns the figures. */
  finish(): ResponseMeasure;
}

export function createResponseMeter(startedAt: number, now: () => number = Date.now, headBytes = 4_096): ResponseMeter {
  let firstByteAt: number | null = null;
  let bytes = 0;
  const headChunks: Buffer[] = [];
  let headLength = 0;
  let done: ResponseMeasure | undefined;

  const observe = (chunk: Buffer | Uint8Array | string, encoding?: BufferEncoding): void => {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, encoding ?? 'utf8') : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (buf.length === 0 || done) return;
    if (firstByteAt === null) firstByteAt = now();
    bytes += buf.length;
    if (headLength < headBytes) {
      const part = buf.subarray(0, headBytes - headLength);
      headChunks.push(part);
      headLength += part.length;
    }
  };
  return {
    observe,
    attach(source) {
      source.on('data', (chunk: Buffer | string) => observe(chunk));
    },
    finish() {
      done ??= {
        durationMsToFirstByte: firstByteAt === null ? null : firstByteAt - startedAt,
        durationMsTotal: now() - startedAt,
        responseBytes: bytes,
        head: Buffer.concat(headChunks, headLength),
      };
      return done;
    },
  };
}

/** The write path of a `ServerResponse` (only what {@link meterServerResponse} wraps). */
export interface WritableResponse {
  write(...args: never[]): boolean;
  end(...args: never[]): unknown;
}

/**
 * Counts every body byte written to a response (keyhole's own answers through `end(body)`, relayed upstream
 * answers through `pipe` → `write`) by wrapping `write` and `end` on this one instance; headers are not counted.
 * Returns a function that restores the originals. Costs one function call per chunk.
 */
export function meterServerResponse(res: WritableResponse, meter: ResponseMeter): () => void {
  const target = res as unknown as { write: (...a: unknown[]) => boolean; end: (...a: unknown[]) => unknown };
  const { write, end } = target;
  const count = (chunk: unknown, encoding: unknown) => {
    if (typeof chunk === 'string' || chunk instanceof Uint8Array) meter.observe(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : undefined);
  };
  target.write = function meteredWrite(this: unknown, ...args: unknown[]) {
    count(args[0], args[1]);
    return write.apply(this, args);
  };
  target.end = function meteredEnd(this: unknown, ...args: unknown[]) {
    if (typeof args[0] !== 'function') count(args[0], args[1]);
    return end.apply(this, args);
  };
  return () => {
    target.write = write;
    target.end = end;
  };
}

/** keyhole's own JSON-RPC codes (docs/jsonrpc-errors.md) that say more than the HTTP status. */
const OUTCOME_BY_RPC_CODE: ReadonlyMap<number, AuditOutcome> = new Map<number, AuditOutcome>([
  [-32029, 'rate_limited'],
  [-32000, 'denied'],
  [-32003, 'denied'],
  [-32013, 'denied'],
  [-32001, 'unauthorized'],
  [-32004, 'upstream_unavailable'],
  [-32006, 'upstream_unavailable'],
  [-32007, 'upstream_unavailable'],
  [-32008, 'upstream_unavailable'],
  [-32005, 'timeout'],
  [-32009, 'timeout'],
]);

/** The audit outcome of an answer; a JSON-RPC error code (when found) takes precedence over the status. */
export function outcomeOf(httpStatus: number, rpcErrorCode: number | null = null): AuditOutcome {
  if (rpcErrorCode !== null) {
    const known = OUTCOME_BY_RPC_CODE.get(rpcErrorCode);
    if (known) return known;
  }
  if (httpStatus === 401) return 'unauthorized';
  if (httpStatus === 403) return 'denied';
  if (httpStatus === 429) return 'rate_limited';
  if (httpStatus === 502 || httpStatus === 503) return 'upstream_unavailable';
  if (httpStatus === 504) return 'timeout';
  if (httpStatus >= 400 || httpStatus < 200) return 'error';
  return rpcErrorCode === null ? 'ok' : 'error';
}

const isSpace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

/**
 * The `error.code` of the first JSON-RPC message in the first `limit` bytes of a JSON or SSE (`data:`) body,
 * without parsing the rest: a single pass that tracks strings and nesting, so an `"error"` inside a string or a
 * nested result never counts. Null when there is none in reach (a result, a cut-off head, not JSON).
 */
export function scanJsonRpcErrorCode(body: Buffer | string, limit = 4_096): number | null {
  const s = typeof body === 'string' ? body.slice(0, limit) : body.subarray(0, limit).toString('latin1');
  let i = 0;
  while (i < s.length && isSpace(s.charCodeAt(i))) i++;
  if (s[i] !== '{' && s[i] !== '[') {
    const data = s.indexOf('data:', i); // SSE: the first event's data line
    if (data < 0) return null;
    i = data + 5;
    while (i < s.length && isSpace(s.charCodeAt(i))) i++;
  }
  const messageDepth = s[i] === '[' ? 2 : s[i] === '{' ? 1 : 0;
  if (messageDepth === 0) return null;
  let depth = 0;
  let key: string | null = null;
  let errorDepth = 0; // depth of the open `error` object, 0 when not inside one
  for (; i < s.length; i++) {
    const c = s[i];
    if (c === '"') {
      const start = ++i;
      while (i < s.length && s[i] !== '"') i += s[i] === '\\' ? 2 : 1;
      if (i >= s.length) return null;
      const str = s.slice(start, i);
      let j = i + 1;
      while (j < s.length && isSpace(s.charCodeAt(j))) j++;
      if (s[j] !== ':') continue; // a value, not a key
      key = str;
      i = j;
      if (depth === messageDepth && key === 'result') return null; // a response has a result or an error, not both
      if (errorDepth !== 0 && depth === errorDepth && key === 'code') {
        const m = /^[ \t\r\n]*(-?\d{1,9})(?![\d.eE])/.exec(s.slice(j + 1, j + 32));
        return m ? Number(m[1]) : null;
      }
    } else if (c === '{' || c === '[') {
      depth++;
      if (c === '{' && errorDepth === 0 && key === 'error' && depth === messageDepth + 1) errorDepth = depth;
      key = null;
    } else if (c === '}' || c === ']') {
      if (depth === errorDepth) errorDepth = 0;
      depth--;
      if (depth < messageDepth) return null; // the first message ended without an error
      key = null;
    } else if (c === ',') {
      key = null;
    }
  }
  return null;
}

/**
 * Whether the first JSON-RPC message in the first `limit` bytes is a tool result with `"isError": true` (an
 * upstream tool failure: MCP reports those inside a result, not as a JSON-RPC error). Same bounded single pass as
 * {@link scanJsonRpcErrorCode}: only `result.isError` of the first message counts, never a nested or quoted one.
 * @see https://modelcontextprotocol.io/specification/2025-11-25/server/tools#error-handling
 */
export function scanToolError(body: Buffer | string, limit = 4_096): boolean {
  const s = typeof body === 'string' ? body.slice(0, limit) : body.subarray(0, limit).toString('latin1');
  let i = 0;
  while (i < s.length && isSpace(s.charCodeAt(i))) i++;
  if (s[i] !== '{' && s[i] !== '[') {
    const data = s.indexOf('data:', i);
    if (data < 0) return false;
    i = data + 5;
    while (i < s.length && isSpace(s.charCodeAt(i))) i++;
  }
  const messageDepth = s[i] === '[' ? 2 : s[i] === '{' ? 1 : 0;
  if (messageDepth === 0) return false;
  let depth = 0;
  let key: string | null = null;
  let resultDepth = 0;
  for (; i < s.length; i++) {
    const c = s[i];
    if (c === '"') {
      const start = ++i;
      while (i < s.length && s[i] !== '"') i += s[i] === '\\' ? 2 : 1;
      if (i >= s.length) return false;
      const str = s.slice(start, i);
      let j = i + 1;
      while (j < s.length && isSpace(s.charCodeAt(j))) j++;
      if (s[j] !== ':') continue;
      key = str;
      i = j;
      if (resultDepth !== 0 && depth === resultDepth && key === 'isError') return /^[ \t\r\n]*true(?![A-Za-z0-9])/.test(s.slice(j + 1, j + 16));
    } else if (c === '{' || c === '[') {
      depth++;
      if (c === '{' && resultDepth === 0 && key === 'result' && depth === messageDepth + 1) resultDepth = depth;
      key = null;
    } else if (c === '}' || c === ']') {
      if (depth === resultDepth) return false; // the result ended without isError
      depth--;
      if (depth < messageDepth) return false;
      key = null;
    } else if (c === ',') {
      key = null;
    }
  }
  return false;
}
