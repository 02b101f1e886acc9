/**
 * Redirect URI rules.
 * - Registration (DCR, client ID metadata documents, static clients alike): https, loopback http (any port), a
 *   private-use scheme in reverse-domain form (`com.example.app:/cb`), or a known MCP client scheme (`cursor://`,
 *   `vscode://`, `vscode-insiders://`). No fragment, no user info, no control character, whitespace or backslash.
 *   Dangerous and handler schemes (javascript, data, file, blob, ftp, ws, wss, intent, ms-*, view-source, about, …) are
 *   refused by name. `application_type` (OpenID Connect Dynamic Client Registration 1.0 §2) narrows this: `web`
 *   clients need https; `native` clients and clients that do not say may use all of the above.
 * - Authorize: exact string match, except that the port of a loopback redirect may change (RFC 8252 §7.3).
 * @see https://www.rfc-editor.org/rfc/rfc8252#section-7
 * @see https://www.rfc-editor.org/rfc/rfc9700#section-4.1.3
 * @see https://openid.net/specs/openid-connect-registration-1_0.html#ClientMetadata
 */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/**
 * Custom schemes of MCP clients that are not in reverse-domain form but are what those clients really register:
 * Cursor (`cursor://anysphere.cursor-retrieval/…`), VS Code (`vscode://…`) and VS Code Insiders, VS Code's preview
 * channel (same vendor, same extension host and URL handler, its own scheme; many developers run it daily).
 */
export const KNOWN_CLIENT_SCHEMES: readonly string[] = ['cursor:', 'vscode:', 'vscode-insiders:'];

/** Schemes that run code, read local data, open sockets or hand the URI to an OS handler: never a redirect target. */
const FORBIDDEN_SCHEMES = new Set([
  'javascript:', 'vbscript:', 'data:', 'file:', 'blob:', 'filesystem:', 'about:', 'view-source:', 'ftp:', 'ws:', 'wss:',
  'intent:', 'jar:', 'mailto:', 'tel:', 'sms:', 'chrome:', 'chrome-extension:', 'moz-extension:', 'resource:', 'search-ms:', 'shell:',
]);

/** RFC 8252 §7.1: a private-use scheme is a reverse domain name, e.g. `com.example.app` (at least one dot). */
const REVERSE_DOMAIN_SCHEME = /^[a-z][a-z0-9-]*(?:\.[a-z0-9-]+)+:$/;
/** A DNS name or IPv4 address (ASCII, IDNs arrive punycoded from the URL parser); `;`, `,`, quotes etc. never pass. */
const DNS_HOST = /^[a-z0-9_-]+(?:\.[a-z0-9_-]+)*\.?$/;
const IPV6_HOST = /^\[[0-9a-f:.]+\]$/;
/** Control characters (C0, DEL, C1), any whitespace (incl. U+2028, NBSP) and the backslash some parsers read as `/`. */
const UNSAFE_CHAR = /[\u0000-\u0020\u007f-\u009f\s\\]/u;

/** `native` (loopback, private-use schemes), `web` (https only), or `unspecified` (the client did not say: as native). */
export type RedirectApplicationType = 'native' | 'web' | 'unspecified';

function parse(uri: string): URL | undefined {
  try {
    return new URL(uri);
  } catch {
    return undefined;
  }
}

/** Plain http to this machine (127.0.0.1, [::1], localhost): loopback redirects (RFC 8252 §7.3), loopback upstreams, `keyhole connect`. */
export function isLoopbackHttp(url: URL): boolean {
  return url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname);
}

/** Is `host` (a parsed URL's host, without port) safe to show and to put in a CSP source? */
export function isPlainHost(host: string): boolean {
  return DNS_HOST.test(host) || IPV6_HOST.test(host);
}

/** Is this a native-app redirect (loopback http, private-use or known client scheme) rather than https? */
export function isNativeRedirect(url: URL): boolean {
  return isLoopbackHttp(url) || (url.protocol !== 'https:' && url.protocol !== 'http:');
}

/** Returns a reason when the URI cannot be registered, or undefined when it can. */
export function redirectUriProblem(uri: string, applicationType: RedirectApplicationType = 'unspecified'): string | undefined {
  if (uri.length > 2_000) return 'is longer than 2000 characters';
  // The URL parser silently drops tabs and newlines and trims controls: judge the raw string.
  if (UNSAFE_CHAR.test(uri)) return 'contains a control character, whitespace or a backslash';
  const url = parse(uri);
  if (!url) return 'is not an absolute URI';
  const scheme = url.protocol;
  if (FORBIDDEN_SCHEMES.has(scheme) || scheme.startsWith('ms-')) return `uses the forbidden scheme ${scheme}`;
  // https://www.rfc-editor.org/rfc/rfc6749#section-3.1.2 — the redirection endpoint URI MUST NOT include a fragment.
  if (url.hash || uri.includes('#')) return 'must not contain a fragment';
  if (url.username || url.password) return 'must not contain a user name or password';
  if (scheme === 'https:') return isPlainHost(url.hostname) ? undefined : 'has an invalid host';
  // https://openid.net/specs/openid-connect-registration-1_0.html#ClientMetadata — web clients register https URLs only.
  if (applicationType === 'web') return 'must use https (application_type is web)';
  // https://www.rfc-editor.org/rfc/rfc8252#section-7.3 — loopback http, any port.
  if (scheme === 'http:') return isLoopbackHttp(url) ? undefined : 'must use https unless the host is loopback (127.0.0.1, [::1], localhost)';
  // https://www.rfc-editor.org/rfc/rfc8252#section-7.1 — private-use URI schemes are reverse domain names.
  if (!REVERSE_DOMAIN_SCHEME.test(scheme) && !KNOWN_CLIENT_SCHEMES.includes(scheme)) {
    return `uses the scheme ${scheme.slice(0, 40)}, which is neither https, loopback http, a reverse-domain private-use scheme (RFC 8252 §7.1) nor a known MCP client scheme (${KNOWN_CLIENT_SCHEMES.map((s) => `${s}//`).join(', ')})`;
  }
  if (url.host && !isPlainHost(url.host.toLowerCase())) return 'has an invalid host';
  return undefined;
}

/**
 * Does `requested` match one of `registered`? Exact match, or — for loopback http — the same URI with any port.
 * @see https://www.rfc-editor.org/rfc/rfc8252#section-7.3 ("MUST allow any port to be specified at the time of the request for loopback IP redirect URIs")
 */
export function matchRedirectUri(registered: readonly string[], requested: string): boolean {
  if (registered.includes(requested)) return true;
  const req = parse(requested);
  // Only the port may differ (RFC 8252 §7.3); a fragment is never allowed: https://www.rfc-editor.org/rfc/rfc6749#section-3.1.2
  if (!req || !isLoopbackHttp(req) || requested.includes('#')) return false;
  return registered.some((r) => {
    const reg = parse(r);
    if (!reg || !isLoopbackHttp(reg)) return false;
    return reg.hostname === req.hostname && reg.pathname === req.pathname && reg.search === req.search && reg.username === req.username && reg.password === req.password;
  });
}

/** The host the consent page shows so the user can spot an impersonating client (docs/client-requirements.md E.23). */
export function redirectHost(uri: string): string {
  const url = parse(uri);
  if (!url) return uri;
  return url.host || `${url.protocol}//`;
}
