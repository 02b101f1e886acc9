/**
 * Filters `tools/list` results down to the tools a grant may call, in JSON bodies and in SSE streams.
 * - JSON: the (bounded) body is parsed once, filtered and re-serialised.
 * - SSE: events are parsed one at a time as they complete and re-emitted at once; only a response event whose
 *   id is one of the `tools/list` request ids is rewritten, every other event passes byte for byte. Nothing
 *   waits for the end of the stream.
 * @see https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
 */
import { Transform, type TransformCallback } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { idKey } from './jsonrpc-inspect.js';

type Keep = (tool: string) => boolean;
const MAX_JSON_BYTES = 16 * 1_048_576;

/** Rewrites one JSON-RPC message if it answers a filtered `tools/list`; returns undefined when untouched. */
function filterMessage(msg: unknown, ids: Set<string>, keep: Keep): unknown | undefined {
  if (!msg || typeof msg !== 'object') return undefined;
  const m = msg as { id?: unknown; result?: { tools?: unknown } };
  if (!ids.has(idKey(m.id)) || !m.result || !Array.isArray(m.result.tools)) return undefined;
  const tools = m.result.tools.filter((t) => t && typeof t === 'object' && typeof (t as { name?: unknown }).name === 'string' && keep((t as { name: string }).name));
  return { ...m, result: { ...m.result, tools } };
}

function rewriteJson(text: string, ids: Set<string>, keep: Keep): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (Array.isArray(parsed)) {
    let changed = false;
    const out = parsed.map((m) => {
      const r = filterMessage(m, ids, keep);
      if (r !== undefined) changed = true;
      return r ?? m;
    });
    return changed ? JSON.stringify(out) : undefined;
  }
  const r = filterMessage(parsed, ids, keep);
  return r === undefined ? undefined : JSON.stringify(r);
}

/** A JSON body: buffered (bounded), filtered, re-serialised. An unparseable body passes unchanged. */
export function jsonToolsListFilter(ids: Set<string>, keep: Keep): Transform {
  const chunks: Buffer[] = [];
  let size = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      size += chunk.length;
      if (size > MAX_JSON_BYTES) {
        // Too large to be a tools/list answer we can filter: refuse rather than leak unfiltered tools.
        return cb(new Error('tools/list response too large to filter'));
      }
      chunks.push(chunk);
      cb();
    },
    flush(cb: TransformCallback) {
      const text = Buffer.concat(chunks).toString('utf8');
      cb(null, rewriteJson(text, ids, keep) ?? text);
    },
  });
}

const EVENT_END = /\r\n\r\n|\n\n|\r\r/;

/** An SSE body: each complete event is inspected and emitted immediately. */
export function sseToolsListFilter(ids: Set<string>, keep: Keep): Transform {
  let pending = '';
  const decoder = new StringDecoder('utf8'); // a multi-byte character may straddle two chunks
  const rewriteEvent = (event: string): string => {
    const lines = event.split(/\r\n|\n|\r/);
    const data = lines.filter((l) => l.startsWith('data:')).map((l) => l.slice(l.startsWith('data: ') ? 6 : 5));
    if (data.length === 0) return event;
    const rewritten = rewriteJson(data.join('\n'), ids, keep);
    if (rewritten === undefined) return event;
    // Keep every non-data field (id, event, retry, comments) as it was; the data becomes one line.
    return [...lines.filter((l) => !l.startsWith('data:')), `data: ${rewritten}`].join('\n');
  };
  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      pending += decoder.write(chunk);
      let out = '';
      for (let m = EVENT_END.exec(pending); m; m = EVENT_END.exec(pending)) {
        const event = pending.slice(0, m.index);
        out += rewriteEvent(event) + m[0];
        pending = pending.slice(m.index + m[0].length);
      }
      cb(null, out.length ? out : undefined);
    },
    flush(cb: TransformCallback) {
      pending += decoder.end();
      cb(null, pending.length ? rewriteEvent(pending) : undefined);
    },
  });
}
