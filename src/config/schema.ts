/**
 * keyhole configuration schema (zod). The loader substitutes `${ENV}` first, then parses with this schema;
 * errors name the field path (see load-config.ts).
 * @see ../shared/DESIGN.md "Public surface"
 */
import { z } from 'zod';

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
});

export const upstreamOAuthSchema = z
  .strictObject({
    /** Discover endpoints from this issuer (RFC 8414 / OpenID discovery). */
    issuer: httpUrl.optional(),
    authorizationEndpoint: httpUrl.optional(),
    tokenEndpoint: httpUrl.optional(),
    revocationEndpoint: httpUrl.optional(),
    userinfoEndpoint: httpUrl.optional(),
    clientId: z.string().min(1),
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
  .refine((o) => o.issuer || (o.authorizationEndpoint && o.tokenEndpoint), {
    message: 'needs either "issuer" (discovery) or both "authorizationEndpoint" and "tokenEndpoint"',
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
});

export const configSchema = z.strictObject({
  /** The issuer and the base of every resource URL. No trailing slash. */
  publicUrl: baseUrl,
  listen: z.strictObject({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(8787),
  }).default({ host: '127.0.0.1', port: 8787 }),
  storage: z.strictObject({
    sqlite: z.string().min(1).default('./keyhole.db'),
    vault: z.enum(['sqlite', 'keychain']).default('sqlite'),
  }).default({ sqlite: './keyhole.db', vault: 'sqlite' }),
  admin: z.strictObject({
    token: z.string().min(24, 'must be at least 24 characters (use `openssl rand -base64 32`)'),
  }).optional(),
  tokens: z.strictObject({
    accessTokenTtlSeconds: z.number().int().min(30).max(86_400).default(900),
    refreshTokenTtlSeconds: z.number().int().min(300).max(31_536_000).default(30 * 86_400),
    /** How long a just-rotated refresh token still works (races between client tabs/processes). */
    refreshGraceSeconds: z.number().int().min(0).max(300).default(30),
    /** Refresh the upstream access token this many seconds before it expires. */
    upstreamRefreshSkewSeconds: z.number().int().min(0).max(3_600).default(60),
  }).default({ accessTokenTtlSeconds: 900, refreshTokenTtlSeconds: 30 * 86_400, refreshGraceSeconds: 30, upstreamRefreshSkewSeconds: 60 }),
  /** Browser origins (besides publicUrl's) allowed to call the MCP endpoints, e.g. the Inspector's. */
  allowedOrigins: z.array(z.string().regex(/^https?:\/\/[^/]+$/, 'an origin: scheme://host[:port], no path')).default([]),
  /** Largest accepted request body for /mcp and the OAuth endpoints, in bytes. */
  maxBodyBytes: z.number().int().min(1_024).max(64 * 1_048_576).default(4 * 1_048_576),
  servers: z.record(z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'server names are lowercase letters, digits and dashes'), serverSchema)
    .refine((s) => Object.keys(s).length > 0, 'at least one server is required'),
});

export type KeyholeConfig = z.infer<typeof configSchema>;
export type ServerConfig = z.infer<typeof serverSchema>;
export type UpstreamOAuthConfig = z.infer<typeof upstreamOAuthSchema>;
export type ScopeDefinition = z.infer<typeof scopeDefinitionSchema>;
