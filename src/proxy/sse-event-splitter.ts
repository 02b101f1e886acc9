/**
 * Splits a byte stream of Server-Sent Events into whole events, in one linear pass: every byte is looked at
 * once (the scan jumps from line break to line break with native `indexOf`), nothing already scanned is
 * scanned again, and an event is handed over the moment its blank line arrives. Events are delivered as the
 * original bytes (terminator included), so callers can pass them on byte for byte; the split is UTF-8 safe
 * because CR and LF never occur inside a multi-byte UTF-8 sequence.
 * A per-event cap bounds what is held: an event that grows past `maxEventBytes` is reported, never delivered.
 * @see https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
 */
const LF = 0x0a;
const CR = 0x0d;

export interface SseEventSplitter {
  /** Feeds a chunk; calls `onEvent` for every event it completes. Returns false once the cap was exceeded. */
  push(chunk: Buffer, onEvent: (event: Buffer) => void): boolean;
  /** The bytes of an unterminated last event (empty when none). */
  rest(): Buffer;
}

export function createSseEventSplitter(maxEventBytes: number): SseEventSplitter {
  let parts: Buffer[] = [];
  let held = 0;
  let atLineStart = true; // the next byte starts a line (stream start, or right after a line break)
  let lastCR = false; // the previous byte was a CR ending a non-empty line: an LF now completes that CRLF
  let swallowLF = false; // the previous byte was a CR ending an event: an LF now belongs to that terminator
  let over = false;

  const take = (chunk: Buffer, from: number, to: number): Buffer => {
    const tail = chunk.subarray(from, to);
    const event = parts.length === 0 ? tail : Buffer.concat([...parts, tail], held + tail.length);
    parts = [];
    held = 0;
    return event;
  };

  return {
    push(chunk, onEvent) {
      if (over) return false;
      let start = 0; // first byte of the current event inside this chunk
      let i = 0;
      let nextLF = chunk.indexOf(LF);
      let nextCR = chunk.indexOf(CR);
      while (i < chunk.length) {
        if (nextLF !== -1 && nextLF < i) nextLF = chunk.indexOf(LF, i);
        if (nextCR !== -1 && nextCR < i) nextCR = chunk.indexOf(CR, i);
        const p = nextLF === -1 ? nextCR : nextCR === -1 ? nextLF : Math.min(nextLF, nextCR);
        if (p === -1) {
          atLineStart = false;
          lastCR = false;
          swallowLF = false;
          break;
        }
        if (p > i) {
          atLineStart = false;
          lastCR = false;
          swallowLF = false;
        }
        const b = chunk[p];
        let eventEnd = -1;
        if (b === LF) {
          if (swallowLF) {
            // "\r\n" ending the blank line of the event just delivered: pass it on as its own bytes.
            swallowLF = false;
            if (p === start) {
              onEvent(chunk.subarray(p, p + 1));
              start = p + 1;
            }
          } else if (lastCR) {
            lastCR = false;
          } else if (atLineStart) {
            eventEnd = p;
          } else {
            atLineStart = true;
          }
        } else {
          swallowLF = false;
          if (atLineStart) {
            // A blank line: "\r\n" when the LF is already here, else a lone CR unless the next chunk starts with LF.
            if (p + 1 < chunk.length && chunk[p + 1] === LF) eventEnd = p + 1;
            else {
              eventEnd = p;
              swallowLF = true;
            }
          } else {
            atLineStart = true;
            lastCR = true;
          }
        }
        if (eventEnd !== -1) {
          if (held + (eventEnd + 1 - start) > maxEventBytes) {
            over = true;
            return false;
          }
          onEvent(take(chunk, start, eventEnd + 1));
          start = eventEnd + 1;
          atLineStart = true;
          lastCR = false;
        }
        i = (eventEnd === -1 ? p : eventEnd) + 1;
      }
      if (start < chunk.length) {
        held += chunk.length - start;
        if (held > maxEventBytes) {
          over = true;
          parts = [];
          return false;
        }
        parts.push(chunk.subarray(start));
      }
      return true;
    },
    rest() {
      const r = parts.length === 1 ? parts[0]! : Buffer.concat(parts, held);
      parts = [];
      held = 0;
      return r;
    },
  };
}
