/**
 * Hands the forwarder a fresh upstream access token for a grant.
 * - Cached in memory (decrypted) until `skew` seconds before expiry; dropped when the grant ends.
 * - Refresh is single-flight per grant (jose `pendingFetch`): 50 concurrent callers cause one upstream refresh.
 * - A rotated refresh token is sealed and persisted BEFORE the new access token is handed out (invariant 8;
 *   Atlassian-style single-use refresh tokens would otherwise be lost on a crash).
 * - Upstream invalid_grant/invalid_client ends the grant everywhere; other failures are transient.
 * - Upstream secrets are read and written only through the UpstreamVault (sealed in SQLite, or the refresh token in
 *   the OS keychain).
 */
import type { Store, UpstreamCredential } from '../store/types.js';
import type { UpstreamVault, VaultEntry } from '../vault/upstream-vault.js';
import { fingerprint } from '../store/crypto/hash.js';
import type { EventRecorder } from '../events/recorder.js';
import type { GrantRevoker } from '../lifecycle/grant-revoker.js';
import type { UpstreamOAuthClient, UpstreamTokens } from './oauth-client.js';
import { GrantEndedError, UpstreamGrantError, UpstreamUnavailableError } from './errors.js';

export interface GrantRef {
  id: string;
  server: string;
  clientId: string;
  subject: string;
}

interface Cached {
  token: string;
  expiresAt: number | null;
}

export class UpstreamTokenManager {
  private readonly cache = new Map<string, Cached>();
  private readonly inflight = new Map<string, Promise<string>>();

  constructor(
    private readonly deps: {
      store: Store;
      vault: UpstreamVault;
      events: EventRecorder;
      revoker: GrantRevoker;
      clients: ReadonlyMap<string, UpstreamOAuthClient>;
      skewSeconds: number;
      clock: () => number;
    },
  ) {
    deps.revoker.onGrantEnded((grantId) => this.forget(grantId));
  }

  forget(grantId: string): void {
    this.cache.delete(grantId);
  }

  /** Seal and persist tokens from an upstream token response (after the code exchange or a refresh). */
  async persist(grantId: string, tokens: UpstreamTokens, previous: UpstreamCredential | undefined, askedScopes: string[]): Promise<void> {
    const { vault, clock } = this.deps;
    const now = clock();
    const accessExpiresAt = tokens.expiresIn !== undefined ? now + tokens.expiresIn : null;
    await vault.put(grantId, {
      accessToken: tokens.accessToken,
      accessExpiresAt,
      // undefined keeps the old refresh token when the upstream did not rotate it (RFC 6749 §6: it MAY issue a new one).
      refreshToken: tokens.refreshToken,
      scopes: tokens.scopes ?? previous?.scopes ?? askedScopes,
      updatedAt: now,
    }, previous);
    this.cache.set(grantId, { token: tokens.accessToken, expiresAt: accessExpiresAt });
  }

  private fresh(expiresAt: number | null): boolean {
    return expiresAt === null || expiresAt - this.deps.skewSeconds > this.deps.clock();
  }

  /**
   * @param force the upstream answered 401 to the current token: refresh even if it looks valid.
   * @throws GrantEndedError when the client must re-authorize; UpstreamUnavailableError when it may retry later.
   */
  getAccessToken(grant: GrantRef, force = false): Promise<string> {
    const cached = this.cache.get(grant.id);
    if (!force && cached && this.fresh(cached.expiresAt)) return Promise.resolve(cached.token);
    const running = this.inflight.get(grant.id);
    if (running) return running;
    const staleToken = cached?.token;
    const p = this.load(grant, force, staleToken).finally(() => this.inflight.delete(grant.id));
    this.inflight.set(grant.id, p);
    return p;
  }

  private async load(grant: GrantRef, force: boolean, staleToken: string | undefined): Promise<string> {
    const entry = await this.deps.vault.get(grant.id);
    if (!entry) throw new GrantEndedError(grant.id, 'no upstream credential');
    const { credential } = entry;
    if (!force && this.fresh(credential.accessExpiresAt)) {
      const token = await entry.openAccessToken();
      this.cache.set(grant.id, { token, expiresAt: credential.accessExpiresAt });
      return token;
    }
    if (force && staleToken !== undefined) {
      // Another caller may have refreshed already: if the stored token differs from the one the upstream refused, use it.
      const stored = await entry.openAccessToken();
      if (stored !== staleToken && this.fresh(credential.accessExpiresAt)) {
        this.cache.set(grant.id, { token: stored, expiresAt: credential.accessExpiresAt });
        return stored;
      }
    }
    return this.refresh(grant, entry);
  }

  private async refresh(grant: GrantRef, entry: VaultEntry): Promise<string> {
    const { store, events, revoker, clients, clock } = this.deps;
    const { credential } = entry;
    const base = { grantId: grant.id, clientId: grant.clientId, server: grant.server, subject: grant.subject };
    const client = clients.get(grant.server);
    if (entry.hasRefreshToken && !client) throw new GrantEndedError(grant.id, 'server no longer configured');
    // From SQLite (sealed) or the OS keychain; null when there is none or its keychain entry is gone.
    const refreshToken = entry.hasRefreshToken ? await entry.openRefreshToken() : null;
    if (refreshToken === null) {
      const reason = entry.hasRefreshToken ? 'refresh_token_missing_from_keychain' : 'no_refresh_token';
      events.record({ type: 'upstream.refresh_failed', ...base, outcome: 'failure', detail: { reason } });
      await revoker.revoke(grant.id, 'upstream_token_expired', 'keyhole');
      throw new GrantEndedError(grant.id, 'upstream access token expired and there is no refresh token');
    }
    if (!client) throw new GrantEndedError(grant.id, 'server no longer configured');
    let tokens: UpstreamTokens;
    try {
      tokens = await client.refresh(refreshToken);
    } catch (e) {
      if (e instanceof UpstreamGrantError) {
        events.record({ type: 'upstream.refresh_failed', ...base, outcome: 'failure', detail: { reason: e.oauthError, fatal: true, refresh_fp: fingerprint(refreshToken) } });
        await revoker.revoke(grant.id, 'upstream_invalid_grant', 'upstream');
        throw new GrantEndedError(grant.id, 'upstream invalid_grant');
      }
      const kind = e instanceof UpstreamUnavailableError ? e.kind : 'network';
      store.markUpstreamRefreshFailing(grant.id, credential.refreshFailingSince ?? clock());
      events.record({ type: 'upstream.refresh_failed', ...base, outcome: 'failure', detail: { reason: kind, fatal: false } });
      throw e instanceof UpstreamUnavailableError ? e : new UpstreamUnavailableError('network');
    }
    if (store.getGrant(grant.id)?.status !== 'active') throw new GrantEndedError(grant.id, 'revoked during refresh');
    // Persist (sealed) before use: invariant 8.
    await this.persist(grant.id, tokens, credential, credential.scopes);
    events.record({
      type: 'upstream.token_refreshed', ...base,
      detail: { access_fp: fingerprint(tokens.accessToken), rotated: tokens.refreshToken !== undefined && tokens.refreshToken !== refreshToken, expires_in: tokens.expiresIn ?? null },
    });
    return tokens.accessToken;
  }
}
