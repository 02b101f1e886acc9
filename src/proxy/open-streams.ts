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
  /**
   * A GET event stream (the server-to-client channel of the Streamable HTTP transport): it carries no call in
   * progress, so a draining keyhole ends it at once and the client reconnects (to another instance).
   * https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#listening-for-messages-from-the-server
   */
  listen?: boolean;
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
  /**
   * Graceful shutdown (src/http/drain.ts): end every GET event stream now, and from now on any new one as soon as it
   * is tracked; POST answers (calls in progress) run on. Returns how many were ended.
   */
  endListening(): number;
  /** End of the grace period: end every stream still open (cleanly where the framing allows). Returns how many. */
  endAll(): number;
}

export function createOpenStreams(): OpenStreams {
  const streams = new Map<string, Set<OpenStream>>();
  let endListeners = false;

  /** Ends one stream: a clean end for chunked/SSE (the client reconnects), a reset for a length-delimited body. */
  function end(s: OpenStream): void {
    s.closing = true;
    (s.source ?? s.res).unpipe(s.outgoing); // detach what feeds the client, rewrites included
    s.req.destroy();
    if (s.lengthDelimited) {
      s.outgoing.destroy();
    } else {
      // Chunked/SSE: a clean end; the client reconnects (and meets a revoked grant's 401, or another instance).
      s.outgoing.end();
      const t = setTimeout(() => s.outgoing.destroy(), 2_000);
      t.unref();
      s.outgoing.once('close', () => clearTimeout(t));
    }
  }

  function track(s: OpenStream): void {
    if (endListeners && s.listen) {
      end(s);
      return;
    }
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
      for (const s of set) end(s);
      return set.size;
    },

    endListening() {
      endListeners = true;
      let n = 0;
      for (const set of [...streams.values()]) {
        for (const s of [...set]) {
          if (!s.listen) continue;
          untrack(s);
          end(s);
          n++;
        }
      }
      return n;
    },

    endAll() {
      let n = 0;
      for (const [grantId, set] of [...streams]) {
        streams.delete(grantId);
        for (const s of set) end(s);
        n += set.size;
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
