/**
 * createApp(deps): mounts the routers in flow order — discovery, registration, authorize, consent, upstream
 * callback, token, revocation, then the protected MCP endpoints. One onError turns `OAuthError`s into
 * responses; anything else is a generic `server_error` without detail (docs/invariants.md #7: no stack traces).
 */
import { Hono, type Context } from 'hono';
import type { HttpBindings } from '@hono/node-server';
import type { AuthorizationServerDeps } from './authorization-server/deps.js';
import type { Forwarder } from './proxy/forwarder.js';
import type { UpstreamCredentialSource } from './upstream/credential-source.js';
import type { ServerPolicies } from './policy/server-policy.js';
import type { PinRegistry } from './policy/pin-registry.js';
import { InvalidRequestError, OAuthError } from './oauth/errors.js';
import { metadataRoutes } from './authorization-server/metadata.js';
import { registerRoutes } from './authorization-server/register.js';
import { authorizeRoutes } from './authorization-server/authorize.js';
import { consentRoutes } from './authorization-server/consent.js';
import { callbackRoutes } from './authorization-server/callback.js';
import { tokenRoutes } from './authorization-server/token.js';
import { revokeRoutes } from './authorization-server/revoke.js';
import { mcpPipeline, mcpRoutes } from './proxy/mcp-route.js';
import { createMcpDispatch, type McpDispatch } from './proxy/mcp-dispatch.js';
import { adminRoutes } from './admin/admin-routes.js';
import { orgSignInRoutes } from './org-sign-in/routes.js';
import { accountRoutes } from './account/routes.js';
import type { OrgSignInDeps } from './org-sign-in/deps.js';
import { scimRoutes } from './scim/scim-routes.js';
import { publicCors } from './http/cors.js';
import { oauthBodyLimit } from './http/body-limit.js';
import { isClientAbort } from './http/client-abort.js';
import { trustProxy } from './http/client-address.js';
import { createLogger, type Logger } from './http/logger.js';
import type { RequestAuditor } from './audit/request-audit.js';
import type { AuthFailureReason } from './proxy/pipeline/authenticate.js';
import type { AuditLog } from './store/repositories/audit-log.js';
import { healthRoutes, type HealthRoutesOptions } from './metrics/health-routes.js';
import { metricsRoutes, type MetricsSource } from './metrics/metrics-route.js';
import { createSecretRedactor } from './policy/secret-redactor.js';

export interface AppDeps extends AuthorizationServerDeps {
  forwarder: Forwarder;
  /** Per server, the credential injected upstream (src/upstream/upstream-kinds.ts); absent → the upstream OAuth token. */
  credentialSources?: ReadonlyMap<string, UpstreamCredentialSource>;
  /** Traffic policy of the MCP route (src/policy/server-policy.ts); built from the config when absent. */
  policies?: ServerPolicies;
  /** Pinned tools (`pinTools`): the live snapshots (MCP route, admin); approvals are stored in `store.approvedTools`. */
  pinRegistry?: PinRegistry;
  /** The operator log: unexpected errors (error level: name, message and stack, secrets redacted), client aborts (debug). Default: stderr, info. */
  logger?: Logger;
  /** Issue 14: the audit step's auditor, authenticate's refusal observer, the audit log behind /admin/api/audit. */
  auditor?: Pick<RequestAuditor, 'begin'>;
  onAuthRefused?: (reason: AuthFailureReason) => void;
  onToolsList?: (server: string, tools: unknown[]) => void;
  listedTools?: (server: string) => { names: string[]; at: number } | undefined;
  auditLog?: AuditLog;
  /** `/healthz` and `/readyz` (absent: not mounted); `/metrics` (404 without `config.metrics`). */
  health?: HealthRoutesOptions;
  metrics?: MetricsSource;
  /** Organization sign-in (issue 13): /identity/login and /identity/callback, mounted when the config has `identity`. */
  orgSignIn?: OrgSignInDeps;
}

const secretDetectors = createSecretRedactor({ redactSecrets: true, patterns: [] });
/** keyhole's own token formats (src/events/recorder.ts), then the built-in secret detectors (JWTs, GitHub, Bearer, …). */
const KEYHOLE_TOKEN = /kh_(?:at|rt|code|cs)_[A-Za-z0-9_-]{4,}/g;
const redactSecrets = (s: string): string => secretDetectors.redact(s.slice(0, 8_192).replace(KEYHOLE_TOKEN, '[REDACTED:keyhole_token]'));

/**
 * The app: Hono for everything, plus `dispatchMcp`, the data plane's front door: a Node request listener serves
 * plain `/mcp/{server}` requests with the same pipeline before Hono (src/proxy/mcp-dispatch.ts) and answers false
 * for everything else. `app.fetch`/`app.request` still serve `/mcp` through Hono (same steps, same answers).
 */
export type KeyholeApp = Hono<{ Bindings: HttpBindings }> & { readonly dispatchMcp: McpDispatch };

export function createApp(deps: AppDeps): KeyholeApp {
  const app = new Hono<{ Bindings: HttpBindings }>();
  app.use('*', trustProxy(deps.config.trustProxy ?? [])); // first: every clientAddress(c) below honours it
  const limit = oauthBodyLimit(Math.min(deps.config.maxBodyBytes, 64 * 1024));
  for (const path of ['/register', '/token', '/revoke']) app.use(path, publicCors());
  for (const path of ['/register', '/token', '/revoke', '/consent']) app.use(path, limit);

  app.route('/', metadataRoutes(deps.config));
  if (deps.orgSignIn) app.route('/', orgSignInRoutes(deps.orgSignIn));
  app.route('/', registerRoutes(deps));
  app.route('/', authorizeRoutes(deps));
  app.route('/', consentRoutes(deps));
  app.route('/', callbackRoutes(deps));
  app.route('/', tokenRoutes(deps));
  app.route('/', revokeRoutes(deps));
  app.route('/', adminRoutes(deps));
  if (deps.people && deps.config.identity?.scim) {
    app.route('/', scimRoutes({ store: deps.store, people: deps.people.service, events: deps.events, clock: deps.clock, token: deps.config.identity.scim.token, issuer: deps.config.identity.issuer, baseUrl: deps.config.publicUrl, instances: deps.config.instances }));
  }
  // /account (issue 13 §6): a person's own grants with `identity`; without, a page saying the admin manages access.
  app.route('/', accountRoutes({ config: deps.config, store: deps.store, events: deps.events, grants: deps.grants, csrfKey: deps.csrfKey, people: deps.people }));
  const pipeline = mcpPipeline(deps);
  app.route('/', mcpRoutes(deps, pipeline));
  if (deps.health) app.route('/', healthRoutes(deps.health));
  app.route('/', metricsRoutes({ config: deps.config.metrics, metrics: deps.metrics }));

  app.get('/', (c) => c.json({ name: 'keyhole', issuer: deps.config.publicUrl, servers: Object.keys(deps.config.servers).map((s) => `${deps.config.publicUrl}/mcp/${s}`) }));
  app.notFound((c) => c.json({ error: 'not_found', error_description: 'no such endpoint' }, 404));
  const logger = deps.logger ?? createLogger();
  const onError = (thrown: Error, c: Context): Response => {
    let err = thrown;
    if (isClientAbort(err, c)) {
      // The client went away mid-body: its doing, not keyhole's. Nobody reads the answer; the socket is gone.
      logger.debug('keyhole.client_aborted', { method: c.req.method, path: c.req.path, error: err.name });
      err = new InvalidRequestError('the request body was not received completely');
    }
    if (err instanceof OAuthError) {
      if (err.status === 401 && c.req.header('authorization')?.toLowerCase().startsWith('basic ')) {
        // https://www.rfc-editor.org/rfc/rfc6749#section-5.2 — answer Basic auth failures with a Basic challenge.
        c.header('WWW-Authenticate', 'Basic realm="keyhole"');
      }
      return c.json(err.toJSON(), err.status as 400);
    }
    // Message and stack for the operator, through the secret detectors (a token inside a message never reaches the log).
    const e = err as Error | undefined;
    logger.error('keyhole.unhandled', { error: e?.name ?? 'Error', message: redactSecrets(String(e?.message ?? '')), stack: redactSecrets(String(e?.stack ?? '')) });
    return c.json({ error: 'server_error', error_description: 'internal error' }, 500);
  };
  app.onError(onError);
  return Object.assign(app, { dispatchMcp: createMcpDispatch([pipeline.cors, ...pipeline.steps], onError) });
}
