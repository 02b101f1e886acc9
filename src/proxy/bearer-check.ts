/**
 * Checks keyhole's bearer token on every MCP request (invariant 3): present, known, not revoked, not expired,
 * minted for THIS server's resource (audience), and its grant still active. Failure → 401 with a challenge
 * that points at the PRM so the client can (re-)authorize. Never a 500 for a bad token.
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3.1
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#token-handling
 */
import type { AccessTokenLookup, Store } from '../store/types.js';
import { sha256Hex } from '../store/crypto/hash.js';
import { bearerChallenge } from '../oauth/www-authenticate.js';

export type BearerResult =
  | { ok: true; token: AccessTokenLookup }
  | { ok: false; challenge: string; description: string };

const BEARER = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i;

export function createBearerCheck(opts: { store: Store; clock: () => number; prmUrl(server: string): string; scope(server: string): string }) {
  const { store, clock } = opts;
  return async function checkBearer(authorization: string | undefined, server: string, resource: string): Promise<BearerResult> {
    const fail = (description: string, presented: boolean): BearerResult => ({
      ok: false,
      description,
      // RFC 6750 §3.1: no error code when the request carried no credentials at all.
      challenge: bearerChallenge({ ...(presented ? { error: 'invalid_token' as const, errorDescription: description } : {}), resourceMetadata: opts.prmUrl(server), scope: opts.scope(server) }),
    });
    if (!authorization) return fail('no access token', false);
    const m = BEARER.exec(authorization);
    if (!m) return fail('the Authorization header is not a Bearer token', true);
    const token = await store.tokens.findAccess(sha256Hex(m[1]!));
    if (!token) return fail('the access token is unknown', true);
    if (token.revokedAt !== null) return fail('the access token has been revoked', true);
    if (token.expiresAt <= clock()) return fail('the access token has expired', true);
    // Audience: a token minted for /mcp/A is refused at /mcp/B (RFC 8707 §2; MCP "Token Audience Binding").
    if (token.resource !== resource || token.server !== server) return fail('the access token was issued for another resource', true);
    if (token.grantStatus !== 'active') return fail('the grant has been revoked', true);
    return { ok: true, token };
  };
}
