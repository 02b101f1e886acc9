/**
 * The HTTP requests a node server is answering, for the graceful drain (./drain.ts):
 * - `count()` / `idle()`: requests whose response has not closed yet (an /mcp call streaming its answer counts until
 *   its last byte);
 * - `startDraining()`: from now on every response says `Connection: close` and its connection closes after it
 *   (https://www.rfc-editor.org/rfc/rfc9112#section-9.6), so clients open their next request elsewhere.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';

export interface InFlightRequests {
  count(): number;
  /** Resolves once no request is in flight (at once when none is). */
  idle(): Promise<void>;
  startDraining(): void;
  readonly draining: boolean;
}

export function trackInFlightRequests(server: Server): InFlightRequests {
  let inFlight = 0;
  let draining = false;
  let waiters: Array<() => void> = [];
  const settle = () => {
    if (inFlight > 0) return;
    const w = waiters;
    waiters = [];
    for (const resolve of w) resolve();
  };
  // prependListener: before the app's handler writes anything, so `shouldKeepAlive` still counts.
  server.prependListener('request', (_req: IncomingMessage, res: ServerResponse) => {
    inFlight++;
    if (draining) res.shouldKeepAlive = false;
    res.once('close', () => {
      inFlight--;
      settle();
    });
  });
  return {
    count: () => inFlight,
    idle: () => (inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => waiters.push(resolve))),
    startDraining() {
      draining = true;
    },
    get draining() {
      return draining;
    },
  };
}
