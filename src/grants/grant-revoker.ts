/**
 * Ends a grant everywhere, whoever asks (client /revoke, admin, upstream invalid_grant, refresh replay):
 * 1. one store transaction: grant revoked, its codes/tokens revoked, its sealed upstream credential deleted; then
 *    the vault's entry outside the store (the OS keychain entry holding the refresh token) deleted;
 * 2. in-memory caches dropped and open SSE streams closed (listeners), so the very next request gets 401; and the
 *    same on every other instance: a `grant-revoked` notice on `store.changes`, which keyhole.ts feeds to
 *    `endedElsewhere` there (issue 12 §2: a token revoked through instance A gets 401 at B, its streams on B close);
 * 3. the upstream refresh (or access) token revoked at the upstream (RFC 7009) when it has an endpoint;
 * 4. events for each step, with fingerprints only.
 * @see https://www.rfc-editor.org/rfc/rfc7009#section-2.1
 */
import type { Store } from '../store/types.js';
import type { UpstreamVault } from '../vault/upstream-vault.js';
import { fingerprint } from '../store/crypto/hash.js';
import type { EventRecorder } from '../events/recorder.js';
import type { UpstreamOAuthClient } from '../upstream/oauth-client.js';
import { publishNotice, type NoticeReport } from './revocation-notice.js';

export type GrantEndedListener = (grantId: string) => void;

export class GrantRevoker {
  private readonly listeners: GrantEndedListener[] = [];

  constructor(
    private readonly deps: {
      store: Store;
      vault: UpstreamVault;
      events: EventRecorder;
      upstreamClients: ReadonlyMap<string, Pick<UpstreamOAuthClient, 'revoke'>>;
      clock: () => number;
      /** The `grant-revoked` notice to other instances failed (retried, ./revocation-notice.ts), was published late, or was given up. */
      onNotice?: (grantId: string, report: NoticeReport) => void;
      /** Retry delays of a notice that could not be published; default NOTICE_RETRY_DELAYS_MS. */
      noticeRetryDelaysMs?: readonly number[];
    },
  ) {}

  onGrantEnded(listener: GrantEndedListener): void {
    this.listeners.push(listener);
  }

  /**
   * Another instance ended this grant (its `grant-revoked` notice, store.changes): drop what this instance keeps of it
   * (caches, sessions) and close its open streams here. The store already says revoked; nothing is written.
   */
  endedElsewhere(grantId: string): void {
    for (const l of this.listeners) l(grantId);
  }

  /** Returns false when the grant was unknown or already revoked. Never throws for upstream failures. */
  async revoke(grantId: string, reason: string, actor: string): Promise<boolean> {
    const { store, vault, events, upstreamClients, clock } = this.deps;
    const grant = await store.grants.find(grantId);
    if (!grant || grant.status !== 'active') return false;
    const entry = await vault.get(grantId);
    // Open the upstream token before the row is deleted; it is only held in memory for the revocation call.
    let upstreamToken: { value: string; hint: 'refresh_token' | 'access_token' } | undefined;
    try {
      const refresh = entry?.hasRefreshToken ? await entry.openRefreshToken() : null;
      if (refresh !== null) upstreamToken = { value: refresh, hint: 'refresh_token' };
      else if (entry) upstreamToken = { value: await entry.openAccessToken(), hint: 'access_token' };
    } catch {
      upstreamToken = undefined; // undecryptable or keychain unreachable: nothing to revoke upstream, the local revocation still proceeds
    }
    if (!await store.grants.revoke(grantId, reason, clock())) return false;
    for (const l of this.listeners) l(grantId);
    // Other instances: their token lookups read the database (or a cache that follows it), so they already refuse the
    // grant's tokens; the notice closes their streams and drops their per-grant caches. A notice that cannot be
    // published is retried in the background for about two minutes (./revocation-notice.ts).
    await publishNotice(() => store.changes.publish('grant-revoked', grantId), (r) => this.deps.onNotice?.(grantId, r), this.deps.noticeRetryDelaysMs);
    // The keychain entry goes with the row (the row was the only pointer to it).
    let keychain: 'deleted' | 'failed' | undefined;
    if (entry?.credential.refreshInKeychain || vault.backend === 'keychain') {
      keychain = await vault.delete(grantId, entry?.credential).then(() => 'deleted' as const, () => 'failed' as const);
    }
    await events.record({ type: 'grant.revoked', grantId, clientId: grant.clientId, server: grant.server, subject: grant.subject, personId: grant.person?.id ?? null, detail: keychain ? { reason, actor, keychain } : { reason, actor } });

    const client = upstreamClients.get(grant.server);
    if (!upstreamToken || !client) return true;
    try {
      const outcome = await client.revoke(upstreamToken.value, upstreamToken.hint);
      await events.record({
        type: 'upstream.revocation',
        grantId, clientId: grant.clientId, server: grant.server, subject: grant.subject,
        outcome: 'success',
        detail: { result: outcome, token_type: upstreamToken.hint, token_fp: fingerprint(upstreamToken.value) },
      });
    } catch (e) {
      await events.record({
        type: 'upstream.revocation',
        grantId, clientId: grant.clientId, server: grant.server, subject: grant.subject,
        outcome: 'failure',
        detail: { result: 'failed', error: (e as Error).name, token_type: upstreamToken.hint, token_fp: fingerprint(upstreamToken.value) },
      });
    }
    return true;
  }
}
