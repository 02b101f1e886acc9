/**
 * Filters `tools/list` results down to the tools a grant may call, in JSON bodies and in SSE streams.
 * - JSON: the (bounded) body is parsed once, filtered and re-serialised.
 * - SSE: events are split in one linear pass (sse-event-splitter.ts) and re-emitted as they complete; only a
 *   response event whose id is one of the `tools/list` request ids is rewritten, every other event passes byte
 *   for byte. Nothing waits for the end of the stream; an event over 16 MB ends the stream with an error event.
 * - A rewritten list says `cacheScope: "private"` and `ttlMs: 0`: it is filtered for one grant, whose scopes can grow.
 * @see https://modelcontextprotocol.io/specification/2026-07-28/server/utilities/caching#cache-scope-field
 * @see https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
 */
import { Transform, type TransformCallback } from 'node:stream';
import { idKey } from './jsonrpc-inspect.js';
import { jsonRpcErrorBody } from './jsonrpc-errors.js';
import { createSseEventSplitter } from './sse-event-splitter.js';

/** A listed tool (an object with a string `name`; description, inputSchema, … as the upstream sent them). */
export type ListedTool = { readonly name: string } & Readonly<Record<string, unknown>>;
/** Whether a listed tool stays in the list: given the whole tool object (pinned tools compare its description and schema). */
export type Keep = (tool: ListedTool) => boolean;
const MAX_JSON_BYTES = 16 * 1_048_576;

/** Rewrites one JSON-RPC message if it answers a filtered `tools/list`; returns undefined when untouched. */
function filterMessage(msg: unknown, ids: Set<string>, keep: Keep): unknown | undefined {
  if (!msg || typeof msg !== 'object') return undefined;
  const m = msg as { id?: unknown; result?: { tools?: unknown } };
  if (!ids.has(idKey(m.id)) || !m.result || !Array.isArray(m.result.tools)) return undefined;
  const tools = m.result.tools.filter((t) => t && typeof t === 'object' && typeof (t as { name?: unknown }).name === 'string' && keep(t as ListedTool));
  // A filtered list differs per grant: its caching hint becomes "private" (a "public" one would let a shared
  // cache serve one user's list to another), and `ttlMs: 0` (immediately stale), because the grant's scopes can
  // change under the same client (a step-up): the upstream's TTL would keep showing the old list. Results of
  // earlier revisions carry no hints and get none.
  // https://modelcontextprotocol.io/specification/2026-07-28/server/utilities/caching#choosing-a-cache-scope
  // https://modelcontextprotocol.io/specification/2026-07-28/server/utilities/caching#time-to-live-ttl-field
  const hinted = 'cacheScope' in m.result || 'ttlMs' in m.result;
  return { ...m, result: { ...m.result, tools, ...(hinted ? { cacheScope: 'private', ttlMs: 0 } : {}) } };
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

/** The JSON-RPC error event that ends a stream keyhole cannot filter (never the unfiltered bytes). */
function tooLargeEvent(ids: Set<string>): Buffer {
  const id = ids.size === 1 ? (JSON.parse([...ids][0]!) as unknown) : null;
  return Buffer.from(`event: message\ndata: ${JSON.stringify(jsonRpcErrorBody('RESPONSE_TOO_LARGE_TO_FILTER', { id }))}\n\n`);
}

/** Where the event's terminating line breaks begin (the event is whole: it ends with its blank line). */
function contentEnd(event: string): number {
  let end = event.length;
  while (end > 0 && (event.charCodeAt(end - 1) === 0x0a || event.charCodeAt(end - 1) === 0x0d)) end--;
  return end;
}

/** One whole SSE event: rewritten when it answers a filtered tools/list, else the same bytes. */
function rewriteEvent(bytes: Buffer, ids: Set<string>, keep: Keep): Buffer {
  const text = bytes.toString('utf8');
  const end = contentEnd(text);
  const lines = text.slice(0, end).split(/\r\n|\n|\r/);
  const data = lines.filter((l) => l.startsWith('data:')).map((l) => l.slice(l.startsWith('data: ') ? 6 : 5));
  if (data.length === 0) return bytes;
  const rewritten = rewriteJson(data.join('\n'), ids, keep);
  if (rewritten === undefined) return bytes;
  // Keep every non-data field (id, event, retry, comments) as it was; the data becomes one line.
  return Buffer.from([...lines.filter((l) => !l.startsWith('data:')), `data: ${rewritten}`].join('\n') + text.slice(end), 'utf8');
}

/**
 * An SSE body: each complete event is inspected and emitted immediately (linear in the stream's size).
 * An event larger than 16 MB (the JSON path's cap) ends the stream with a JSON-RPC error event.
 */
export function sseToolsListFilter(ids: Set<string>, keep: Keep, maxEventBytes = MAX_JSON_BYTES): Transform {
  const splitter = createSseEventSplitter(maxEventBytes);
  let ended = false;
  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      if (ended) return cb(); // the rest of an oversized stream is dropped (the forwarder closes the upstream)
      const out: Buffer[] = [];
      const ok = splitter.push(chunk, (event) => out.push(rewriteEvent(event, ids, keep)));
      if (!ok) {
        ended = true;
        out.push(tooLargeEvent(ids));
        this.push(Buffer.concat(out));
        this.push(null);
        return cb();
      }
      cb(null, out.length === 0 ? undefined : out.length === 1 ? out[0] : Buffer.concat(out));
    },
    flush(cb: TransformCallback) {
      if (ended) return cb();
      const rest = splitter.rest();
      cb(null, rest.length ? rewriteEvent(rest, ids, keep) : undefined);
    },
  });
}
