/**
 * Builds the redirect back to the MCP client: `code` or `error`, the client's `state`, and `iss` (RFC 9207).
 * 302 Found, never 307 (which would re-POST the consent form to the client).
 * @see https://www.rfc-editor.org/rfc/rfc9207#section-2
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2
 */
import type { OAuthError } from '../oauth/errors.js';

export function clientRedirectUrl(redirectUri: string, issuer: string, params: { code?: string; error?: OAuthError; state?: string | null }): string {
  const url = new URL(redirectUri);
  if (params.code) url.searchParams.set('code', params.code);
  if (params.error) {
    url.searchParams.set('error', params.error.errorCode);
    url.searchParams.set('error_description', params.error.message);
  }
  if (params.state) url.searchParams.set('state', params.state);
  url.searchParams.set('iss', issuer);
  return url.toString();
}

/** A CSP `form-action` source for a redirect URI: its origin, or its scheme for private-use schemes. */
export function formActionSource(uri: string): string {
  const url = new URL(uri);
  return url.origin !== 'null' ? url.origin : url.protocol;
}
