/**
 * What the admin page and API show of a registered client: its summary plus grant counts and last use. One page at
 * a time: the store filters and paginates in SQL and computes grant statistics for that page's rows only (a page never
 * loads every client, whatever their number).
 */
import type { ClientFilter, ClientListEntry, Store } from '../store/types.js';
import type { ClientQueryFilter } from './filters.js';
import type { ClientView } from '../../views/admin/view-models.js';
import { clientSummary, clientSummaryJson } from './grant-view.js';

export type { ClientView } from '../../views/admin/view-models.js';

/** The store filter for an admin query at `now` (`unused_days` becomes a time bound). */
export function storeClientFilter(f: ClientQueryFilter, now: number): ClientFilter {
  return {
    ...(f.kind ? { kind: f.kind } : {}),
    ...(f.unusedDays !== undefined ? { unusedSince: now - f.unusedDays * 86_400 } : {}),
    ...(f.used ? { neverUsed: f.used === 'never' } : {}),
  };
}

export function clientView(e: ClientListEntry): ClientView {
  const uses = [e.lastUsedAt, e.grantLastUsedAt].filter((t): t is number => t !== null);
  return {
    ...clientSummary(e.clientId, e),
    grantCount: e.grantCount,
    activeGrantCount: e.activeGrantCount,
    lastUsedAt: uses.length ? Math.max(...uses) : null,
    clientLastUsedAt: e.lastUsedAt,
  };
}

/** One page of clients matching the filter, newest first, and how many match in all. */
export async function clientViewPage(store: Store, filter: ClientFilter, page: { limit: number; offset: number }): Promise<{ views: ClientView[]; total: number }> {
  return { views: (await store.clients.listPage({ ...filter, ...page })).map(clientView), total: await store.clients.count(filter) };
}

export function clientViewJson(v: ClientView) {
  return {
    ...clientSummaryJson(v),
    created_at: v.createdAt,
    grant_count: v.grantCount,
    active_grant_count: v.activeGrantCount,
    last_used_at: v.lastUsedAt,
    client_last_used_at: v.clientLastUsedAt,
  };
}
