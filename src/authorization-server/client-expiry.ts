/**
 * Deletes dynamically registered clients that are never or no longer used (issue 11 §3): clients register on every
 * reconnect, so without this the clients table only grows.
 * - never_authorized: registered more than `dcr.neverAuthorizedHours` (24) ago and never used;
 * - unused: last used more than `dcr.unusedDays` (90) days ago.
 * "Used" is defined in ./client-usage.ts (a completed authorization, or a token issued or refreshed).
 * Only kind 'dcr': static clients come from the config, CIMD clients from their documents.
 *
 * A client that still has active grants is deleted too, but its grants are first ended through the GrantRevoker (the
 * one revocation path: tokens, caches, open streams, the upstream refresh token revoked per RFC 7009, events). Skipping
 * such clients would keep an idle client — and the upstream refresh token sealed for it — forever; and a client unused
 * for 90 days cannot use its grants anyway (its access tokens last at most a day and it has not refreshed). The client
 * is blocked first, so that no token is issued to it while its grants end.
 *
 * Runs in batches of `dcr.expiryBatchSize` (at most MAX_BATCHES per run) every `dcr.expiryIntervalSeconds`, on an
 * unref'd timer started by `Keyhole.listen()` and stopped by `close()`. The clock is injected (tests move it).
 */
import type { DcrConfig } from '../config/schema.js';
import type { ClientExpiryReason, ClientRecord, Store } from '../store/types.js';
import type { EventRecorder } from '../events/recorder.js';
import type { GrantRevoker } from '../grants/grant-revoker.js';

export const MAX_BATCHES = 20;
const ACTOR = 'system:client-expiry';

export interface ClientExpiryDeps {
  store: Store;
  events: EventRecorder;
  revoker: GrantRevoker;
  clock: () => number;
  config: Pick<DcrConfig, 'neverAuthorizedHours' | 'unusedDays' | 'expiryIntervalSeconds' | 'expiryBatchSize'>;
  /** Where a failed run is reported (the next run retries). */
  log?: (line: string) => void;
}

export interface ExpiredClient {
  clientId: string;
  reason: ClientExpiryReason;
  revokedGrants: number;
}

export class ClientExpiry {
  readonly #deps: ClientExpiryDeps;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<ExpiredClient[]> | undefined;

  constructor(deps: ClientExpiryDeps) {
    this.#deps = deps;
  }

  /** The two cut-off times for `now`. */
  cutoffs(now: number): { neverUsedCreatedBefore: number; usedBefore: number } {
    const { neverAuthorizedHours, unusedDays } = this.#deps.config;
    return { neverUsedCreatedBefore: now - neverAuthorizedHours * 3_600, usedBefore: now - unusedDays * 86_400 };
  }

  /** One run: batches until none is left (or MAX_BATCHES). Single-flight: a call during a run joins it. */
  run(): Promise<ExpiredClient[]> {
    this.#running ??= this.#runBatches().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /** One batch of at most `expiryBatchSize` clients; returns those deleted. */
  async runBatch(): Promise<ExpiredClient[]> {
    const { store, clock, config } = this.#deps;
    const { neverUsedCreatedBefore, usedBefore } = this.cutoffs(clock());
    const done: ExpiredClient[] = [];
    for (const candidate of await store.clients.listExpiredDcr(neverUsedCreatedBefore, usedBefore, config.expiryBatchSize)) {
      const client = await store.clients.find(candidate.clientId);
      // Re-checked one by one: the client may have been used since the batch was listed.
      if (!client || stillExpired(client, this.cutoffs(clock())) !== candidate.reason) continue;
      try {
        done.push(await this.#expire(client, candidate.reason));
      } catch (e) {
        // One client that cannot be expired now (e.g. the keychain is unreachable) must not stop the others; the next
        // run retries it (it stays blocked meanwhile).
        this.#deps.log?.(JSON.stringify({ level: 'warn', msg: 'keyhole.client_expiry', client_id: client.clientId, error: (e as Error)?.name ?? 'Error' }));
      }
    }
    return done;
  }

  start(): void {
    if (this.#timer) return;
    const { expiryIntervalSeconds } = this.#deps.config;
    this.#timer = setInterval(() => {
      this.run().catch((e: unknown) => this.#deps.log?.(JSON.stringify({ level: 'error', msg: 'keyhole.client_expiry', error: (e as Error)?.name ?? 'Error' })));
    }, expiryIntervalSeconds * 1_000);
    this.#timer.unref();
  }

  /** Stops the timer and waits for a run in progress. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running?.catch(() => undefined);
  }

  async #runBatches(): Promise<ExpiredClient[]> {
    const all: ExpiredClient[] = [];
    for (let i = 0; i < MAX_BATCHES; i++) {
      const batch = await this.runBatch();
      all.push(...batch);
      if (batch.length < this.#deps.config.expiryBatchSize) break;
    }
    return all;
  }

  async #expire(client: ClientRecord, reason: ClientExpiryReason): Promise<ExpiredClient> {
    const { store, events, revoker, clock } = this.#deps;
    await store.clients.block(client.clientId, clock());
    let revokedGrants = 0;
    for (;;) {
      const active = await store.grants.list({ clientId: client.clientId, status: 'active', limit: 100 });
      if (active.length === 0) break;
      let progress = false;
      for (const g of active) {
        if (await revoker.revoke(g.id, 'client_expired', ACTOR)) {
          revokedGrants += 1;
          progress = true;
        }
      }
      if (!progress) break;
    }
    await store.clients.delete(client.clientId);
    await events.record({ type: 'client.expired', clientId: client.clientId, detail: { reason, revoked_grants: revokedGrants, actor: ACTOR } });
    return { clientId: client.clientId, reason, revokedGrants };
  }
}

/** Why `client` is (still) to be deleted at these cut-offs, or undefined. */
function stillExpired(client: ClientRecord, cut: { neverUsedCreatedBefore: number; usedBefore: number }): ClientExpiryReason | undefined {
  if (client.kind !== 'dcr') return undefined;
  const lastUsed = client.lastUsedAt ?? null;
  if (lastUsed === null) return client.createdAt < cut.neverUsedCreatedBefore ? 'never_authorized' : undefined;
  return lastUsed < cut.usedBefore ? 'unused' : undefined;
}
