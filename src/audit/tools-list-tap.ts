/**
 * Watches a `tools/list` answer on its way to the client, without changing a byte: a copy of the body (at most
 * `maxBytes`; past that nothing is reported) is parsed when it ends, JSON or SSE, and the `result.tools` of the
 * answers to the request's `tools/list` ids are handed to `onTools` (for the metrics' tool labels and tool-list
 * drift). When another rewrite (the scope filter) is also set, the tap sees the upstream's bytes first.
 * @see https://modelcontextprotocol.io/specification/2025-11-25/server/tools#listing-tools
 */
import { Transform, type TransformCallback } from 'node:stream';

export const MAX_TAP_BYTES = 1_048_576;

/** The `result.tools` of the first answer to one of `ids` (JSON-stringified ids) in a JSON or SSE body. */
export function toolsFromBody(text: string, ids: ReadonlySet<string>, sse: boolean): unknown[] | undefined {
  const payloads = sse
    ? text.split(/\r?\n\r?\n|\r\r/).map((event) => event.split(/\r?\n|\r/).filter((l) => l.startsWith('data:')).map((l) => l.slice(l.startsWith('data: ') ? 6 : 5)).join('\n')).filter((d) => d.length > 0)
    : [text];
  for (const payload of payloads) {
    let parsed: unknown;
    try { parsed = JSON.parse(payload); } catch { continue; }
    for (const msg of Array.isArray(parsed) ? parsed : [parsed]) {
      if (!msg || typeof msg !== 'object') continue;
      const m = msg as { id?: unknown; result?: { tools?: unknown; nextCursor?: unknown } };
      if (!ids.has(JSON.stringify(m.id ?? null)) || !m.result || !Array.isArray(m.result.tools)) continue;
      if (m.result.nextCursor !== undefined) return undefined; // one page of several: not the whole list
      return m.result.tools;
    }
  }
  return undefined;
}

/**
 * A Transform that passes every chunk through `next` (or unchanged when there is none) and reports the listed
 * tools once the body ended. `onTools` is called at most once and never throws into the stream.
 */
export function toolsListTap(ids: ReadonlySet<string>, sse: boolean, onTools: (tools: unknown[]) => void, next: Transform | null, maxBytes = MAX_TAP_BYTES): Transform {
  const chunks: Buffer[] = [];
  let size = 0;
  const observe = (chunk: Buffer) => {
    if (size > maxBytes) return;
    size += chunk.length;
    if (size <= maxBytes) chunks.push(chunk);
  };
  const report = () => {
    if (size > maxBytes) return;
    try {
      const tools = toolsFromBody(Buffer.concat(chunks).toString('utf8'), ids, sse);
      if (tools) onTools(tools);
    } catch { /* observing never breaks the answer */ }
  };
  if (!next) {
    return new Transform({
      transform(chunk: Buffer, _enc, cb: TransformCallback) { observe(chunk); cb(null, chunk); },
      flush(cb: TransformCallback) { report(); cb(); },
    });
  }
  let nextEnded = false;
  let flushing = false;
  const outer = new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      if (nextEnded) return cb(); // the inner rewrite ended the answer early (e.g. too large to filter): drop the rest
      observe(chunk);
      next.write(chunk, (err) => cb(err ?? undefined));
    },
    flush(cb: TransformCallback) {
      if (nextEnded) return cb();
      flushing = true;
      report();
      next.once('end', () => cb());
      next.end();
    },
    destroy(err, cb) { next.destroy(err ?? undefined); cb(err); },
  });
  next.on('data', (d: Buffer) => outer.push(d));
  next.on('end', () => {
    nextEnded = true;
    if (!flushing) outer.push(null);
  });
  next.on('error', (e) => outer.destroy(e));
  return outer;
}
