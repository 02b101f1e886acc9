/**
 * Config for the credential keyhole injects upstream, per server, and for keyhole's identity-token signing keys.
 * Referenced from schema.ts (`servers.<name>.credential`, `identityTokens`).
 *
 * - no `credential`: the upstream OAuth access token of the grant (the default);
 * - `identity-jwt`: a short-lived JWT keyhole signs (ES256) for self-hosted upstreams that trust keyhole's JWKS;
 * - `static`: one API key for every grant, sealed in the vault at startup (SaaS that only issue API keys).
 *
 * In both non-default kinds the server's `oauth` is still the identity provider the user signs in with: it says
 * who the user is (the grant's subject), but its tokens never go upstream.
 */
import { z } from 'zod';

/** Longest identity JWT lifetime: 5 minutes. */
export const IDENTITY_JWT_MAX_TTL_SECONDS = 300;

// RFC 9110 §5.1 field-name token.
const FIELD_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Request fields keyhole owns or strips: a static credential may not be carried in them. */
const RESERVED_HEADERS = new Set([
  'host', 'cookie', 'content-length', 'content-type', 'transfer-encoding', 'connection', 'keep-alive', 'te', 'trailer',
  'upgrade', 'expect', 'origin', 'forwarded', 'accept', 'accept-encoding', 'proxy-authorization', 'proxy-connection',
  'mcp-session-id', 'mcp-protocol-version', 'last-event-id',
]);

export const identityJwtCredentialSchema = z.strictObject({
  type: z.literal('identity-jwt'),
  /** `aud` of the JWT. Default: the server's `upstream` URL. */
  audience: z.string().min(1).optional(),
  /** Lifetime of each JWT, at most 300 s. */
  ttlSeconds: z.number().int().min(30).max(IDENTITY_JWT_MAX_TTL_SECONDS, 'must be at most 300 (5 minutes)').default(IDENTITY_JWT_MAX_TTL_SECONDS),
});

export const staticCredentialSchema = z.strictObject({
  type: z.literal('static'),
  /** Request header that carries the key, e.g. `X-API-Key` or `Authorization`. */
  header: z
    .string()
    .regex(FIELD_NAME, 'must be an HTTP header name')
    .refine((h) => !RESERVED_HEADERS.has(h.toLowerCase()) && !h.toLowerCase().startsWith('x-forwarded-'), 'this header is reserved by keyhole or HTTP'),
  /** Text before the key, e.g. `"Bearer "` for `Authorization`. */
  prefix: z.string().regex(/^[\x20-\x7e]*$/, 'must be visible ASCII').default(''),
  /** The key itself; use `${ENV_VAR}`. Sealed into the vault at startup. */
  value: z.string().min(1).regex(/^[\x21-\x7e]+$/, 'must be visible ASCII without spaces (check the environment variable)'),
});

export const upstreamCredentialSchema = z.discriminatedUnion('type', [identityJwtCredentialSchema, staticCredentialSchema]);

export const identityTokensSchema = z.strictObject({
  /** How often the identity-JWT signing key rotates. The next key is published in the JWKS one period ahead. */
  keyRotationSeconds: z.number().int().min(600).max(90 * 86_400).default(86_400),
});

export type UpstreamCredentialConfig = z.infer<typeof upstreamCredentialSchema>;
export type IdentityJwtCredentialConfig = z.infer<typeof identityJwtCredentialSchema>;
export type StaticCredentialConfig = z.infer<typeof staticCredentialSchema>;
export type IdentityTokensConfig = z.infer<typeof identityTokensSchema>;
