/**
 * keyhole configuration schema (zod). The loader substitutes `${ENV}` first, then parses with this schema;
 * errors name the field path (see load-config.ts).
 * @see docs/architecture.md (the configuration surface) and README.md "Configuration reference"
 */
import { z } from 'zod';
import { redirectUriProblem } from '../oauth/redirect-uri.js';
import { parseCidr } from '../http/client-address.js';
import { identityTokensSchema, upstreamCredentialSchema } from './upstream-credential-schema.js';
import { limitsSchema, serverPolicyFields } from './policy-schema.js';
import { storageSchema } from './storage-schema.js';
import { alertsSchema, logLevelSchema, metricsSchema, retentionSchema, serverAuditSchema } from './observability-schema.js';
import { identitySchema, scopeGroupsSchema, serverAccessSchema } from './identity-schema.js';

const url = z.string().url();
const httpUrl = url.refine((u) => /^https?:\/\//.test(u), 'must be an http(s) URL');
/** A URL with no trailing slash, no query and no fragment: it is compared byte for byte later. */
const baseUrl = httpUrl
  .refine((u) => !u.endsWith('/'), 'must not end with a slash')
  .refine((u) => !u.includes('?') && !u.includes('#'), 'must not have a query or fragment');

export const scopeDefinitionSchema = z.strictObject({
  description: z.string().min(1),
  upstreamScopes: z.array(z.string().min(1)).default([]),
  tools: z.array(z.string().min(1)).default([]),
  /** Only members of one of these groups may be granted this scope (needs `identity`; ./identity-schema.ts). */
  groups: scopeGroupsSchema.optional(),
});

export const upstreamOAuthSchema = z
  .strictObject({
    /**
     * "mcp": the upstream implements MCP authorization. keyhole reads its protected resource metadata (RFC 9728),
     * discovers the authorization server, and registers itself (DCR or a client ID metadata document); no clientId
     * needed. `issuer`, when also given, pins the authorization server it must find.
     */
    discovery: z.literal('mcp').optional(),
    /** Discover endpoints from this issuer (RFC 8414 / OpenID discovery). */
    issuer: httpUrl.optional(),
    authorizationEndpoint: httpUrl.optional(),
    tokenEndpoint: httpUrl.optional(),
    revocationEndpoint: httpUrl.optional(),
    userinfoEndpoint: httpUrl.optional(),
    /** Required unless `discovery` is "mcp" (then keyhole registers itself). */
    clientId: z.string().min(1).optional(),
    clientSecret: z.string().min(1).optional(),
    tokenEndpointAuthMethod: z.enum(['client_secret_basic', 'client_secret_post', 'none']).default('client_secret_basic'),
    scopes: z.array(z.string().min(1)).default([]),
    /** RFC 8707 resource sent upstream on authorize, token and refresh. */
    resource: httpUrl.optional(),
    /** Extra authorization request parameters, e.g. Google's access_type=offline, prompt=consent. */
    extraAuthorizationParams: z.record(z.string(), z.string()).default({}),
    /** Claim of the id_token or userinfo response that names the upstream account. */
    subjectClaim: z.string().min(1).default('sub'),
    /** Claim used as a display name where known. */
    nameClaim: z.string().min(1).default('name'),
  })
  .refine((o) => o.discovery === 'mcp' || o.issuer || (o.authorizationEndpoint && o.tokenEndpoint), {
    message: 'needs either "issuer" (discovery) or both "authorizationEndpoint" and "tokenEndpoint" (or "discovery": "mcp")',
  })
  .refine((o) => o.discovery === 'mcp' || o.clientId, { message: 'is required (unless "discovery" is "mcp")', path: ['clientId'] })
  .refine((o) => o.discovery !== 'mcp' || !(o.authorizationEndpoint || o.tokenEndpoint || o.revocationEndpoint), {
    message: 'explicit endpoints cannot be combined with "discovery": "mcp" (they are discovered)',
    path: ['discovery'],
  });

export const serverSchema = z.strictObject({
  /** Upstream MCP endpoint (Streamable HTTP). */
  upstream: httpUrl,
  /** Human-readable name shown on the consent page. */
  displayName: z.string().min(1).optional(),
  oauth: upstreamOAuthSchema,
  scopes: z.record(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, 'scope names are RFC 6749 scope-tokens'), scopeDefinitionSchema).optional(),
  defaultPolicy: z.enum(['deny', 'allow']).default('deny'),
  /** Milliseconds before an upstream request without response headers fails with 504. */
  upstreamTimeoutMs: z.number().int().positive().default(30_000),
  /** What keyhole injects upstream instead of the upstream OAuth token: an identity JWT or a static API key. */
  credential: upstreamCredentialSchema.optional(),
  /** Traffic policy (policy-schema.ts): limits, circuitBreaker, health, argumentRules, pinTools, guardrails. */
  ...serverPolicyFields,
  /** Audit of this server's calls (issue 14): `{"arguments": "none" | "redacted"}`. */
  audit: serverAuditSchema.default({ arguments: 'none' }),
  /** Which groups may use this server: `{"groups": [...]}` (needs `identity`; ./identity-schema.ts). */
  access: serverAccessSchema.optional(),
}).refine((s) => !(s.credential && s.oauth.discovery === 'mcp'), {
  message: 'an identity-jwt or static credential needs "oauth" to be the identity provider, not "discovery": "mcp"',
  path: ['credential'],
});

/**
 * Client ID metadata documents (draft-ietf-oauth-client-id-metadata-document): a client_id that is an https URL
 * is resolved by fetching it under an SSRF guard (src/http/guarded-fetch.ts).
 */
export const cimdSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** Allow documents on private, loopback and link-local addresses. For tests and closed networks only. */
  allowPrivateAddresses: z.boolean().default(false),
  /** Path to a PEM file of extra CA certificates trusted for the fetch (added to Node's bundled roots). */
  extraCa: z.string().min(1).optional(),
  /** Overall fetch deadline (DNS, connect, TLS, body). */
  timeoutMs: z.number().int().min(100).max(30_000).default(5_000),
  /** Largest accepted document. */
  maxBytes: z.number().int().min(512).max(64 * 1024).default(5 * 1024),
  /** Freshness when the document's response says nothing (Cache-Control / Expires). */
  defaultCacheSeconds: z.number().int().min(0).max(86_400).default(300),
  /** Upper bound on any freshness the document's response asks for. */
  maxCacheSeconds: z.number().int().min(0).max(7 * 86_400).default(86_400),
  maxCacheEntries: z.number().int().min(1).max(100_000).default(1_000),
});

/**
 * Dynamic client registration (RFC 7591, POST /register). Clients register on every reconnect, so registration is
 * rate-limited (per address and globally) and DCR clients that are never or no longer used are deleted
 * (src/authorization-server/client-expiry.ts). "Used" = a completed authorization or a token issued or refreshed.
 * Sized for an organisation of ~50 people with a few MCP clients each: 600 registrations an hour is far above what
 * they make (a reconnect storm of everyone at once is ~250), and bounds what an unauthenticated caller can store.
 */
export const dcrSchema = z.strictObject({
  /** Registrations per client address per minute. */
  perAddressPerMinute: z.number().int().min(1).max(10_000).default(30),
  /** Registrations across all addresses per hour (a sliding hour, counted in the store). */
  globalPerHour: z.number().int().min(1).max(1_000_000).default(600),
  /** A DCR client that completes no authorization within this many hours of registering is deleted. */
  neverAuthorizedHours: z.number().int().min(1).max(24 * 30).default(24),
  /** A DCR client unused for this many days is deleted (its remaining grants are revoked first). */
  unusedDays: z.number().int().min(1).max(3_650).default(90),
  /** How often the expiry job runs. */
  expiryIntervalSeconds: z.number().int().min(10).max(86_400).default(900),
  /** Clients deleted per batch (the job runs batches until done, at most 20 per run). */
  expiryBatchSize: z.number().int().min(1).max(1_000).default(100),
});

/**
 * A pre-registered client (kind 'static'), e.g. a CI agent. Its secret is kept only as a SHA-256 hash: give
 * `clientSecret` (usually `${ENV}`) or `clientSecretSha256` (hex). Without either it is a public client (PKCE only).
 */
export const staticClientSchema = z
  .strictObject({
    clientId: z
      .string()
      .min(1)
      .max(200)
      .regex(/^[\x21-\x7e]+$/, 'must be visible ASCII without spaces')
      .refine((id) => !/^[a-z][a-z0-9+.-]*:/i.test(id), 'must not look like a URL (URL client ids are client ID metadata documents)')
      .refine((id) => !id.startsWith('c_'), 'must not start with "c_" (reserved for dynamically registered clients)'),
    clientName: z.string().min(1).max(200),
    redirectUris: z
      .array(z.string().superRefine((uri, ctx) => {
        const problem = redirectUriProblem(uri);
        if (problem) ctx.addIssue({ code: 'custom', message: `redirect URI ${problem}` });
      }))
      .min(1, 'at least one redirect URI is required')
      .max(20),
    clientSecret: z.string().min(16, 'must be at least 16 characters (use `openssl rand -base64 32`)').optional(),
    clientSecretSha256: z.string().regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex characters (SHA-256 of the secret)').optional(),
    grantTypes: z
      .array(z.enum(['authorization_code', 'refresh_token']))
      .min(1)
      .refine((g) => g.includes('authorization_code'), 'must include authorization_code')
      .default(['authorization_code', 'refresh_token']),
  })
  .refine((c) => !(c.clientSecret && c.clientSecretSha256), { message: 'give clientSecret or clientSecretSha256, not both' });

/**
 * `memory.heapGrowthPercent` by default: V8's own adaptive factor. 25 measured 214 MB RSS after a burst over 100k grants
 * (about 280–440 MB with V8's default) but about 30 % more CPU per request at saturation (GC 10–11 % of the profile
 * against 7 %), so it is the operator's choice (bench/README.md, Memory).
 */
export const DEFAULT_HEAP_GROWTH_PERCENT = 0;

export const configSchema = z.strictObject({
  /** The issuer and the base of every resource URL. No trailing slash. */
  publicUrl: baseUrl,
  listen: z.strictObject({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(8787),
    /** Serve HTTPS directly: PEM files, read at startup and again on SIGHUP. Behind a TLS-terminating proxy, leave it out. */
    tls: z.strictObject({ cert: z.string().min(1), key: z.string().min(1) }).optional(),
  }).default({ host: '127.0.0.1', port: 8787 }),
  /**
   * Peers (CIDRs or addresses) whose X-Forwarded-For / X-Forwarded-Proto keyhole believes, e.g. the reverse proxy's.
   * Empty (default): the TCP peer is the client. src/http/client-address.ts.
   */
  trustProxy: z.array(z.string().refine((s) => parseCidr(s) !== undefined, 'must be an IP address or CIDR, e.g. "10.0.0.0/8"')).default([]),
  /** `sqlite` or `postgres`, and where refresh tokens go (`vault`): ./storage-schema.ts. */
  storage: storageSchema,
  /**
   * Names this keyhole in the OS keychain: refresh tokens under service `mcp-keyhole/<instanceName>` (account = grant
   * id), a keychain-held master keyring under `mcp-keyhole/<instanceName>/keys`. Give each keyhole on a machine its own.
   */
  instanceName: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'letters, digits, ".", "_" and "-" (at most 63), starting with a letter or digit').default('default'),
  /**
   * Where the master keyring comes from (docs/vault-and-keys.md): "env" = KEYHOLE_MASTER_KEY (+ KEYHOLE_MASTER_KEYS_OLD),
   * "file" = a keyring file of mode 0600 at `file`, "keychain" = the OS keychain.
   */
  keys: z.strictObject({
    source: z.enum(['env', 'file', 'keychain']).default('env'),
    file: z.string().min(1).default('./keyhole.key'),
  }).default({ source: 'env', file: './keyhole.key' }),
  admin: z.strictObject({
    token: z.string().min(24, 'must be at least 24 characters (use `openssl rand -base64 32`)'),
  }).optional(),
  tokens: z.strictObject({
    accessTokenTtlSeconds: z.number().int().min(30).max(86_400).default(900),
    refreshTokenTtlSeconds: z.number().int().min(300).max(31_536_000).default(30 * 86_400),
    /** How long a just-rotated refresh token still works (races between client tabs/processes). */
    refreshGraceSeconds: z.number().int().min(0).max(300).default(30),
    /** Refresh the upstream access token this many seconds before it expires; unset: min(60, a quarter of its lifetime). */
    upstreamRefreshSkewSeconds: z.number().int().min(0).max(3_600).optional(),
  }).default({ accessTokenTtlSeconds: 900, refreshTokenTtlSeconds: 30 * 86_400, refreshGraceSeconds: 30 }),
  /** Browser origins (besides publicUrl's) allowed to call the MCP endpoints, e.g. the Inspector's. */
  allowedOrigins: z.array(z.string().regex(/^https?:\/\/[^/]+$/, 'an origin: scheme://host[:port], no path')).default([]),
  /** Largest accepted request body for /mcp and the OAuth endpoints, in bytes. */
  maxBodyBytes: z.number().int().min(1_024).max(64 * 1_048_576).default(4 * 1_048_576),
  servers: z.record(z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'server names are lowercase letters, digits and dashes'), serverSchema)
    .refine((s) => Object.keys(s).length > 0, 'at least one server is required'),
  /** Rate limits across all servers (same shape as a server's `limits`; refusals say `limit_type: "global"`). */
  limits: limitsSchema.optional(),
  /**
   * How many keyhole instances share this database behind a load balancer (PostgreSQL storage). Rate limits are kept
   * in each instance's memory, so each instance enforces `limit / instances` of every rate limit (docs/architecture.md,
   * "Several instances"). Default 1.
   */
  instances: z.number().int().min(1).max(1_000).default(1),
  cimd: cimdSchema.default(cimdSchema.parse({})),
  /** Dynamic client registration limits and expiry of unused DCR clients. */
  dcr: dcrSchema.default(dcrSchema.parse({})),
  /** Signing keys of the identity JWTs (servers with `credential.type` "identity-jwt"); JWKS at /.well-known/jwks.json. */
  identityTokens: identityTokensSchema.default(identityTokensSchema.parse({})),
  /** Pre-registered clients, upserted into the store at startup (kind 'static'). */
  clients: z.array(staticClientSchema)
    .refine((cs) => new Set(cs.map((c) => c.clientId)).size === cs.length, 'client ids must be unique')
    .default([]),
  /** Operator log threshold: debug, info, warn or error. */
  logLevel: logLevelSchema,
  /** `GET /metrics` (Prometheus); absent: the route answers 404. */
  metrics: metricsSchema.optional(),
  /** Signed webhook alerts; absent: none are sent. */
  alerts: alertsSchema.optional(),
  /** How long audit records, events and expired tokens are kept. */
  retention: retentionSchema.default(retentionSchema.parse({})),
  /** Organization sign-in before consent, group policy, offboarding (./identity-schema.ts); absent: off. */
  identity: identitySchema.optional(),
  /**
   * Graceful shutdown on SIGTERM/SIGINT (src/http/drain.ts): keyhole stops accepting, answers /readyz with 503, and
   * lets in-flight requests finish for at most `graceSeconds` before ending what is left. Keep it below the
   * orchestrator's kill timeout (Kubernetes: terminationGracePeriodSeconds, default 30).
   */
  shutdown: z.strictObject({
    graceSeconds: z.number().min(0).max(3_600).default(25),
  }).default({ graceSeconds: 25 }),
  /**
   * Memory (src/http/heap-growth.ts): the JavaScript heap may grow to (1 + heapGrowthPercent / 100) × what was live
   * after the last full garbage collection before the next one. Lower: a smaller RSS, more frequent collections.
   * 0: V8's own adaptive factor (up to 4×). A `--heap-growing-percent` given to node on the command line wins.
   */
  memory: z.strictObject({
    heapGrowthPercent: z.number().int().min(0).max(300).default(DEFAULT_HEAP_GROWTH_PERCENT),
  }).default({ heapGrowthPercent: DEFAULT_HEAP_GROWTH_PERCENT }),
}).superRefine((c, ctx) => {
  // Group rules without an IdP to say who is in which group would silently allow (or refuse) everyone.
  if (c.identity) return;
  for (const [name, server] of Object.entries(c.servers)) {
    if (server.access) ctx.addIssue({ code: 'custom', path: ['servers', name, 'access'], message: 'needs the top-level "identity" block (who is in which group)' });
    for (const [scope, def] of Object.entries(server.scopes ?? {})) {
      if (def.groups) ctx.addIssue({ code: 'custom', path: ['servers', name, 'scopes', scope, 'groups'], message: 'needs the top-level "identity" block (who is in which group)' });
    }
  }
});

export type KeyholeConfig = z.infer<typeof configSchema>;
export type ServerConfig = z.infer<typeof serverSchema>;
export type UpstreamOAuthConfig = z.infer<typeof upstreamOAuthSchema>;
export type ScopeDefinition = z.infer<typeof scopeDefinitionSchema>;
export type CimdConfig = z.infer<typeof cimdSchema>;
export type DcrConfig = z.infer<typeof dcrSchema>;
export type StaticClientConfig = z.infer<typeof staticClientSchema>;
