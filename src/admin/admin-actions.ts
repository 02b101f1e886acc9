/**
 * The admin's state-changing powers, shared by the pages and the JSON API. Every grant is ended through the
 * grant service (src/grants), so a revocation from here reaches everywhere: keyhole's tokens, the sealed upstream tokens,
 * in-memory caches and open SSE streams (its listeners), the upstream (RFC 7009) and the event log.
 */
import type { Store } from '../store/types.js';
import type { EventRecorder } from '../events/recorder.js';
import type { GrantService } from '../grants/grant-service.js';
import type { BulkFilter } from './filters.js';
import type { AdminActor } from './session.js';

export type { AdminActor } from './session.js';

export type RevokeOutcome = 'revoked' | 'already_revoked' | 'not_found';

/** How many upstream revocations run at once during a bulk revocation. */
const BULK_CONCURRENCY = 4;

export class AdminActions {
  constructor(private readonly deps: { store: Store; grants: Pick<GrantService, 'revoke'>; events: EventRecorder; clock: () => number }) {}

  async revokeGrant(grantId: string, actor: AdminActor): Promise<RevokeOutcome> {
    const grant = await this.deps.store.grants.find(grantId);
    if (!grant) return 'not_found';
    if (grant.status !== 'active') return 'already_revoked';
    return (await this.deps.grants.revoke(grantId, 'admin_revoked', actor)) ? 'revoked' : 'already_revoked';
  }

  /** Ids of the active grants a bulk filter targets (a snapshot, newest first). */
  async activeGrantIds(filter: BulkFilter): Promise<string[]> {
    const ids: string[] = [];
    for (let offset = 0; ; offset += 500) {
      const page = await this.deps.store.grants.list({ ...filter, status: 'active', limit: 500, offset });
      for (const g of page) ids.push(g.id);
      if (page.length < 500) return ids;
    }
  }

  async countActive(filter: BulkFilter): Promise<number> {
    return await this.deps.store.grants.count({ ...filter, status: 'active' });
  }

  /** Ends every active grant matching the filter; returns the ids this call revoked. */
  async revokeMatching(filter: BulkFilter, actor: AdminActor, reason = 'admin_revoked'): Promise<string[]> {
    return this.revokeIds(await this.activeGrantIds(filter), reason, actor);
  }

  /**
   * Blocks a client: /authorize and /token refuse it from now on (authorize-checks.ts, client-auth.ts), then its
   * active grants end. Returns undefined for an unknown client.
   */
  async blockClient(clientId: string, actor: AdminActor): Promise<{ revoked: string[]; alreadyBlocked: boolean } | undefined> {
    const { store, events, clock } = this.deps;
    const client = await store.clients.find(clientId);
    if (!client) return undefined;
    await store.clients.block(clientId, clock()); // first, so no new token can be issued while the grants are ended
    const revoked = await this.revokeIds(await this.activeGrantIds({ clientId }), 'client_blocked', actor);
    await events.record({ type: 'client.blocked', clientId, detail: { actor, revoked_grants: revoked.length, already_blocked: client.blockedAt !== null } });
    return { revoked, alreadyBlocked: client.blockedAt !== null };
  }

  /**
   * Deletes a client: blocked first, its active grants ended, then its row and pending authorizations removed.
   * Its grants stay as (revoked) history. Returns undefined for an unknown client.
   */
  async deleteClient(clientId: string, actor: AdminActor): Promise<{ revoked: string[] } | undefined> {
    const { store, events, clock } = this.deps;
    if (!await store.clients.find(clientId)) return undefined;
    await store.clients.block(clientId, clock());
    const revoked = await this.revokeIds(await this.activeGrantIds({ clientId }), 'client_deleted', actor);
    await store.clients.delete(clientId);
    await events.record({ type: 'client.deleted', clientId, detail: { actor, revoked_grants: revoked.length } });
    return { revoked };
  }

  private async revokeIds(ids: string[], reason: string, actor: AdminActor): Promise<string[]> {
    const revoked: string[] = [];
    let next = 0;
    const worker = async () => {
      while (next < ids.length) {
        const id = ids[next++]!;
        if (await this.deps.grants.revoke(id, reason, actor)) revoked.push(id);
      }
    };
    await Promise.all(Array.from({ length: Math.min(BULK_CONCURRENCY, ids.length) }, worker));
    return revoked;
  }
}
