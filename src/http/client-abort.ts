/**
 * A client that goes away before its request body is complete (closed tab, killed process, network drop) makes
 * the body read fail (`Error: aborted`, ECONNRESET). That is the client's doing, not a fault in keyhole: it is
 * logged at debug level as `keyhole.client_aborted`, never as an error-level `keyhole.unhandled` (issue 9, F9).
 */
import type { Context } from 'hono';
import type { IncomingMessage } from 'node:http';

/** True when `err` comes from a request whose body the client stopped sending (the connection is gone). */
export function isClientAbort(err: unknown, c: Context): boolean {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (!incoming || typeof incoming !== 'object' || !(err instanceof Error)) return false;
  // readableAborted: the stream was destroyed or errored before 'end' — the body never arrived in full.
  // https://nodejs.org/docs/latest-v20.x/api/stream.html#readablereadableaborted
  return incoming.readableAborted === true || (incoming.aborted === true && !incoming.complete);
}
