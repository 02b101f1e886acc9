/**
 * The response streams the forwarder is relaying, per grant, so that a revoked grant's streams (SSE above all)
 * end at once instead of running on.
 */
import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';

export interface OpenStream {
  grantId: string;
  outgoing: ServerResponse;
  req: ClientRequest;
  res: IncomingMessage;
  /** What is piped into `outgoing`: `res`, or the last response rewrite (a filtered `tools/list`, redaction). */
  source?: NodeJS.ReadableStream;
  /** The client response carries Content-Length: cutting it short must reset the connection, not end it. */
  lengthDelimited: boolean;
  closing: boolean;
}

export interface OpenStreams {
  track(s: OpenStream): void;
  untrack(s: OpenStream): void;
  /** End every open stream of a grant; returns how many. */
  closeGrant(grantId: string): number;
  count(): number;
  /** Abort every upstream request (shutdown). */
  destroyAll(): void;
}

export function createOpenStreams(): OpenStreams {
  const streams = new Map<string, Set<OpenStream>>();
  function track(s: OpenStream): void {
    let set = streams.get(s.grantId);
    if (!set) streams.set(s.grantId, (set = new Set()));
    set.add(s);
  }

  function untrack(s: OpenStream): void {
    const set = streams.get(s.grantId);
    if (!set) return;
    set.delete(s);
    if (set.size === 0) streams.delete(s.grantId);
  }

  return {
    track,
    untrack,
    closeGrant(grantId) {
      const set = streams.get(grantId);
      if (!set) return 0;
      streams.delete(grantId);
      let n = 0;
      for (const s of set) {
        s.closing = true;
        (s.source ?? s.res).unpipe(s.outgoing); // detach what feeds the client, rewrites included
        s.req.destroy();
        if (s.lengthDelimited) {
          s.outgoing.destroy();
        } else {
          // Chunked/SSE: a clean end; the client reconnects and meets the revoked grant (401).
          s.outgoing.end();
          const t = setTimeout(() => s.outgoing.destroy(), 2_000);
          t.unref();
          s.outgoing.once('close', () => clearTimeout(t));
        }
        n++;
      }
      return n;
    },

    count() {
      let n = 0;
      for (const set of streams.values()) n += set.size;
      return n;
    },

    destroyAll() {
      for (const set of streams.values()) for (const s of set) s.req.destroy();
      streams.clear();
    },
  };
}
