/**
 * Step 2 of `/mcp/{server}`: keyhole's bearer token (docs/invariants.md #3). Present, known, not revoked, not expired,
 * minted for THIS server's resource (audience), and its grant still active. Any failure is a 401 with a challenge
 * that points at the server's PRM, so the client can (re-)authorize; never a 500 for a bad token.
 * Puts on the context: `mcp.token` (the checked token) and `mcp.grant` (its grant, with the token's scopes).
 *
 * The store's access-token lookup happens here and nowhere else in the pipeline.
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3.1
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#token-handling
 */
import type { Context } from 'hono';
import type { AccessTokenLookup, Store } from '../../store/types.js';
import { sha256Hex } from '../../store/crypto/hash.js';
import { bearerChallenge } from '../../oauth/www-authenticate.js';
import type { McpEnv, McpRequest, McpServerRoute, McpStep } from './mcp-request.js';

export interface AuthenticateOptions {
  store: { readonly tokens: Pick<Store['tokens'], 'findAccess'> };
  /** Seconds since the epoch. */
  clock: () => number;
  /** Told each refusal's reason (for `keyhole_auth_failures_total` and the auth-failure rate alert); never throws into the request. */
  onRefused?: (reason: AuthFailureReason) => void;
}

/** Why a bearer token was refused, as metrics and audit records name it. */
export type AuthFailureReason = 'missing_token' | 'invalid_token' | 'expired_token' | 'wrong_audience' | 'grant_revoked';

const REASON_BY_REFUSAL: ReadonlyMap<string, AuthFailureReason> = new Map([
  ['the access token has expired', 'expired_token'],
  ['the access token was issued for another resource', 'wrong_audience'],
  ['the grant has been revoked', 'grant_revoked'],
]);

const BEARER = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i;

/** Why a looked-up token may not be used on this server, or undefined when it may. */
export function refusalOf(token: AccessTokenLookup | undefined, route: McpServerRoute, now: number): string | undefined {
  if (!token) return 'the access token is unknown';
  if (token.revokedAt !== null) return 'the access token has been revoked';
  if (token.expiresAt <= now) return 'the access token has expired';
  // Audience: a token minted for /mcp/A is refused at /mcp/B (RFC 8707 §2; MCP "Token Audience Binding").
  if (token.resource !== route.resource || token.server !== route.name) return 'the access token was issued for another resource';
  if (token.grantStatus !== 'active') return 'the grant has been revoked';
  return undefined;
}

function unauthorized(c: Context<McpEnv>, route: McpServerRoute, description: string, presented: boolean): Response {
  // RFC 6750 §3.1: no error code when the request carried no credentials at all.
  c.header('WWW-Authenticate', bearerChallenge({ ...(presented ? { error: 'invalid_token' as const, errorDescription: description } : {}), resourceMetadata: route.prmUrl, scope: route.scope }));
  return c.json({ error: 'invalid_token', error_description: description }, 401);
}

export function authenticate(opts: AuthenticateOptions): McpStep {
  if (!opts || typeof opts.store?.tokens?.findAccess !== 'function') throw new TypeError('authenticate: store is required');
  if (typeof opts.clock !== 'function') throw new TypeError('authenticate: clock is required');
  const { store, clock, onRefused } = opts;
  const refuse = (req: McpRequest, reason: AuthFailureReason): void => {
    req.denial = { reason };
    try { onRefused?.(reason); } catch { /* an observer never breaks the request */ }
  };

  return async function authenticateBearer(c, next) {
    const req = c.get('mcp');
    const authorization = c.req.header('authorization');
    if (!authorization) {
      refuse(req, 'missing_token');
      return unauthorized(c, req.route, 'no access token', false);
    }
    const m = BEARER.exec(authorization);
    if (!m) {
      refuse(req, 'invalid_token');
      return unauthorized(c, req.route, 'the Authorization header is not a Bearer token', true);
    }
    // The one store read of the pipeline (an async repository: `await` it here).
    const token = await store.tokens.findAccess(sha256Hex(m[1]!));
    const refused = refusalOf(token, req.route, clock());
    if (refused || !token) {
      refuse(req, REASON_BY_REFUSAL.get(refused ?? '') ?? 'invalid_token');
      return unauthorized(c, req.route, refused ?? 'the access token is unknown', true);
    }
    req.token = token;
    req.grant = { id: token.grantId, server: req.server, clientId: token.clientId, subject: token.subject, scopes: token.scopes, personId: token.personId };
    await next();
  };
}
