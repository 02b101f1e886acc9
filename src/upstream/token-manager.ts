/**
 * The default upstream credential source: the grant's upstream OAuth access token, as `Authorization: Bearer …`.
 * - Cached in memory (decrypted) until its refresh moment (./refresh-moment.ts: the configured skew, or
 *   min(60 s, lifetime / 4) before expiry); dropped when the grant ends (`forget`).
 * - Refresh is single-flight per grant (jose `pendingFetch`): 50 concurrent callers cause one upstream refresh.
 * - A forced call (the upstream answered 401) naming the refused credential gets the replacement when another
 *   caller (or another keyhole on the same database) has refreshed meanwhile, instead of a second refresh.
 * - A rotated refresh token is sealed and persisted BEFORE the new access token is handed out (docs/invariants.md #8;
 *   Atlassian-style single-use refresh tokens would otherwise be lost on a crash).
 * - Upstream invalid_grant/invalid_client ends the grant everywhere (through `endGrant`); other failures are
 *   transient: UpstreamUnavailableError, the grant is kept and `refreshFailingSince` set.
 * - Upstream secrets are read and written only through the UpstreamVault (sealed in SQLite, or the refresh token in
 *   the OS keychain).
 */
import type { Store, UpstreamCredential } from '../store/types.js';
import type { UpstreamSecretsInput, UpstreamVault, VaultEntry } from '../vault/upstream-vault.js';
import { fingerprint } from '../store/crypto/hash.js';
import type { EventRecorder } from '../events/recorder.js';
import type { UpstreamOAuthClient, UpstreamTokens } from './oauth-client.js';
import { bearerHeader, type CredentialGrant, type UpstreamAuthHeader, type UpstreamCredentialSource } from './credential-source.js';
import { GrantEndedError, UpstreamGrantError, UpstreamUnavailableError } from './errors.js';
import { refreshMoment } from './refresh-moment.js';

/** Why the token manager ends a grant. */
export type GrantEndReason = 'upstream_invalid_grant' | 'upstream_token_expired';

/**
 * Ends a grant everywhere: keyhole's tokens, the vault entry, every cache, the upstream token. The upstream layer
 * defines it and never imports the grants layer; keyhole.ts wires the GrantService (src/grants) into it, and the
 * revoker's listeners call `forget`. Its result is ignored.
 */
export type EndGrant = (grantId: string, reason: GrantEndReason, actor: 'upstream' | 'keyhole') => Promise<unknown>;

/** What the vault stores for an upstream token response received at `now`. */
export function upstreamSecrets(tokens: UpstreamTokens, previous: UpstreamCredential | undefined, askedScopes: string[], now: number): UpstreamSecretsInput {
  return {
    accessToken: tokens.accessToken,
    accessExpiresAt: tokens.expiresIn !== undefined ? now + tokens.expiresIn : null,
    // undefined keeps the old refresh token when the upstream did not rotate it (RFC 6749 §6: it MAY issue a new one).
    refreshToken: tokens.refreshToken,
    scopes: tokens.scopes ?? previous?.scopes ?? askedScopes,
    updatedAt: now,
  };
}

/** The part of an upstream OAuth client that the token manager uses. */
export type UpstreamRefresher = Pick<UpstreamOAuthClient, 'refresh'>;

export interface UpstreamTokenManagerDeps {
  store: Pick<Store, 'grants' | 'upstreamCredentials'>;
  vault: Pick<UpstreamVault, 'get' | 'put'>;
  events: Pick<EventRecorder, 'record'>;
  /** Called when the upstream says the grant is gone (invalid_grant/invalid_client) or it cannot be refreshed. */
  endGrant: EndGrant;
  /** Per server. */
  clients: ReadonlyMap<string, UpstreamRefresher>;
  /** Refresh this many seconds before expiry; undefined: min(60, lifetime / 4) (./refresh-moment.ts). */
  skewSeconds?: number | undefined;
  clock: () => number;
}

interface Cached {
  token: string;
  /** From this epoch second on, refresh before use; null: never (no expiry). */
  refreshAt: number | null;
}

/** The access token inside a bearer header, or undefined for any other header. */
function bearerToken(h: UpstreamAuthHeader | undefined): string | undefined {
  if (!h || h.header.toLowerCase() !== 'authorization' || !h.value.startsWith('Bearer ')) return undefined;
  return h.value.slice('Bearer '.length);
}

export class UpstreamTokenManager implements UpstreamCredentialSource {
  private readonly cache = new Map<string, Cached>();
  private readonly inflight = new Map<string, Promise<string>>();

  constructor(private readonly deps: UpstreamTokenManagerDeps) {
    const { skewSeconds, endGrant, clients, clock } = deps;
    if (skewSeconds !== undefined && !(Number.isFinite(skewSeconds) && skewSeconds >= 0)) {
      throw new TypeError('UpstreamTokenManager: skewSeconds must be a finite number of seconds ≥ 0, or undefined');
    }
    if (typeof endGrant !== 'function') throw new TypeError('UpstreamTokenManager: endGrant is required');
    if (typeof clock !== 'function') throw new TypeError('UpstreamTokenManager: clock is required');
    if (!(clients instanceof Map)) throw new TypeError('UpstreamTokenManager: clients must be a Map of server name to client');
  }

  /**
   * Graceful shutdown (src/http/drain.ts): resolves once no credential load or refresh is in flight, so every
   * refreshed token is persisted before the store closes. Refreshes started while waiting are awaited too.
   */
  async drain(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight.values()]);
  }

  /** Drop the cached token of a grant (it ended). */
  forget(grantId: string): void {
    this.cache.delete(grantId);
  }

  /** Seal and persist tokens from an upstream token response (after the code exchange or a refresh). */
  async persist(grantId: string, tokens: UpstreamTokens, previous: UpstreamCredential | undefined, askedScopes: string[]): Promise<void> {
    await this.save(grantId, tokens, previous, askedScopes);
  }

  /** The grant's upstream access token as `Authorization: Bearer …` (UpstreamCredentialSource). */
  async getCredential(grant: CredentialGrant, force: boolean, refused?: UpstreamAuthHeader): Promise<UpstreamAuthHeader> {
    return bearerHeader(await this.accessToken(grant, force, bearerToken(refused)));
  }

  private fresh(refreshAt: number | null): boolean {
    return refreshAt === null || refreshAt > this.deps.clock();
  }

  /**
   * @param force the upstream answered 401 to `refusedToken` (or, when unknown, to the cached token): never hand
   *   that one out again.
   * @throws GrantEndedError when the client must re-authorize; UpstreamUnavailableError when it may retry later.
   */
  private accessToken(grant: CredentialGrant, force: boolean, refusedToken: string | undefined): Promise<string> {
    const cached = this.cache.get(grant.id);
    const stale = force ? (refusedToken ?? cached?.token) : undefined;
    if (cached && this.fresh(cached.refreshAt) && cached.token !== stale) return Promise.resolve(cached.token);
    const running = this.inflight.get(grant.id);
    // A forced caller joining a plain load that yields the refused token asks again (then it refreshes).
    if (running) return stale === undefined ? running : running.then((t) => (t === stale ? this.accessToken(grant, true, stale) : t));
    const p = this.load(grant, force, stale).finally(() => this.inflight.delete(grant.id));
    this.inflight.set(grant.id, p);
    return p;
  }

  /** @param stale when forced: the token the upstream refused (unknown: refresh whatever is stored). */
  private async load(grant: CredentialGrant, force: boolean, stale: string | undefined): Promise<string> {
    const entry = await this.deps.vault.get(grant.id);
    if (!entry) throw new GrantEndedError(grant.id, 'no upstream credential');
    const { credential } = entry;
    const refreshAt = refreshMoment(credential.accessExpiresAt, credential.updatedAt, this.deps.skewSeconds);
    if (this.fresh(refreshAt) && (!force || stale !== undefined)) {
      // Forced: another caller (or another keyhole on this database) may have refreshed already; use its token.
      const stored = await entry.openAccessToken();
      if (stored !== stale) {
        this.cache.set(grant.id, { token: stored, refreshAt });
        return stored;
      }
    }
    return this.refresh(grant, entry);
  }

  private async refresh(grant: CredentialGrant, entry: VaultEntry): Promise<string> {
    const { store, events, clients, clock } = this.deps;
    const { credential } = entry;
    const base = { grantId: grant.id, clientId: grant.clientId, server: grant.server, subject: grant.subject };
    const client = clients.get(grant.server);
    if (entry.hasRefreshToken && !client) throw new GrantEndedError(grant.id, 'server no longer configured');
    // From SQLite (sealed) or the OS keychain; null when there is none or its keychain entry is gone.
    const refreshToken = entry.hasRefreshToken ? await entry.openRefreshToken() : null;
    if (refreshToken === null) {
      const reason = entry.hasRefreshToken ? 'refresh_token_missing_from_keychain' : 'no_refresh_token';
      await events.record({ type: 'upstream.refresh_failed', ...base, outcome: 'failure', detail: { reason } });
      await this.end(grant.id, 'upstream_token_expired', 'keyhole');
      throw new GrantEndedError(grant.id, 'upstream access token expired and there is no refresh token');
    }
    if (!client) throw new GrantEndedError(grant.id, 'server no longer configured');
    let tokens: UpstreamTokens;
    try {
      tokens = await client.refresh(refreshToken);
    } catch (e) {
      if (e instanceof UpstreamGrantError) {
        await events.record({ type: 'upstream.refresh_failed', ...base, outcome: 'failure', detail: { reason: e.oauthError, fatal: true, refresh_fp: fingerprint(refreshToken) } });
        await this.end(grant.id, 'upstream_invalid_grant', 'upstream');
        throw new GrantEndedError(grant.id, `upstream ${e.oauthError}`);
      }
      const kind = e instanceof UpstreamUnavailableError ? e.kind : 'network';
      await store.upstreamCredentials.markRefreshFailing(grant.id, credential.refreshFailingSince ?? clock());
      await events.record({ type: 'upstream.refresh_failed', ...base, outcome: 'failure', detail: { reason: kind, fatal: false } });
      throw e instanceof UpstreamUnavailableError ? e : new UpstreamUnavailableError('network');
    }
    if ((await store.grants.find(grant.id))?.status !== 'active') throw new GrantEndedError(grant.id, 'revoked during refresh');
    // Persist (sealed) before use: docs/invariants.md #8. Nothing is handed out when the grant ended meanwhile.
    if (!(await this.save(grant.id, tokens, credential, credential.scopes))) throw new GrantEndedError(grant.id, 'revoked during refresh');
    await events.record({
      type: 'upstream.token_refreshed', ...base,
      detail: { access_fp: fingerprint(tokens.accessToken), rotated: tokens.refreshToken !== undefined && tokens.refreshToken !== refreshToken, expires_in: tokens.expiresIn ?? null },
    });
    return tokens.accessToken;
  }

  /** Returns false (and caches nothing) when the vault kept nothing: the grant is no longer active. */
  private async save(grantId: string, tokens: UpstreamTokens, previous: UpstreamCredential | undefined, askedScopes: string[]): Promise<boolean> {
    const { vault, clock, skewSeconds } = this.deps;
    const now = clock();
    const input = upstreamSecrets(tokens, previous, askedScopes, now);
    const stored = await vault.put(grantId, input, previous);
    if (!stored) {
      this.cache.delete(grantId);
      return false;
    }
    this.cache.set(grantId, { token: tokens.accessToken, refreshAt: refreshMoment(input.accessExpiresAt, now, skewSeconds) });
    return true;
  }

  private async end(grantId: string, reason: GrantEndReason, actor: 'upstream' | 'keyhole'): Promise<void> {
    this.forget(grantId);
    await this.deps.endGrant(grantId, reason, actor);
  }
}
