/**
 * Step 3 of `/mcp/{server}`: records that the grant was used (`last_used_at`, shown to users and admins), at most
 * once per `intervalMs` per grant, so the hot path does not write to the store on every request. Individual MCP
 * requests are not recorded as events.
 * Puts nothing on the context; reads `mcp.grant`.
 *
 * The store's grant write happens here and nowhere else in the pipeline.
 *
 * Memory (issue 17): the last write per grant is remembered only while it matters (`intervalMs`) and for at most
 * `maxGrants` grants. Entries are kept in write order, so the expired ones are dropped from the front as new ones
 * come; past `maxGrants` the oldest is dropped too (its grant's next request writes again: one extra write, never a
 * missed one).
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
  /** Grants remembered at most. Default {@link DEFAULT_MAX_TOUCHED_GRANTS}. */
  maxGrants?: number;
}

export const DEFAULT_MAX_TOUCHED_GRANTS = 10_000;

/** The step, and how many grants it remembers now (tests). */
export type TouchGrantStep = McpStep & { readonly remembered: () => number };

export function touchGrant(opts: TouchGrantOptions): TouchGrantStep {
  if (!opts || typeof opts.store?.grants?.touch !== 'function') throw new TypeError('touchGrant: store is required');
  if (typeof opts.clock !== 'function') throw new TypeError('touchGrant: clock is required');
  const intervalMs = opts.intervalMs ?? 60_000;
  if (!Number.isFinite(intervalMs) || intervalMs < 0) throw new TypeError('touchGrant: intervalMs must be a non-negative number');
  const maxGrants = opts.maxGrants ?? DEFAULT_MAX_TOUCHED_GRANTS;
  if (!Number.isInteger(maxGrants) || maxGrants < 1) throw new TypeError('touchGrant: maxGrants must be a positive integer');
  const { store, clock } = opts;
  const now = opts.now ?? Date.now;
  // grant id → when its last write started (ms); insertion order is write order (a rewrite moves the key to the end).
  const lastTouched = new Map<string, number>();

  const step = async function touchGrantLastUse(c, next) {
    const { grant } = authenticated(c.get('mcp'));
    const at = now();
    if ((lastTouched.get(grant.id) ?? 0) + intervalMs < at) {
      lastTouched.delete(grant.id);
      lastTouched.set(grant.id, at);
      // Drop what no longer matters (written longer than intervalMs ago), and the oldest past the bound.
      for (const [id, t] of lastTouched) {
        if (t + intervalMs >= at && lastTouched.size <= maxGrants) break;
        lastTouched.delete(id);
      }
      // The one store write of the pipeline, not awaited: the request does not wait for a bookkeeping write. A
      // failed write is forgotten, so that the next request of the grant tries again (and no rejection goes unhandled).
      void store.grants.touch(grant.id, clock()).catch(() => {
        if (lastTouched.get(grant.id) === at) lastTouched.delete(grant.id);
      });
    }
    await next();
  } as TouchGrantStep;
  (step as { remembered: () => number }).remembered = () => lastTouched.size;
  return step;
}
