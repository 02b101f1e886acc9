/**
 * The default upstream credential source: the grant's upstream OAuth access token, as `Authorization: Bearer …`.
 * - Cached in memory (decrypted) until its refresh moment (./refresh-moment.ts: the configured skew, or
 *   min(60 s, lifetime / 4) before expiry); dropped when the grant ends (`forget`). The cache holds at most
 *   `maxCachedTokens` grants (default {@link DEFAULT_MAX_CACHED_TOKENS}), least recently used evicted (issue 17: a
 *   burst over 100k grants must not keep 100k decrypted tokens); an evicted grant's next request reads the vault
 *   again, so a grant that ended meanwhile is refused there (no entry: GrantEndedError).
 * - Refresh is single-flight per grant, in the process (one job per grant, 50 concurrent callers cause one refresh)
 *   AND across instances on one database (`store.refreshLocks`: a PostgreSQL advisory lock). The holder re-reads the
 *   credential after taking the lock: when another instance refreshed meanwhile it uses the winner's token and never
 *   spends the old refresh token again (RFC 6749 §6; RFC 9700 §4.14.2: a rotated refresh token that comes back may
 *   end the whole grant at the upstream). The result is written with a compare-and-swap on the credential's version.
 * - A forced call (the upstream answered 401) naming the refused credential gets the replacement when another
 *   caller (or another keyhole on the same database) has refreshed meanwhile, instead of a second refresh.
 * - A rotated refresh token is sealed and persisted BEFORE the new access token is handed out, in the same tick the
 *   answer is parsed (docs/invariants.md #8).
 * - Never abandon a committed refresh: a caller waits at most `callerWaitMs` (10 s, the upstream request timeout),
 *   but the refresh exchange runs on in the background (bounded by its own, longer timeout: oauth-client.ts) and its
 *   late answer is persisted and used by the next request.
 * - A rotated refresh token that cannot be written (disk full, database down) is kept in memory (inside the job,
 *   never logged), the write is retried with backoff, the grant's lock is held meanwhile so that nobody spends the
 *   old (spent) token, and it is reported: `pendingWrites()` (/readyz) and `upstream.refresh_write_failed` /
 *   `upstream.refresh_write_recovered` events (ids only).
 * - Upstream invalid_grant/invalid_client ends the grant everywhere (through `endGrant`); other failures are
 *   transient: the current access token is used until it really expires (not merely until the refresh window
 *   opens), refreshes towards that server back off (./refresh-backoff.ts), `upstream.refresh_failed` is recorded
 *   once per interval per grant (./failure-events.ts), and `refreshFailingSince` is set.
 * - `drain()` waits (bounded) until every refresh in flight, background ones and retried writes included, is persisted.
 * - Upstream secrets are read and written only through the UpstreamVault (sealed in the database, or the refresh
 *   token in the OS keychain).
 */
import type { Store, UpstreamCredential } from '../store/types.js';
import type { UpstreamSecretsInput, UpstreamVault, VaultEntry } from '../vault/upstream-vault.js';
import { fingerprint } from '../store/crypto/hash.js';
import type { EventRecorder } from '../events/recorder.js';
import { UPSTREAM_REQUEST_TIMEOUT_MS, type UpstreamOAuthClient, type UpstreamTokens } from './oauth-client.js';
import { bearerHeader, type CredentialGrant, type UpstreamAuthHeader, type UpstreamCredentialSource } from './credential-source.js';
import { GrantEndedError, UpstreamGrantError, UpstreamUnavailableError } from './errors.js';
import { refreshMoment } from './refresh-moment.js';
import { RefreshBackoff, type RefreshPermit } from './refresh-backoff.js';
import { FailureEventThrottle } from './failure-events.js';
import { CredentialVersionConflictError } from '../vault/errors.js';
import { LruMap } from '../http/lru-map.js';

/** Decrypted upstream access tokens kept in memory at most (grants; least recently used evicted). */
export const DEFAULT_MAX_CACHED_TOKENS = 10_000;

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
  store: Pick<Store, 'grants' | 'upstreamCredentials' | 'refreshLocks'>;
  vault: Pick<UpstreamVault, 'get' | 'put'>;
  events: Pick<EventRecorder, 'record'>;
  /** Called when the upstream says the grant is gone (invalid_grant/invalid_client) or it cannot be refreshed. */
  endGrant: EndGrant;
  /** Per server. */
  clients: ReadonlyMap<string, UpstreamRefresher>;
  /** Refresh this many seconds before expiry; undefined: min(60, lifetime / 4) (./refresh-moment.ts). */
  skewSeconds?: number | undefined;
  clock: () => number;
  /** How long a request waits for a refresh (ms, default 10 000); the refresh itself goes on in the background. */
  callerWaitMs?: number;
  /** Pauses between retried writes of a rotated token (ms; default 200 doubling to 5 000). */
  writeRetry?: { firstMs: number; maxMs: number };
  /** Backoff of refreshes per server after transient failures (seconds; default 2 doubling to 60). */
  backoff?: { firstSeconds: number; maxSeconds: number };
  /** At most one `upstream.refresh_failed` event per grant per this many seconds (default 60). */
  failureEventIntervalSeconds?: number;
  /** Grants whose decrypted access token is cached at most (default {@link DEFAULT_MAX_CACHED_TOKENS}). */
  maxCachedTokens?: number;
  /**
   * Told when a refresh's result is committed: how long after its answer was parsed (ms), the window in which a
   * SIGKILL loses a rotation the upstream committed (docs/invariants.md #8). Ids and milliseconds only.
   */
  onPersisted?: (grantId: string, answerToPersistedMs: number) => void;
  /** Told when a write of a rotated token failed or recovered (the operator's log line); ids and error names only. */
  onWriteTrouble?: (grantId: string, state: 'failing' | 'recovered', error: string) => void;
}

interface Cached {
  token: string;
  /** From this epoch second on, refresh before use; null: never (no expiry). */
  refreshAt: number | null;
}

/** One refresh of one grant, running in the background; callers wait for it, each for at most `callerWaitMs`. */
interface Job {
  result: Promise<string>;
  /** Set while a rotated token waits to be written: callers do not wait, they fall back. */
  writePending: boolean;
  /** Resolves when the first write attempt failed (the callers waiting then stop waiting). */
  writeFailed: Promise<void>;
  signalWriteFailed(): void;
  /** Cuts the current pause between write retries short (drain). */
  wake(): void;
}

/** The access token inside a bearer header, or undefined for any other header. */
function bearerToken(h: UpstreamAuthHeader | undefined): string | undefined {
  if (!h || h.header.toLowerCase() !== 'authorization' || !h.value.startsWith('Bearer ')) return undefined;
  return h.value.slice('Bearer '.length);
}

/** Fingerprints of refresh tokens this process spent on a rotation (never sent again), bounded. */
const SPENT_LIMIT = 10_000;

/** Caller gave up waiting for a refresh that goes on in the background. */
class CallerWaitExpired extends Error {
  override name = 'CallerWaitExpired';
}

export class UpstreamTokenManager implements UpstreamCredentialSource {
  private readonly cache: LruMap<string, Cached>;
  private readonly inflight = new Map<string, Promise<string>>();
  private readonly jobs = new Map<string, Job>();
  private readonly spent = new Set<string>();
  private readonly backoff: RefreshBackoff;
  private readonly failures: FailureEventThrottle;
  private readonly callerWaitMs: number;
  private readonly writeRetry: { firstMs: number; maxMs: number };

  constructor(private readonly deps: UpstreamTokenManagerDeps) {
    const { skewSeconds, endGrant, clients, clock } = deps;
    if (skewSeconds !== undefined && !(Number.isFinite(skewSeconds) && skewSeconds >= 0)) {
      throw new TypeError('UpstreamTokenManager: skewSeconds must be a finite number of seconds ≥ 0, or undefined');
    }
    if (typeof endGrant !== 'function') throw new TypeError('UpstreamTokenManager: endGrant is required');
    if (typeof clock !== 'function') throw new TypeError('UpstreamTokenManager: clock is required');
    if (!(clients instanceof Map)) throw new TypeError('UpstreamTokenManager: clients must be a Map of server name to client');
    this.cache = new LruMap(deps.maxCachedTokens ?? DEFAULT_MAX_CACHED_TOKENS);
    this.callerWaitMs = deps.callerWaitMs ?? UPSTREAM_REQUEST_TIMEOUT_MS;
    this.writeRetry = deps.writeRetry ?? { firstMs: 200, maxMs: 5_000 };
    this.backoff = new RefreshBackoff({ clock, ...(deps.backoff ?? {}) });
    this.failures = new FailureEventThrottle(deps.failureEventIntervalSeconds ?? 60, clock);
  }

  /** Drop the cached token of a grant (it ended). */
  forget(grantId: string): void {
    this.cache.delete(grantId);
    this.failures.reset(grantId);
  }

  /** Grants whose rotated upstream refresh token is kept in memory because it could not be written yet (/readyz). */
  pendingWrites(): string[] {
    return [...this.jobs].filter(([, j]) => j.writePending).map(([id]) => id);
  }

  /** Grants whose access token is cached now (at most `maxCachedTokens`). */
  cachedTokens(): number {
    return this.cache.size;
  }

  /** Refreshes running now, background ones included. */
  refreshesInFlight(): number {
    return this.jobs.size;
  }

  /**
   * Resolves once every refresh in flight (background ones and retried writes included) has settled: persisted,
   * or failed without a rotated token to keep. Bounded by `timeoutMs` (default 30 s); `pendingWrites()` then names
   * the grants still unwritten (a rotated token that could not be written before the deadline is lost if the process
   * exits).
   */
  async drain(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    // Graceful shutdown (src/http/drain.ts): credential loads in flight first, then every refresh job.
    while (this.inflight.size > 0 && Date.now() < deadline) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...this.inflight.values()]),
        new Promise<void>((r) => { timer = setTimeout(r, Math.max(0, deadline - Date.now())); }),
      ]);
      clearTimeout(timer);
    }
    while (this.jobs.size > 0 && Date.now() < deadline) {
      for (const j of this.jobs.values()) j.wake(); // retry pending writes now
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...this.jobs.values()].map((j) => j.result)),
        new Promise<void>((r) => { timer = setTimeout(r, Math.min(250, Math.max(0, deadline - Date.now()))); }),
      ]);
      clearTimeout(timer);
    }
  }

  /** Seal and persist tokens from an upstream token response (after the code exchange or a refresh). */
  async persist(grantId: string, tokens: UpstreamTokens, previous: UpstreamCredential | undefined, askedScopes: string[]): Promise<void> {
    const { vault, clock, skewSeconds } = this.deps;
    const now = clock();
    const input = upstreamSecrets(tokens, previous, askedScopes, now);
    if (!(await vault.put(grantId, input, previous))) {
      this.cache.delete(grantId);
      return;
    }
    this.cache.set(grantId, { token: tokens.accessToken, refreshAt: refreshMoment(input.accessExpiresAt, now, skewSeconds) });
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
    return this.refreshOrFallback(grant, entry, force, stale);
  }

  /**
   * A refresh is due: join the grant's job (or start one, when the server's backoff admits it) and wait for it at
   * most `callerWaitMs`. On a transient failure (or while waiting longer, or while its result waits to be written),
   * the stored access token is still used while it has not really expired.
   */
  private async refreshOrFallback(grant: CredentialGrant, entry: VaultEntry, force: boolean, stale: string | undefined): Promise<string> {
    let job = this.jobs.get(grant.id);
    if (!job) {
      const admission = this.backoff.admit(grant.server);
      if (!admission.ok) return this.fallback(grant, entry, stale, new UpstreamUnavailableError('server'));
      job = this.start(grant, force, stale, admission.permit);
    }
    if (job.writePending) return this.fallback(grant, entry, stale, new UpstreamUnavailableError('server'));
    let timer: NodeJS.Timeout | undefined;
    try {
      const token = await Promise.race([
        job.result,
        job.writeFailed.then(() => { throw new UpstreamUnavailableError('server'); }),
        new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new CallerWaitExpired()), this.callerWaitMs); }),
      ]);
      // A forced caller that joined a plain refresh which found the refused token still fresh: refresh (once) itself.
      if (stale !== undefined && token === stale) {
        clearTimeout(timer);
        return await this.refreshOrFallback(grant, entry, true, stale);
      }
      return token;
    } catch (e) {
      if (e instanceof GrantEndedError) throw e;
      const transient = e instanceof CallerWaitExpired ? new UpstreamUnavailableError('timeout') : e instanceof UpstreamUnavailableError ? e : new UpstreamUnavailableError('server');
      return this.fallback(grant, entry, stale, transient);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The stored access token while it has not really expired (and was not refused), else `error`. */
  private async fallback(grant: CredentialGrant, entry: VaultEntry, stale: string | undefined, error: Error): Promise<string> {
    const { accessExpiresAt } = entry.credential;
    if (accessExpiresAt === null || accessExpiresAt > this.deps.clock()) {
      const stored = await entry.openAccessToken();
      if (stored !== stale) return stored;
    }
    throw error;
  }

  private start(grant: CredentialGrant, force: boolean, stale: string | undefined, permit: RefreshPermit): Job {
    let signalWriteFailed!: () => void;
    const writeFailed = new Promise<void>((r) => (signalWriteFailed = r));
    const job: Job = { result: undefined as unknown as Promise<string>, writePending: false, writeFailed, signalWriteFailed, wake: () => undefined };
    job.result = this.deps.store.refreshLocks
      .withLock(grant.id, () => this.refreshLocked(grant, force, stale, job, permit), { waitMs: Math.max(this.callerWaitMs, 10_000) })
      .finally(() => {
        permit.cancel(); // no-op when the refresh already reported success or failure
        if (this.jobs.get(grant.id) === job) this.jobs.delete(grant.id);
      });
    job.result.catch(() => undefined); // callers observe it; a job nobody waits for any more must not be unhandled
    this.jobs.set(grant.id, job);
    return job;
  }

  /** Under the grant's refresh lock (all instances). */
  private async refreshLocked(grant: CredentialGrant, force: boolean, stale: string | undefined, job: Job, permit: RefreshPermit): Promise<string> {
    const { vault, events, clients, store, clock } = this.deps;
    // Re-read: another instance (or an earlier job here) may have refreshed while this one waited for the lock.
    const entry = await vault.get(grant.id);
    if (!entry) throw new GrantEndedError(grant.id, 'no upstream credential');
    const { credential } = entry;
    const refreshAt = refreshMoment(credential.accessExpiresAt, credential.updatedAt, this.deps.skewSeconds);
    if (this.fresh(refreshAt)) {
      const stored = await entry.openAccessToken();
      if (!force || stored !== stale) {
        this.cache.set(grant.id, { token: stored, refreshAt });
        return stored; // the winner's token: the old refresh token is not spent again
      }
    }
    const base = { grantId: grant.id, clientId: grant.clientId, server: grant.server, subject: grant.subject };
    const client = clients.get(grant.server);
    if (entry.hasRefreshToken && !client) throw new GrantEndedError(grant.id, 'server no longer configured');
    // From the database (sealed) or the OS keychain; null when there is none or its keychain entry is gone.
    const refreshToken = entry.hasRefreshToken ? await entry.openRefreshToken() : null;
    if (refreshToken === null) {
      const reason = entry.hasRefreshToken ? 'refresh_token_missing_from_keychain' : 'no_refresh_token';
      await this.record({ type: 'upstream.refresh_failed', ...base, outcome: 'failure', detail: { reason } });
      await this.end(grant.id, 'upstream_token_expired', 'keyhole');
      throw new GrantEndedError(grant.id, 'upstream access token expired and there is no refresh token');
    }
    if (!client) throw new GrantEndedError(grant.id, 'server no longer configured');
    const spentFp = fingerprint(refreshToken);
    // Never replay a refresh token this process already spent on a rotation (RFC 9700 §4.14.2).
    if (this.spent.has(spentFp)) throw new UpstreamUnavailableError('protocol');
    let tokens: UpstreamTokens;
    let answeredAt: number;
    try {
      tokens = await client.refresh(refreshToken);
      answeredAt = performance.now();
    } catch (e) {
      if (e instanceof UpstreamGrantError) {
        permit.success(); // the server answered
        await this.record({ type: 'upstream.refresh_failed', ...base, outcome: 'failure', detail: { reason: e.oauthError, fatal: true, refresh_fp: spentFp } });
        await this.end(grant.id, 'upstream_invalid_grant', 'upstream');
        throw new GrantEndedError(grant.id, `upstream ${e.oauthError}`);
      }
      permit.failure();
      const kind = e instanceof UpstreamUnavailableError ? e.kind : 'network';
      if (credential.refreshFailingSince === null) await store.upstreamCredentials.markRefreshFailing(grant.id, clock()).catch(() => undefined);
      const admitted = this.failures.admit(grant.id);
      if (admitted) await this.record({ type: 'upstream.refresh_failed', ...base, outcome: 'failure', detail: { reason: kind, fatal: false, ...(admitted.repeated ? { repeated: admitted.repeated } : {}) } });
      throw e instanceof UpstreamUnavailableError ? e : new UpstreamUnavailableError('network');
    }
    permit.success();
    const rotated = tokens.refreshToken !== undefined && tokens.refreshToken !== refreshToken;
    if (rotated) this.markSpent(spentFp);
    // Persisted in the same tick the answer was parsed, before the new access token is handed out (invariant 8).
    const token = await this.commit(grant, tokens, entry, refreshToken, job);
    this.deps.onPersisted?.(grant.id, performance.now() - answeredAt);
    this.failures.reset(grant.id);
    await this.record({
      type: 'upstream.token_refreshed', ...base,
      detail: { access_fp: fingerprint(tokens.accessToken), rotated, expires_in: tokens.expiresIn ?? null },
    });
    return token;
  }

  /**
   * Writes a refresh's result (compare-and-swap on the version read under the lock). A failed write is retried with
   * backoff while the job keeps the rotated token in memory and holds the lock; returns the access token to use.
   */
  private async commit(grant: CredentialGrant, tokens: UpstreamTokens, entry: VaultEntry, spentRefreshToken: string, job: Job): Promise<string> {
    const { vault, clock, skewSeconds } = this.deps;
    const now = clock();
    let previous = entry.credential;
    const input = upstreamSecrets(tokens, previous, previous.scopes, now);
    for (let attempt = 0; ; attempt++) {
      try {
        const stored = await vault.put(grant.id, input, previous, { expectedVersion: previous.version });
        if (!stored) {
          this.cache.delete(grant.id); // the grant ended meanwhile: nothing is handed out
          throw new GrantEndedError(grant.id, 'revoked during refresh');
        }
        if (job.writePending) {
          job.writePending = false;
          this.deps.onWriteTrouble?.(grant.id, 'recovered', '');
          await this.record({ type: 'upstream.refresh_write_recovered', grantId: grant.id, clientId: grant.clientId, server: grant.server, subject: grant.subject, detail: { attempts: attempt + 1 } });
        }
        this.cache.set(grant.id, { token: tokens.accessToken, refreshAt: refreshMoment(input.accessExpiresAt, now, skewSeconds) });
        return tokens.accessToken;
      } catch (e) {
        if (e instanceof GrantEndedError) throw e;
        if (e instanceof CredentialVersionConflictError) {
          // Written meanwhile although this job holds the lock (a key rotation re-sealed it, vault migrate moved
          // it, or a lost lock connection): ours is newer unless the row now holds another refresh token.
          const current = await vault.get(grant.id);
          if (!current) throw new GrantEndedError(grant.id, 'revoked during refresh');
          if (tokens.refreshToken === undefined || (await current.openRefreshToken()) === spentRefreshToken) {
            previous = current.credential;
            continue;
          }
          const theirs = await current.openAccessToken();
          this.cache.set(grant.id, { token: theirs, refreshAt: refreshMoment(current.credential.accessExpiresAt, current.credential.updatedAt, skewSeconds) });
          return theirs;
        }
        // The write failed (disk full, database unreachable): keep the rotated token here and try again.
        const error = e instanceof Error ? ((e as { code?: unknown }).code !== undefined ? String((e as { code?: unknown }).code) : e.name) : 'Error';
        if (!job.writePending) {
          job.writePending = true;
          job.signalWriteFailed();
          this.deps.onWriteTrouble?.(grant.id, 'failing', error);
          await this.record({ type: 'upstream.refresh_write_failed', grantId: grant.id, clientId: grant.clientId, server: grant.server, subject: grant.subject, outcome: 'failure', detail: { error } });
        }
        const pause = Math.min(this.writeRetry.maxMs, this.writeRetry.firstMs * 2 ** Math.min(attempt, 20));
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, pause * (0.8 + 0.4 * Math.random()));
          job.wake = () => { clearTimeout(timer); resolve(); };
        });
      }
    }
  }

  private markSpent(fp: string): void {
    if (this.spent.size >= SPENT_LIMIT) this.spent.delete(this.spent.values().next().value as string);
    this.spent.add(fp);
  }

  /** Records an event; a failure to record (the store cannot write) never breaks a refresh. */
  private async record(e: Parameters<EventRecorder['record']>[0]): Promise<void> {
    await this.deps.events.record(e).catch(() => undefined);
  }

  private async end(grantId: string, reason: GrantEndReason, actor: 'upstream' | 'keyhole'): Promise<void> {
    this.forget(grantId);
    await this.deps.endGrant(grantId, reason, actor);
  }
}
