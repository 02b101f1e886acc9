/**
 * Reads the client's request body with a hard cap, before anything is forwarded (the body is replayed as is on
 * the upstream-401 retry, and rules may need to read it).
 */
import type { IncomingMessage } from 'node:http';

/** Thrown by {@link readRequestBody} when the body exceeds the cap; map it to 413. */
export class BodyTooLargeError extends Error {
  override readonly name = 'BodyTooLargeError';
  constructor(readonly maxBytes: number) {
    super(`request body exceeds ${maxBytes} bytes`);
  }
}

/**
 * The first value of a field (`lower` in lower case) from a flat raw header array, as `incoming.headers[lower]`
 * would give it for a single-value field, without building `incoming.headers` (Node builds that object on first
 * access, one `_addHeaderLine` per field: measurable on the /mcp hot path, which otherwise reads only rawHeaders).
 */
export function firstRawHeader(raw: string[], lower: string): string | undefined {
  for (let i = 0; i < raw.length; i += 2) {
    const n = raw[i]!;
    if (n.length === lower.length && n.toLowerCase() === lower) return raw[i + 1]!;
  }
  return undefined;
}

/**
 * Read the whole request body, refusing anything past `maxBytes` without buffering more than `maxBytes`.
 * A declared `Content-Length` over the cap is refused before reading. After a refusal the rest of the body is
 * left unread (paused); `@hono/node-server` drains or closes the connection once the response is sent.
 */
export function readRequestBody(incoming: IncomingMessage, maxBytes: number): Promise<Buffer> {
  try {
    const whole = readWholeBody(incoming, maxBytes);
    return whole ? Promise.resolve(whole) : streamRequestBody(incoming, maxBytes);
  } catch (e) {
    return Promise.reject(e);
  }
}

/**
 * The same checks, synchronously: the body when it is already all here (else null, read it as a stream).
 * Throws {@link BodyTooLargeError} or the "already consumed" error as {@link readRequestBody} rejects with them.
 *
 * A small request usually arrives in the same TCP segment as its head: by the time the pipeline reads it, Node's
 * parser has pushed every chunk and the end into the stream's buffer (`complete`), and one `read()` takes it all,
 * without the Promise, the four listeners and the `data`/`end` events of the stream path (issue 17).
 */
export function readWholeBody(incoming: IncomingMessage, maxBytes: number): Buffer | null {
  const declared = firstRawHeader(incoming.rawHeaders, 'content-length');
  let declaredBytes = -1;
  if (declared !== undefined) {
    const n = Number(declared);
    if (Number.isFinite(n) && n > maxBytes) throw new BodyTooLargeError(maxBytes);
    if (Number.isInteger(n) && n >= 0) declaredBytes = n;
  }
  if (incoming.readableDidRead) throw new Error('request body was already consumed');
  if (incoming.readableEnded) return Buffer.alloc(0);
  // Paused (not flowing) only: then `read()` with no size returns everything buffered, in order.
  if (incoming.readableFlowing === true || incoming.readableObjectMode) return null;
  const length = incoming.readableLength;
  // All here: as many bytes buffered as the Content-Length declares (the parser pushes no more than that), or,
  // without one (chunked), the parser has seen the end of the message (`complete`).
  const whole = declaredBytes >= 0 ? length === declaredBytes : incoming.complete === true;
  if (!whole) return null;
  if (length > maxBytes) throw new BodyTooLargeError(maxBytes); // left unread and paused, as the stream path leaves it
  const chunk = length === 0 ? null : (incoming.read() as Buffer | string | null);
  // Flowing from here, as the stream path leaves it: the end (now or when the parser pushes it) emits 'end'.
  incoming.resume();
  if (chunk === null) return Buffer.alloc(0);
  return typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
}

/**
 * The body as a stream, counting against `maxBytes`. Only after {@link readWholeBody} returned null: that call made
 * the declared-length, already-consumed and already-ended checks.
 */
export function streamRequestBody(incoming: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let settled = false;
    const done = (err: Error | null): void => {
      if (settled) return;
      settled = true;
      incoming.off('data', onData);
      incoming.off('end', onEnd);
      incoming.off('error', onError);
      incoming.off('close', onClose);
      if (err) {
        chunks.length = 0;
        reject(err);
      } else {
        resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total));
      }
    };
    const onData = (chunk: Buffer | string): void => {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      total += buf.length;
      if (total > maxBytes) {
        incoming.pause();
        done(new BodyTooLargeError(maxBytes));
        return;
      }
      chunks.push(buf);
    };
    const onEnd = (): void => done(null);
    const onError = (err: Error): void => done(err);
    const onClose = (): void => {
      if (!incoming.readableEnded) done(new Error('request aborted by the client'));
    };
    incoming.on('data', onData);
    incoming.on('end', onEnd);
    incoming.on('error', onError);
    incoming.on('close', onClose);
  });
}
