/**
 * Builds the redirect back to the MCP client: `code` or `error`, the client's `state`, and `iss` (RFC 9207).
 * 302 Found, never 307 (which would re-POST the consent form to the client).
 * @see https://www.rfc-editor.org/rfc/rfc9207#section-2
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2
 */
import type { OAuthError } from '../oauth/errors.js';
import { isPlainHost } from '../oauth/redirect-uri.js';

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

/** A CSP scheme-source: `scheme:` (RFC 3986 scheme characters only). */
const SCHEME_SOURCE = /^[a-z][a-z0-9+.-]*:$/;
/** Falls back to this when the URI gives no safe source: the form may then post only to keyhole itself. */
const SELF = "'self'";

/**
 * A CSP `form-action` source for a redirect URI, built only from parsed and re-checked parts, never from raw input
 * (a `;` or a space in a host would otherwise end the directive and inject another one): `scheme://host[:port]` for
 * http(s), `scheme:` for private-use schemes, `'self'` when neither is safe (e.g. a client stored before the rules
 * of src/oauth/redirect-uri.ts).
 * @see https://www.w3.org/TR/CSP3/#grammardef-serialized-source-list
 */
export function formActionSource(uri: string): string {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return SELF;
  }
  const scheme = url.protocol.toLowerCase();
  if (!SCHEME_SOURCE.test(scheme)) return SELF;
  if (scheme !== 'http:' && scheme !== 'https:') return scheme;
  if (!isPlainHost(url.hostname)) return SELF;
  const port = url.port && /^\d{1,5}$/.test(url.port) ? `:${url.port}` : '';
  return `${scheme}//${url.hostname}${port}`;
}
