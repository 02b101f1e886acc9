/**
 * PKCE (RFC 7636), S256 only: OAuth 2.1 and the MCP authorization spec require S256, and `plain` is refused.
 * @see https://www.rfc-editor.org/rfc/rfc7636
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#authorization-code-protection
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { InvalidGrantError, InvalidRequestError } from './errors.js';

/** RFC 7636 §4.1: 43–128 characters of [A-Z a-z 0-9 - . _ ~]. */
const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;
/** BASE64URL(SHA256(verifier)) is always 43 characters. */
const S256_CHALLENGE = /^[A-Za-z0-9\-_]{43}$/;

/** @see https://www.rfc-editor.org/rfc/rfc7636#section-4.3 */
export function assertCodeChallenge(challenge: string | undefined, method: string | undefined): asserts challenge is string {
  if (!challenge) throw new InvalidRequestError('code_challenge is required (PKCE S256)');
  if (method !== 'S256') {
    // https://www.rfc-editor.org/rfc/rfc7636#section-4.4.1 — we only support S256; `plain` and a missing method are refused.
    throw new InvalidRequestError(method ? `code_challenge_method "${method}" is not supported; use S256` : 'code_challenge_method=S256 is required');
  }
  if (!S256_CHALLENGE.test(challenge)) throw new InvalidRequestError('code_challenge is not a base64url SHA-256 value');
}

export function s256(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

/** @see https://www.rfc-editor.org/rfc/rfc7636#section-4.6 */
export function assertCodeVerifier(verifier: string | undefined, challenge: string): void {
  if (!verifier) throw new InvalidRequestError('code_verifier is required');
  if (!VERIFIER.test(verifier)) throw new InvalidGrantError('code_verifier is malformed');
  if (!sameString(s256(verifier), challenge)) throw new InvalidGrantError('PKCE verification failed');
}

/** Constant-time comparison of two ASCII strings (the pure layer keeps its own; the store's is for hashes). */
function sameString(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
