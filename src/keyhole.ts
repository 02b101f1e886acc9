/**
 * Assembles a keyhole instance from a validated config, in data-flow order:
 * store → vault cipher (+ check that the keyring opens every stored entry) → upstream vault (sqlite | keychain)
 * → events → upstream clients → grant revoker → upstream token manager → grant service → forwarder → app.
 * `listen()` first checks the OS keychain when the vault needs it (no silent fallback).
 */
import { readFileSync, writeSync } from 'node:fs';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createServer as createHttpServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import type { KeyholeConfig } from './config/schema.js';
import type { Store } from './store/types.js';
import { openStore } from './store/open-store.js';
import { PostgresStore } from './store/postgres/postgres-store.js';
import { VaultCipher, type Keyring } from './store/crypto/vault-cipher.js';
import { UpstreamVault } from './vault/upstream-vault.js';
import { keychainService, KeytarSecretStore, type SecretStore } from './vault/secret-store.js';
import { keyringFromEnvVars, keySourceFor } from './vault/key-sources.js';
import { assertKeyringCovers, sealedUsageByKid } from './vault/key-rotation.js';
import { loadSharedKey } from './vault/shared-keys.js';
import { KeySourceError } from './vault/errors.js';
import { EventRecorder, type LogSink } from './events/recorder.js';
import { batchedLineSink } from './http/batched-line-sink.js';
import { UpstreamOAuthClient } from './upstream/oauth-client.js';
import { UpstreamTokenManager } from './upstream/token-manager.js';
import { createUpstreamKinds } from './upstream/upstream-kinds.js';
import { GrantRevoker } from './grants/grant-revoker.js';
import { GrantService } from './grants/grant-service.js';
import { IdpRevalidator } from './people/idp-revalidator.js';
import { createForwarder } from './proxy/forwarder.js';
import { createSessionBindings, purgeSessionBindings } from './proxy/session-binding.js';
import { buildResourceIndex } from './oauth/resource.js';
import { createApp } from './app.js';
import { ClientIdMetadataResolver } from './authorization-server/client-id-metadata.js';
import { syncStaticClients } from './authorization-server/static-clients.js';
import { createLogger, type LogLevel } from './http/logger.js';
import { ClientUseRecorder } from './authorization-server/client-usage.js';
import { ClientExpiry } from './authorization-server/client-expiry.js';
import { createServerPolicies, type ServerPolicies } from './policy/server-policy.js';
import { createHealthChecker, type HealthChecker } from './policy/health-checker.js';
import { healthUrl, httpHealthProbe } from './upstream/health-probe.js';
import { createPinRegistry } from './policy/pin-registry.js';
import type { EventInput } from './events/recorder.js';
import { PeopleService } from './people/people-service.js';
import { PersonSessions } from './people/person-session.js';
import { OrgIdpClient } from './people/org-idp-client.js';
import type { PeopleDeps } from './authorization-server/deps.js';
import type { OrgSignInDeps } from './org-sign-in/deps.js';
import { SqliteStore } from './store/sqlite/sqlite-store.js';
import type { AuditLogRepository } from './store/types.js';
import { createObservability, diskSpaceCheck, refreshWritesCheck, sqliteWritableCheck, type Observability } from './observability.js';
import { dirname, resolve as resolvePath } from 'node:path';
import type { ReadinessCheck } from './metrics/health-routes.js';
import { runDrain, type DrainStep, type DrainStepReport } from './http/drain.js';
import { trackInFlightRequests, type InFlightRequests } from './http/in-flight-requests.js';
import { limitHeapGrowth } from './http/heap-growth.js';
import type { Server as HttpServer } from 'node:http';

export { MASTER_KEY_HELP, MissingMasterKeyError } from './vault/errors.js';

export interface KeyholeOptions {
  config: KeyholeConfig;
  /**
   * Defaults to KEYHOLE_MASTER_KEY (+ KEYHOLE_MASTER_KEYS_OLD) when `keys.source` is "env"; other sources are async:
   * load them with `loadKeyring(config)` (src/vault/key-sources.ts) and pass the result.
   */
  keyring?: Keyring;
  /** The OS keychain service for refresh tokens; defaults to keytar with service `mcp-keyhole/<instanceName>`. */
  keychain?: SecretStore;
  /** Defaults to the SQLite file of the config. */
  store?: Store;
  log?: LogSink;
  /** Operator log threshold (src/http/logger.ts). Default `info`: debug lines (client aborts, refusal details) are off. */
  logLevel?: LogLevel;
  clock?: () => number;
  /** The audit log, retention purges and grant count (issue 14); default: the store's `auditLog`. */
  auditLog?: AuditLogRepository;
  /** For the alert webhook (tests). Default the global fetch. */
  fetch?: typeof fetch;
  /**
   * storage.sqlite: take the one-process-per-file lock (src/store/sqlite/process-lock.ts). Default true; false for
   * read-only tools that run beside a server (`grants list --config`, `events tail --config`).
   */
  processLock?: boolean;
}

export interface Keyhole {
  app: ReturnType<typeof createApp>;
  store: Store;
  events: EventRecorder;
  revoker: GrantRevoker;
  /** The grant rules (src/grants/grant-service.ts); its `revoke` is the revoker's. */
  grants: GrantService;
  tokenManager: UpstreamTokenManager;
  vault: UpstreamVault;
  /** Deletes never/no longer used DCR clients; its timer runs between listen() and close(). */
  clientExpiry: ClientExpiry;
  /** The servers' traffic-policy units (limits, circuit breakers, rules, redactors). */
  policies: ServerPolicies;
  /** Audit queue, metrics, alerts, retention (src/observability.ts). */
  observability: Observability;
  /** People (issue 13), with `identity`: sign-in, offboard, reinstate (src/people/people-service.ts). */
  people?: PeopleService;
  /** With `identity`: the person-session cookie (who is signed in in a browser), for surfaces such as /admin, /account. */
  personSessions?: PersonSessions;
  /** With `identity`: the organization IdP's relying-party client (src/people/org-idp-client.ts). */
  orgIdp?: OrgIdpClient;
  /** Identity mode: rotate the identity-JWT signing key now; returns the new kid. */
  rotateSigningKey(): Promise<string>;
  /** Checks the OS keychain when the vault needs it, then listens (HTTPS with `listen.tls`). */
  listen(): Promise<{ url: string; port: number }>;
  /** Re-reads `listen.tls` cert and key (SIGHUP); new connections use them. A no-op without TLS. */
  reloadTls(): void;
  /**
   * Graceful shutdown (SIGTERM/SIGINT in `keyhole serve`), in named steps (src/http/drain.ts): stop accepting, answer
   * /readyz 503, end GET event streams, let in-flight requests finish within `graceMs` (default
   * `shutdown.graceSeconds`), end what is left, wait until every upstream refresh is persisted, flush events and the
   * audit queue, close the store. Returns each step's report. Calling it again returns the same run.
   */
  drain(opts?: { graceMs?: number; onStep?: (r: DrainStepReport) => void }): Promise<DrainStepReport[]>;
  /** Immediate shutdown (tests, embedding): open requests and streams are cut. */
  close(): Promise<void>;
}

/** KEYHOLE_MASTER_KEY (current key) plus the older keys in KEYHOLE_MASTER_KEYS_OLD (comma-separated). */
export function keyringFromEnv(env: NodeJS.ProcessEnv = process.env): Keyring {
  return keyringFromEnvVars(env);
}

export async function createKeyhole(opts: KeyholeOptions): Promise<Keyhole> {
  const { config } = opts;
  const clock = opts.clock ?? (() => Math.floor(Date.now() / 1000));
  if (!opts.keyring && config.keys.source !== 'env') {
    throw new KeySourceError(`keys.source is "${config.keys.source}": load the keyring with loadKeyring(config) and pass it as the keyring option`);
  }
  const keyring = opts.keyring ?? keyringFromEnv();
  assertVaultFitsStorage(config.storage, opts.store);
  // storage.sqlite: openSqliteStore (one process per file, WAL housekeeping); storage.postgres: connect (a clear error
  // when unreachable) and migrate.
  const store = opts.store ?? (await openStore(config.storage, { onIdleError: (e) => logger.warn('keyhole.store', { error: e.message }), lock: opts.processLock ?? true }));
  try {
    // Fail now, naming the counts, rather than request by request later.
    await assertKeyringCovers(store, keyring, keySourceFor(config).description);
  } catch (e) {
    if (!opts.store) await store.close();
    throw e;
  }
  const cipher = new VaultCipher(keyring);
  const keychain = opts.keychain ?? new KeytarSecretStore(keychainService.vault(config.instanceName));
  // The vault's "sqlite" backend is "sealed in the store", whichever database that is (storage.vault "database").
  const vault = new UpstreamVault({ store, cipher, backend: config.storage.vault === 'keychain' ? 'keychain' : 'sqlite', keychain });
  // Default: stderr, the lines of one event-loop turn in one write (src/http/batched-line-sink.ts).
  const log: LogSink = opts.log ?? defaultLogSink();
  // One sink for events and the operator log. A config `logLevel` plugs in here.
  const logger = createLogger(log, { level: opts.logLevel ?? config.logLevel });
  // Also records client use (code issued, token issued/refreshed) on the client row: src/authorization-server/client-usage.ts.
  // Each recorded event is then shown to the observability units (refresh metrics, alerts, upstream warn lines).
  let observe: ((e: EventInput) => void) | undefined;
  // Event writes not finished yet (some are fire-and-forget): the drain waits for them before closing the store.
  const pendingEvents = new Set<Promise<void>>();
  const events: EventRecorder = new (class ObservedRecorder extends ClientUseRecorder {
    // `via`: the transaction store a lifecycle step records through (src/grants/complete-authorization.ts); it must be
    // passed on, or the write would wait on the outer store while its own transaction holds it.
    override record(e: EventInput, via?: Store): Promise<void> {
      const p = (async () => {
        await super.record(e, via);
        try { observe?.(e); } catch { /* observers never break a lifecycle step */ }
      })();
      pendingEvents.add(p);
      void p.then(() => pendingEvents.delete(p), () => pendingEvents.delete(p));
      return p;
    }
  })(store, log, clock);
  const flushEvents = async () => {
    while (pendingEvents.size > 0) await Promise.allSettled([...pendingEvents]);
  };
  await syncStaticClients(store, config.clients, events, clock());
  const clientIdMetadata = new ClientIdMetadataResolver({ store, events, clock, config: config.cimd, logger });
  const redirectUri = `${config.publicUrl}/oauth/callback`;
  // Every kind of upstream: MCP auto-registration, identity JWTs, static credentials (src/upstream/upstream-kinds.ts).
  const kinds = createUpstreamKinds({ config, store, cipher, events, clock });
  const discoveryFailed = (server: string) => (cause: string) => logger.warn('keyhole.upstream_failure', { server, stage: 'discovery', cause });
  const upstreamClients = new Map(Object.entries(config.servers).map(([name, s]) => [name, new UpstreamOAuthClient(name, s.oauth, redirectUri, kinds.clientSource(name), discoveryFailed(name))]));
  const revoker = new GrantRevoker({
    store, vault, events, upstreamClients, clock,
    // ids and error names only
    onNotice: (grantId, r) => {
      const error = 'error' in r ? (r.error instanceof Error ? r.error.name : 'Error') : undefined;
      if (r.outcome === 'failed') logger.warn('keyhole.change_notice_failed', { kind: 'grant-revoked', grant_id: grantId, attempt: r.attempt, error, retry_in_ms: r.retryInMs });
      else if (r.outcome === 'published_late') logger.info('keyhole.change_notice_published', { kind: 'grant-revoked', grant_id: grantId, attempt: r.attempt });
      else logger.error('keyhole.change_notice_abandoned', { kind: 'grant-revoked', grant_id: grantId, attempt: r.attempt, error });
    },
  });
  // The token manager (upstream layer) ends a grant through the revoker (grants layer) without importing it.
  const tokenManager = new UpstreamTokenManager({
    store, vault, events, clients: upstreamClients, skewSeconds: config.tokens.upstreamRefreshSkewSeconds, clock,
    endGrant: (grantId, reason, actor) => revoker.revoke(grantId, reason, actor),
    // ids, milliseconds and error codes only: never a token value
    onPersisted: (grantId, ms) => logger.debug('keyhole.refresh_persisted', { grant_id: grantId, answer_to_persisted_ms: Math.round(ms * 100) / 100 }),
    onWriteTrouble: (grantId, state, error) => (state === 'failing'
      ? logger.error('keyhole.refresh_write_failed', { grant_id: grantId, error, retrying: true })
      : logger.info('keyhole.refresh_write_recovered', { grant_id: grantId })),
  });
  // Organization sign-in and people (issue 13), only with `identity`. Offboarding ends every grant of a person through
  // the revoker (GrantService.revoke is the revoker's).
  const { people, orgSignIn } = peopleOf(config, { store, events, cipher, clock, revokeGrant: (id, reason, actor) => revoker.revoke(id, reason, actor) });
  // With `identity`, a refresh of a person's keyhole token re-checks them at the org IdP (src/people/idp-revalidator.ts)
  // through the grant layer's hook (src/grants/person-check.ts).
  const personCheck = people && config.identity
    ? new IdpRevalidator({ store, people: people.service, events, clock, identity: config.identity, idp: people.idp })
    : undefined;
  const grants = new GrantService({ store, vault, events, config, clock, revoker, credentialCache: tokenManager, ...(personCheck ? { personCheck } : {}) });
  revoker.onGrantEnded((grantId) => tokenManager.forget(grantId));
  // MCP session bindings in the database, shared by every instance (src/proxy/session-binding.ts, issue 12 §2).
  const forwarder = createForwarder({ maxBodyBytes: config.maxBodyBytes, sessions: createSessionBindings({ store: store.mcpSessions }) });
  // Traffic policy (issue 15): one set of units per server; a health checker per server with `health` (started by
  // listen(), stopped by close()); a minute timer drops full rate-limit buckets.
  const policies = createServerPolicies({
    servers: config.servers, global: config.limits, now: Date.now, instances: config.instances,
    onBreakerStateChange: (server, change) => logger.warn('keyhole.circuit', { server, from: change.from, to: change.to, reason: change.reason }),
  });
  const breakers = Object.keys(config.servers).flatMap((name) => {
    const breaker = policies.get(name)?.breaker;
    return breaker ? [[name, breaker] as const] : [];
  });
  const circuitStates = () => Object.fromEntries(breakers.map(([name, b]) => [name, b.snapshot().state]));
  const auditLog = opts.auditLog ?? store.auditLog;
  const sqlitePath = store instanceof SqliteStore ? SqliteStore.connectionOf(store).name : config.storage.sqlite ?? ':memory:';
  // SQLite: the free space of the database's file system (storage.minFreeMegabytes); PostgreSQL watches its own disk.
  const disk = !(store instanceof PostgresStore) && sqlitePath !== ':memory:' && sqlitePath !== ''
    ? diskSpaceCheck(dirname(resolvePath(sqlitePath)), config.storage.minFreeMegabytes * 1024 * 1024)
    : undefined;
  const checks: ReadinessCheck[] = [
    store instanceof PostgresStore
      ? { name: 'database', check: () => store.pool.query('SELECT 1') } // the database answers a query
      : sqliteWritableCheck(sqlitePath),
    { name: 'keyring', check: async () => keyring.keys.has(keyring.current) },
    refreshWritesCheck(tokenManager),
    ...(config.storage.vault === 'keychain' ? [{ name: 'keychain', check: () => vault.check() }] : []),
    ...(disk ? [disk] : []),
  ];
  const observability = createObservability({
    config, auditLog, logger, log, checks, ...(breakers.length ? { circuitStates } : {}),
    ...(disk ? { readinessDetail: async () => ({ disk: { free_bytes: await disk.freeBytes().catch(() => null), min_free_bytes: config.storage.minFreeMegabytes * 1024 * 1024 } }) } : {}),
    recordEvent: (e) => {
      void events.record(e).catch((err: unknown) => logger.warn('keyhole.event_write_failed', { type: e.type, error: err instanceof Error ? err.name : 'Error' }));
    },
    ...(opts.clock ? { now: () => clock() * 1000 } : {}), ...(opts.fetch ? { fetch: opts.fetch } : {}),
  });
  observe = (e) => observability.onEvent(e);
  // A revoked grant's open SSE streams close at once (the very next request gets 401 from the bearer check).
  revoker.onGrantEnded((grantId) => void forwarder.closeStreams(grantId));
  // Its MCP sessions are bound to it: retired in the database (and this instance's cache). On a failed write they stay
  // bound to the ended grant, which no token can act as any more: still refused to everyone.
  revoker.onGrantEnded((grantId) => void forwarder.forgetSessions(grantId).catch((err: unknown) =>
    logger.warn('keyhole.mcp_sessions_retire_failed', { grant: grantId, error: err instanceof Error ? err.name : 'Error' })));
  revoker.onGrantEnded((grantId) => kinds.forget(grantId));
  // Several instances (issue 12 §2): what another instance changed, this one forgets or reloads (src/store/changes/).
  const stopChanges = store.changes.subscribe((change) => {
    if (change.kind === 'grant-revoked') revoker.endedElsewhere(change.id);
    else if (change.kind === 'signing-keys') void kinds.signingKeys?.reload().catch(() => undefined);
  });
  const healthCheckers: HealthChecker[] = [];
  for (const [name, s] of Object.entries(config.servers)) {
    const breaker = policies.get(name)?.breaker;
    if (!s.health || !breaker) continue;
    const { path, ...timing } = s.health;
    healthCheckers.push(createHealthChecker({ ...timing, breaker, now: Date.now, probe: httpHealthProbe(healthUrl(s.upstream, path), timing.timeoutSeconds * 1_000) }));
  }
  let sweepTimer: NodeJS.Timeout | undefined;
  // Pinned tools: live snapshots, loaded from store.approvedTools by listen().
  const pinRegistry = createPinRegistry(Object.entries(config.servers).filter(([, s]) => s.pinTools).map(([name]) => name));
  const clientExpiry = new ClientExpiry({ store, events, revoker, clock, config: config.dcr, log });
  // The consent CSRF and step-up cookie key: one random key in the database, shared by every instance (and unchanged
  // by a master-key rotation), so a consent page rendered by one instance is accepted by another.
  const csrfKey = await loadSharedKey(store, cipher, 'consent-csrf', clock());
  const app = createApp({
    config, store, cipher, events, upstreamClients, tokenManager, revoker, grants, forwarder, clock, csrfKey, clientIdMetadata,
    ...(people ? { people } : {}), ...(orgSignIn ? { orgSignIn } : {}),
    credentialSources: kinds.credentialSources(tokenManager), policies, pinRegistry,
    resources: buildResourceIndex(config.publicUrl, Object.keys(config.servers)),
    logger,
    auditor: observability.auditor, onAuthRefused: (r) => observability.onAuthRefused(r), auditLog,
    onToolsList: (server, tools) => observability.onToolsList(server, tools),
    listedTools: (server) => observability.listedTools(server),
    health: { ...observability.health, draining: () => draining }, metrics: observability.metrics,
  });

  app.route('/', kinds.routes()); // /.well-known/jwks.json, /oauth/client-metadata.json (when a server needs them)
  const warnings = await vaultWarnings(store, keyring, config.storage.vault);

  let server: ServerType | undefined;
  let requests: InFlightRequests | undefined;
  let draining = false;
  let drained: Promise<DrainStepReport[]> | undefined;
  const stopTimers = async () => {
    stopChanges();
    await clientExpiry.stop();
    for (const h of healthCheckers) h.stop();
    if (sweepTimer) clearInterval(sweepTimer);
  };
  return {
    app, store, events, revoker, grants, tokenManager, vault, clientExpiry, policies, observability,
    ...(people ? { people: people.service, personSessions: people.sessions, orgIdp: people.idp } : {}),
    rotateSigningKey: () => kinds.rotateSigningKey(),
    async listen() {
      // Issue 17: keep the JavaScript heap near what is live (src/http/heap-growth.ts), here as in the benchmark.
      const heapGrowth = limitHeapGrowth(config.memory.heapGrowthPercent);
      if (heapGrowth === 'command-line') logger.info('keyhole.memory', { heapGrowth: 'command-line flag' });
      await vault.check(); // keytar missing or no Secret Service: refuse to start (before writing anything), say what to install
      await kinds.ready(); // seal static credentials, load or create the identity signing keys
      for (const w of warnings) logger.warn('keyhole.vault', { warning: w });
      for (const name of Object.keys(config.servers)) {
        const list = pinRegistry.pinned(name) ? await store.approvedTools.get(name) : undefined;
        if (list) pinRegistry.setApproved(name, list.tools);
      }
      clientExpiry.start(); // unref'd interval, stopped by close()
      for (const h of healthCheckers) h.start(); // unref'd timers, stopped by close()
      let lastSessionPurge = 0;
      sweepTimer ??= setInterval(() => {
        policies.rateLimits.store.sweep(Date.now());
        // Bounded retention of the MCP session bindings (rows unused for SESSION_BINDING_TTL_MS), hourly.
        if (Date.now() - lastSessionPurge >= 3_600_000) {
          lastSessionPurge = Date.now();
          void purgeSessionBindings(store.mcpSessions, Date.now()).catch((err: unknown) =>
            logger.warn('keyhole.mcp_sessions_purge_failed', { error: err instanceof Error ? err.name : 'Error' }));
        }
      }, 60_000).unref();
      // `/mcp/{server}` goes straight to the pipeline (app.dispatchMcp, issue 17: the data plane without Hono's
      // per-request machinery); everything else to Hono.
      const make = (config.listen.tls ? createHttpsServer : createHttpServer) as (o: object, l: RequestListener) => ServerType;
      const createServer = (options: object, honoListener: RequestListener) => make(options, (req: IncomingMessage, res: ServerResponse) => {
        if (!app.dispatchMcp(req, res)) void honoListener(req, res);
      });
      const tls = (config.listen.tls ? { createServer, serverOptions: readTls(config.listen.tls) } : { createServer }) as unknown as { createServer: typeof createHttpServer };
      const scheme = config.listen.tls ? 'https' : 'http';
      observability.start(); // the retention job's unref'd timer
      return new Promise((resolve, reject) => {
        const s = serve({ fetch: app.fetch, hostname: config.listen.host, port: config.listen.port, ...tls }, (info: AddressInfo) => {
          resolve({ url: `${scheme}://${info.address.includes(':') ? `[${info.address}]` : info.address}:${info.port}`, port: info.port });
        });
        s.once('error', reject);
        server = s;
        requests = trackInFlightRequests(s as HttpServer);
      });
    },
    reloadTls() {
      if (config.listen.tls && server) (server as HttpsServer).setSecureContext(readTls(config.listen.tls));
    },
    drain(opts = {}) {
      drained ??= (async () => {
        draining = true; // /readyz: 503 from now on
        const deadline = Date.now() + (opts.graceMs ?? config.shutdown.graceSeconds * 1_000);
        const s = server as (ServerType & { closeAllConnections?: () => void; closeIdleConnections?: () => void }) | undefined;
        let serverClosed: Promise<void> = Promise.resolve();
        const steps: DrainStep[] = [
          {
            // No new connections (a connect is refused); every response from now on closes its connection.
            name: 'stop-accepting',
            run: () => {
              requests?.startDraining();
              if (!s) return;
              serverClosed = new Promise<void>((resolve) => s.close(() => resolve()));
              s.closeIdleConnections?.();
            },
          },
          // GET event streams carry no call in progress: end them now, the clients reconnect (to another instance).
          { name: 'end-listen-streams', run: () => forwarder.endListenStreams() },
          // In-flight requests (a tool call streaming its answer) finish, within the grace period.
          { name: 'finish-requests', bounded: true, run: () => requests?.idle() },
          // The grace period is over: end what is still open (SSE cleanly), then drop the remaining connections.
          {
            name: 'end-streams',
            run: async () => {
              if (forwarder.endStreams() > 0) await Promise.race([requests?.idle(), new Promise((r) => setTimeout(r, 1_000).unref())]);
            },
          },
          { name: 'close-connections', run: () => { s?.closeAllConnections?.(); return serverClosed; } },
          // A refresh the upstream may already have committed runs to its end and is persisted (never abandoned),
          // even when the request that started it is gone.
          { name: 'persist-refreshes', run: () => tokenManager.drain() },
          { name: 'stop-timers', run: stopTimers },
          { name: 'flush-events', run: flushEvents },
          { name: 'flush-audit', run: () => observability.close() },
          { name: 'close-upstream', run: () => forwarder.close() },
          { name: 'close-store', run: () => store.close() },
        ];
        return runDrain(steps, {
          deadline,
          onStep: (r) => {
            const fields = { step: r.name, outcome: r.outcome, ms: r.ms, ...(r.error ? { error: r.error } : {}) };
            if (r.outcome === 'done') logger.info('keyhole.drain', fields);
            else logger.warn('keyhole.drain', fields);
            opts.onStep?.(r);
          },
        });
      })();
      return drained;
    },
    async close() {
      if (drained) { // drained already (or draining): the store is closed by the drain
        await drained;
        return;
      }
      await stopTimers();
      forwarder.close();
      if (server) {
        const s = server as ServerType & { closeAllConnections?: () => void };
        await new Promise<void>((resolve) => {
          s.close(() => resolve());
          s.closeAllConnections?.();
        });
      }
      // Refreshes still in flight (background ones, retried writes of a rotated token) are persisted before the store
      // closes, bounded (docs/invariants.md #8).
      await tokenManager.drain(10_000);
      await observability.close(); // after the last request: its audit record is flushed before the store closes
      await store.close();
    },
  };
}

/**
 * storage.vault "keychain" keeps refresh tokens in this machine's OS keychain: with PostgreSQL storage (several
 * instances on several machines) every other instance would find no refresh token for the grants it did not create.
 */
export class VaultStorageMismatchError extends Error {
  override name = 'VaultStorageMismatchError';
}

function assertVaultFitsStorage(storage: KeyholeConfig['storage'], given: Store | undefined): void {
  const postgres = storage.postgres !== undefined || given instanceof PostgresStore;
  if (postgres && storage.vault === 'keychain') {
    throw new VaultStorageMismatchError(
      'storage.vault "keychain" cannot be used with storage.postgres: each machine has its own OS keychain, so the other ' +
      'instances could not read the refresh tokens this one stores. Use "vault": "database" (sealed in PostgreSQL); move ' +
      'existing keychain entries first with: keyhole vault migrate --to database',
    );
  }
}

/** One stderr sink per process (its exit hook flushes it), shared by every keyhole the process creates. */
let stderrSink: LogSink | undefined;
function defaultLogSink(): LogSink {
  return (stderrSink ??= batchedLineSink((chunk) => void process.stderr.write(chunk), (chunk) => {
    try {
      writeSync(2, chunk);
    } catch {
      /* stderr is gone: nothing to tell */
    }
  }));
}

/** The PEM files of `listen.tls`; a missing file names the field. */
function readTls(tls: { cert: string; key: string }): { cert: Buffer; key: Buffer } {
  const read = (field: 'cert' | 'key') => {
    try {
      return readFileSync(tls[field]);
    } catch (e) {
      throw new Error(`listen.tls.${field}: cannot read ${tls[field]} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  };
  return { cert: read('cert'), key: read('key') };
}

/** Things worth a warning at startup (never a reason to refuse): unreadable ciphertexts, a half-done move or rotation. */
async function vaultWarnings(store: Store, keyring: Keyring, backend: KeyholeConfig['storage']['vault']): Promise<string[]> {
  const warnings: string[] = [];
  const usage = await sealedUsageByKid(store);
  const unreadable = usage.find((u) => u.kid === null);
  if (unreadable) warnings.push(`${unreadable.total} stored vault entries are not readable vault ciphertexts (no kid)`);
  const old = usage.filter((u) => u.kid !== null && u.kid !== keyring.current).reduce((n, u) => n + u.total, 0);
  if (old > 0) warnings.push(`${old} vault entries are sealed under an older key; finish the rotation with: keyhole keys rotate`);
  const where = await store.upstreamCredentials.countRefreshLocations();
  const elsewhere = backend === 'keychain' ? where.sqlite : where.keychain;
  if (elsewhere > 0) {
    warnings.push(`storage.vault is "${backend}" but ${elsewhere} refresh tokens are in the ${backend === 'keychain' ? 'database vault' : 'OS keychain'}; they keep working; move them with: keyhole vault migrate --to ${backend === 'keychain' ? 'keychain' : 'sqlite'}`);
  }
  return warnings;
}

/** The people service, person sessions and the sign-in surface's deps, when the config has `identity` (issue 13). */
function peopleOf(
  config: KeyholeConfig,
  d: { store: Store; events: EventRecorder; cipher: VaultCipher; clock: () => number; revokeGrant: (id: string, reason: string, actor: string) => Promise<boolean> },
): { people?: PeopleDeps; orgSignIn?: OrgSignInDeps } {
  const identity = config.identity;
  if (!identity) return {};
  const service = new PeopleService({ store: d.store, events: d.events, identity, cipher: d.cipher, revokeGrant: d.revokeGrant, clock: d.clock });
  const sessions = new PersonSessions({ store: d.store, publicUrl: config.publicUrl, sessionSeconds: identity.sessionSeconds, clock: d.clock });
  const idp = new OrgIdpClient(identity, `${config.publicUrl}/identity/callback`);
  return {
    people: { service, sessions, idp },
    orgSignIn: { config: { publicUrl: config.publicUrl, identity }, cipher: d.cipher, events: d.events, people: service, sessions, idp, clock: d.clock },
  };
}
