/**
 * Step 3 of `/mcp/{server}`: records that the grant was used (`last_used_at`, shown to users and admins), at most
 * once per `intervalMs` per grant, so the hot path does not write to the store on every request. Individual MCP
 * requests are not recorded as events.
 * Puts nothing on the context; reads `mcp.grant`.
 *
 * The store's grant write happens here and nowhere else in the pipeline.
 */
import type { Store } from '../../store/types.js';
import { authenticated, type McpStep } from './mcp-request.js';

export interface TouchGrantOptions {
  store: { readonly grants: Pick<Store['grants'], 'touch'> };
  /** Seconds since the epoch: the time written. */
  clock: () => number;
  /** At most one write per grant in this many ms (wall clock). Default 60 s. */
  intervalMs?: number;
  /** Milliseconds, for the interval. Default Date.now. */
  now?: () => number;
}

export function touchGrant(opts: TouchGrantOptions): McpStep {
  if (!opts || typeof opts.store?.grants?.touch !== 'function') throw new TypeError('touchGrant: store is required');
  if (typeof opts.clock !== 'function') throw new TypeError('touchGrant: clock is required');
  const intervalMs = opts.intervalMs ?? 60_000;
  if (!Number.isFinite(intervalMs) || intervalMs < 0) throw new TypeError('touchGrant: intervalMs must be a non-negative number');
  const { store, clock } = opts;
  const now = opts.now ?? Date.now;
  const lastTouched = new Map<string, number>();

  return async function touchGrantLastUse(c, next) {
    const { grant } = authenticated(c.get('mcp'));
    const at = now();
    if ((lastTouched.get(grant.id) ?? 0) + intervalMs < at) {
      lastTouched.set(grant.id, at);
      // The one store write of the pipeline, not awaited: the request does not wait for a bookkeeping write. A
      // failed write is forgotten, so that the next request of the grant tries again (and no rejection goes unhandled).
      void store.grants.touch(grant.id, clock()).catch(() => {
        if (lastTouched.get(grant.id) === at) lastTouched.delete(grant.id);
      });
    }
    await next();
  };
}
