/**
 * Redaction of tool output on the wire (issue 15, guardrails): secrets inside the JSON string values of a
 * JSON-RPC `result` are replaced (see secret-redactor.ts), in JSON bodies and in SSE streams.
 * - Raw text first: when {@link Redactor.mayContain} says no detector can match, the bytes pass untouched and
 *   nothing is parsed (the common case).
 * - Otherwise the message is parsed, the strings of `result` walked, and the message re-serialised only if a
 *   string changed, so the output is always valid JSON. Keys, `id`, `error` and notifications are left alone.
 * - Text that should be JSON but does not parse is redacted as plain text (fail closed).
 * - JSON bodies are buffered up to `maxBytes`; beyond it the stream fails (no unredacted body is sent).
 * - SSE: events are cut at blank lines (CRLF, LF or CR line ends) by a linear scan that never looks at a byte
 *   twice, and each event is written as soon as it is complete (a slow stream still arrives event by event).
 *   UTF-8 is decoded across chunk boundaries. An event larger than `maxEventBytes` fails the stream.
 * @see https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
 */
import { Transform, type TransformCallback } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type { RedactionCounts, Redactor } from './secret-redactor.js';

export interface RedactionStreamOptions {
  /** Called once per body or event in which something was redacted: kinds and counts, never values. */
  onRedacted?: (counts: RedactionCounts) => void;
  /** JSON bodies: the buffering cap (default 16 MiB). SSE: the cap per event (default 8 MiB, in UTF-16 units). */
  maxBytes?: number;
}

export class RedactionLimitError extends Error {
  override readonly name = 'RedactionLimitError';
}

/** A copy of `v` with its strings redacted, or `v` itself when nothing changed. */
export function redactStrings(v: unknown, redactor: Redactor, counts: RedactionCounts): unknown {
  if (typeof v === 'string') return redactor.redact(v, counts);
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    let out: unknown[] | null = null;
    for (let i = 0; i < v.length; i++) {
      const r = redactStrings(v[i], redactor, counts);
      if (r !== v[i]) (out ??= v.slice())[i] = r;
    }
    return out ?? v;
  }
  let out: Record<string, unknown> | null = null;
  for (const key of Object.keys(v)) {
    const before = (v as Record<string, unknown>)[key];
    const r = redactStrings(before, redactor, counts);
    if (r !== before) (out ??= { ...(v as Record<string, unknown>) })[key] = r;
  }
  return out ?? v;
}

function redactMessage(m: unknown, redactor: Redactor, counts: RedactionCounts): unknown {
  if (!m || typeof m !== 'object' || !('result' in m)) return m;
  const result = (m as { result: unknown }).result;
  const r = redactStrings(result, redactor, counts);
  return r === result ? m : { ...(m as object), result: r };
}

/** Redacts one JSON-RPC message or batch given as JSON text; undefined when nothing changed. */
export function redactJsonRpcText(text: string, redactor: Redactor, counts: RedactionCounts): string | undefined {
  if (!redactor.mayContain(text)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    const plain = redactor.redact(text, counts);
    return plain === text ? undefined : plain;
  }
  const out = Array.isArray(parsed) ? parsed.map((m) => redactMessage(m, redactor, counts)) : redactMessage(parsed, redactor, counts);
  const changed = Array.isArray(parsed) ? (out as unknown[]).some((m, i) => m !== parsed[i]) : out !== parsed;
  return changed ? JSON.stringify(out) : undefined;
}

const report = (counts: RedactionCounts, onRedacted: RedactionStreamOptions['onRedacted']): void => {
  for (const _ in counts) {
    onRedacted?.(counts);
    return;
  }
};

/** A JSON body: buffered (bounded), redacted, re-serialised only if something changed. */
export function jsonRedactionStream(redactor: Redactor, options: RedactionStreamOptions = {}): Transform {
  const max = options.maxBytes ?? 16 * 1_048_576;
  const chunks: Buffer[] = [];
  let size = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      size += chunk.length;
      if (size > max) return cb(new RedactionLimitError(`response body larger than ${max} bytes cannot be redacted`));
      chunks.push(chunk);
      cb();
    },
    flush(cb: TransformCallback) {
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
      const counts: RedactionCounts = {};
      const out = redactJsonRpcText(body.toString('utf8'), redactor, counts);
      report(counts, options.onRedacted);
      cb(null, out === undefined ? body : Buffer.from(out, 'utf8'));
    },
  });
}

const LINE_END = /\r\n|\r|\n/g;

/** Rewrites one complete SSE event (its text includes the blank line that ends it). */
function redactEvent(event: string, redactor: Redactor, counts: RedactionCounts): string {
  if (!redactor.mayContain(event)) return event;
  const lines = event.split(/\r\n|\r|\n/);
  const data: string[] = [];
  for (const l of lines) if (l.startsWith('data')) {
    if (l.length === 4) data.push('');
    else if (l[4] === ':') data.push(l.slice(l[5] === ' ' ? 6 : 5));
  }
  if (data.length === 0) return event;
  const rewritten = redactJsonRpcText(data.join('\n'), redactor, counts);
  if (rewritten === undefined) return event;
  // Keep every other field (id, event, retry, comments) in order; the data becomes one field per line of it.
  const out: string[] = [];
  let placed = false;
  for (const l of lines) {
    if (l === '') continue;
    if (l === 'data' || l.startsWith('data:')) {
      if (!placed) for (const part of rewritten.split(/\r\n|\r|\n/)) out.push(`data: ${part}`);
      placed = true;
    } else out.push(l);
  }
  return `${out.join('\n')}\n\n`;
}

/**
 * An SSE body: each complete event is redacted and written at once. Each chunk is scanned once: the current
 * event is kept as a list of pieces (joined once, when the event completes), so a large event arriving in many
 * small chunks costs linear time.
 */
export function sseRedactionStream(redactor: Redactor, options: RedactionStreamOptions = {}): Transform {
  const max = options.maxBytes ?? 8 * 1_048_576;
  const decoder = new StringDecoder('utf8');
  let parts: string[] = [];
  let size = 0;
  /** No character of the current line seen yet (a line end now is a blank line: the event ends). */
  let atLineStart = true;
  /** A CR that ended the previous chunk: it may be the first half of a CRLF. */
  let carry = '';

  const emit = (t: Transform, event: string): void => {
    const counts: RedactionCounts = {};
    t.push(redactEvent(event, redactor, counts));
    report(counts, options.onRedacted);
  };

  /** Scans `text` (carry included); returns false when the current event outgrew the cap. */
  const scan = (t: Transform, text: string, final: boolean): boolean => {
    let from = 0;
    let lineStart = atLineStart ? 0 : -1;
    let tailEnd = text.length;
    LINE_END.lastIndex = 0;
    for (let m = LINE_END.exec(text); m; m = LINE_END.exec(text)) {
      if (m[0] === '\r' && m.index === text.length - 1 && !final) {
        tailEnd = m.index;
        break;
      }
      const end = m.index + m[0].length;
      if (m.index === lineStart) {
        const tail = text.slice(from, end);
        emit(t, parts.length ? parts.join('') + tail : tail);
        parts = [];
        size = 0;
        from = end;
      }
      lineStart = end;
    }
    carry = text.slice(tailEnd);
    atLineStart = lineStart === tailEnd;
    if (tailEnd > from) {
      parts.push(text.slice(from, tailEnd));
      size += tailEnd - from;
    }
    return size <= max;
  };

  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      if (!scan(this, carry + decoder.write(chunk), false)) return cb(new RedactionLimitError(`SSE event larger than ${max} characters cannot be redacted`));
      cb();
    },
    flush(cb: TransformCallback) {
      scan(this, carry + decoder.end(), true);
      // An unterminated last event is redacted like any other.
      if (parts.length) emit(this, parts.join(''));
      cb();
    },
  });
}
