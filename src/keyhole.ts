/**
 * Assembles a keyhole instance from a validated config, in data-flow order:
 * store → vault cipher (+ check that the keyring opens every stored entry) → upstream vault (sqlite | keychain)
 * → events → upstream clients → grant revoker → upstream token manager → grant service → forwarder → app.
 * `listen()` first checks the OS keychain when the vault needs it (no silent fallback).
 */
import { hkdfSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
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
import { KeySourceError } from './vault/errors.js';
import { EventRecorder, type LogSink } from './events/recorder.js';
import { UpstreamOAuthClient } from './upstream/oauth-client.js';
import { UpstreamTokenManager } from './upstream/token-manager.js';
import { createUpstreamKinds } from './upstream/upstream-kinds.js';
import { GrantRevoker } from './grants/grant-revoker.js';
import { GrantService } from './grants/grant-service.js';
import { createForwarder } from './proxy/forwarder.js';
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
import { createObservability, sqliteWritableCheck, type Observability } from './observability.js';
import type { ReadinessCheck } from './metrics/health-routes.js';

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
  // storage.sqlite: openSqliteStore as before; storage.postgres: connect (a clear error when unreachable) and migrate.
  const store = opts.store ?? (await openStore(config.storage, { onIdleError: (e) => logger.warn('keyhole.store', { error: e.message }) }));
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
  const log: LogSink = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  // One sink for events and the operator log. A config `logLevel` plugs in here.
  const logger = createLogger(log, { level: opts.logLevel ?? config.logLevel });
  // Also records client use (code issued, token issued/refreshed) on the client row: src/authorization-server/client-usage.ts.
  // Each recorded event is then shown to the observability units (refresh metrics, alerts, upstream warn lines).
  let observe: ((e: EventInput) => void) | undefined;
  const events: EventRecorder = new (class ObservedRecorder extends ClientUseRecorder {
    // `via`: the transaction store a lifecycle step records through (src/grants/complete-authorization.ts); it must be
    // passed on, or the write would wait on the outer store while its own transaction holds it.
    override async record(e: EventInput, via?: Store): Promise<void> {
      await super.record(e, via);
      try { observe?.(e); } catch { /* observers never break a lifecycle step */ }
    }
  })(store, log, clock);
  await syncStaticClients(store, config.clients, events, clock());
  const clientIdMetadata = new ClientIdMetadataResolver({ store, events, clock, config: config.cimd, logger });
  const redirectUri = `${config.publicUrl}/oauth/callback`;
  // Every kind of upstream: MCP auto-registration, identity JWTs, static credentials (src/upstream/upstream-kinds.ts).
  const kinds = createUpstreamKinds({ config, store, cipher, events, clock });
  const discoveryFailed = (server: string) => (cause: string) => logger.warn('keyhole.upstream_failure', { server, stage: 'discovery', cause });
  const upstreamClients = new Map(Object.entries(config.servers).map(([name, s]) => [name, new UpstreamOAuthClient(name, s.oauth, redirectUri, kinds.clientSource(name), discoveryFailed(name))]));
  const revoker = new GrantRevoker({ store, vault, events, upstreamClients, clock });
  // The token manager (upstream layer) ends a grant through the revoker (grants layer) without importing it.
  const tokenManager = new UpstreamTokenManager({
    store, vault, events, clients: upstreamClients, skewSeconds: config.tokens.upstreamRefreshSkewSeconds, clock,
    endGrant: (grantId, reason, actor) => revoker.revoke(grantId, reason, actor),
  });
  const grants = new GrantService({ store, vault, events, config, clock, revoker, credentialCache: tokenManager });
  revoker.onGrantEnded((grantId) => tokenManager.forget(grantId));
  // Organization sign-in and people (issue 13), only with `identity`.
  const { people, orgSignIn } = peopleOf(config, { store, events, cipher, clock, revokeGrant: (id, reason, actor) => grants.revoke(id, reason, actor) });
  const forwarder = createForwarder({ maxBodyBytes: config.maxBodyBytes });
  // Traffic policy (issue 15): one set of units per server; a health checker per server with `health` (started by
  // listen(), stopped by close()); a minute timer drops full rate-limit buckets.
  const policies = createServerPolicies({
    servers: config.servers, global: config.limits, now: Date.now,
    onBreakerStateChange: (server, change) => logger.warn('keyhole.circuit', { server, from: change.from, to: change.to, reason: change.reason }),
  });
  const breakers = Object.keys(config.servers).flatMap((name) => {
    const breaker = policies.get(name)?.breaker;
    return breaker ? [[name, breaker] as const] : [];
  });
  const circuitStates = () => Object.fromEntries(breakers.map(([name, b]) => [name, b.snapshot().state]));
  const auditLog = opts.auditLog ?? store.auditLog;
  const checks: ReadinessCheck[] = [
    store instanceof PostgresStore
      ? { name: 'database', check: () => store.pool.query('SELECT 1') } // the database answers a query
      : sqliteWritableCheck(store instanceof SqliteStore ? SqliteStore.connectionOf(store).name : config.storage.sqlite ?? ':memory:'),
    { name: 'keyring', check: async () => keyring.keys.has(keyring.current) },
    ...(config.storage.vault === 'keychain' ? [{ name: 'keychain', check: () => vault.check() }] : []),
  ];
  const observability = createObservability({
    config, auditLog, logger, log, checks, ...(breakers.length ? { circuitStates } : {}), recordEvent: (e) => {
      void events.record(e).catch((err: unknown) => logger.warn('keyhole.event_write_failed', { type: e.type, error: err instanceof Error ? err.name : 'Error' }));
    },
    ...(opts.clock ? { now: () => clock() * 1000 } : {}), ...(opts.fetch ? { fetch: opts.fetch } : {}),
  });
  observe = (e) => observability.onEvent(e);
  // A revoked grant's open SSE streams close at once (the very next request gets 401 from the bearer check).
  revoker.onGrantEnded((grantId) => void forwarder.closeStreams(grantId));
  revoker.onGrantEnded((grantId) => void forwarder.forgetSessions(grantId)); // its MCP sessions are bound to it
  revoker.onGrantEnded((grantId) => kinds.forget(grantId));
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
  const currentKey = keyring.keys.get(keyring.current)!;
  const csrfKey = Buffer.from(hkdfSync('sha256', currentKey, Buffer.alloc(0), 'keyhole consent csrf v1', 32));
  const app = createApp({
    config, store, cipher, events, upstreamClients, tokenManager, revoker, grants, forwarder, clock, csrfKey, clientIdMetadata,
    ...(people ? { people } : {}), ...(orgSignIn ? { orgSignIn } : {}),
    credentialSources: kinds.credentialSources(tokenManager), policies, pinRegistry,
    resources: buildResourceIndex(config.publicUrl, Object.keys(config.servers)),
    logger,
    auditor: observability.auditor, onAuthRefused: (r) => observability.onAuthRefused(r), auditLog,
    onToolsList: (server, tools) => observability.onToolsList(server, tools),
    listedTools: (server) => observability.listedTools(server),
    health: observability.health, metrics: observability.metrics,
  });

  app.route('/', kinds.routes()); // /.well-known/jwks.json, /oauth/client-metadata.json (when a server needs them)
  const warnings = await vaultWarnings(store, keyring, config.storage.vault);

  let server: ServerType | undefined;
  return {
    app, store, events, revoker, grants, tokenManager, vault, clientExpiry, policies, observability,
    ...(people ? { people: people.service, personSessions: people.sessions, orgIdp: people.idp } : {}),
    rotateSigningKey: () => kinds.rotateSigningKey(),
    async listen() {
      await vault.check(); // keytar missing or no Secret Service: refuse to start (before writing anything), say what to install
      await kinds.ready(); // seal static credentials, load or create the identity signing keys
      for (const w of warnings) logger.warn('keyhole.vault', { warning: w });
      for (const name of Object.keys(config.servers)) {
        const list = pinRegistry.pinned(name) ? await store.approvedTools.get(name) : undefined;
        if (list) pinRegistry.setApproved(name, list.tools);
      }
      clientExpiry.start(); // unref'd interval, stopped by close()
      for (const h of healthCheckers) h.start(); // unref'd timers, stopped by close()
      sweepTimer ??= setInterval(() => policies.rateLimits.store.sweep(Date.now()), 60_000).unref();
      const tls = config.listen.tls ? { createServer: createHttpsServer, serverOptions: readTls(config.listen.tls) } : {};
      const scheme = config.listen.tls ? 'https' : 'http';
      observability.start(); // the retention job's unref'd timer
      return new Promise((resolve, reject) => {
        const s = serve({ fetch: app.fetch, hostname: config.listen.host, port: config.listen.port, ...tls }, (info: AddressInfo) => {
          resolve({ url: `${scheme}://${info.address.includes(':') ? `[${info.address}]` : info.address}:${info.port}`, port: info.port });
        });
        s.once('error', reject);
        server = s;
      });
    },
    reloadTls() {
      if (config.listen.tls && server) (server as HttpsServer).setSecureContext(readTls(config.listen.tls));
    },
    async close() {
      await clientExpiry.stop();
      for (const h of healthCheckers) h.stop();
      if (sweepTimer) clearInterval(sweepTimer);
      forwarder.close();
      if (server) {
        const s = server as ServerType & { closeAllConnections?: () => void };
        await new Promise<void>((resolve) => {
          s.close(() => resolve());
          s.closeAllConnections?.();
        });
      }
      await observability.close(); // after the last request: its audit record is flushed before the store closes
      await store.close();
    },
  };
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
