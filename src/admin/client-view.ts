/** What the admin page and API show of a registered client: its summary plus grant counts and last use. */
import type { ClientGrantStats, Store } from '../store/types.js';
import { clientSummary, clientSummaryJson, type ClientSummary } from './grant-view.js';

export interface ClientView extends ClientSummary {
  grantCount: number;
  activeGrantCount: number;
  lastUsedAt: number | null;
}

/** Every registered client, newest first, with its grant statistics. */
export function buildClientViews(store: Store): ClientView[] {
  const stats = new Map<string, ClientGrantStats>(store.clientGrantStats().map((s) => [s.clientId, s]));
  return store.listClients().map((record) => {
    const s = stats.get(record.clientId);
    return { ...clientSummary(record.clientId, record), grantCount: s?.grantCount ?? 0, activeGrantCount: s?.activeGrantCount ?? 0, lastUsedAt: s?.lastUsedAt ?? null };
  });
}

export function clientViewJson(v: ClientView) {
  return { ...clientSummaryJson(v), created_at: v.createdAt, grant_count: v.grantCount, active_grant_count: v.activeGrantCount, last_used_at: v.lastUsedAt };
}
