/**
 * Redirect URI rules.
 * - Registration: https, loopback http, or a private-use scheme (native apps, e.g. `cursor://`); no fragment.
 * - Authorize: exact string match, except that the port of a loopback redirect may change (RFC 8252 §7.3).
 * @see https://www.rfc-editor.org/rfc/rfc8252#section-7.3
 * @see https://www.rfc-editor.org/rfc/rfc9700#section-4.1.3
 */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

function parse(uri: string): URL | undefined {
  try {
    return new URL(uri);
  } catch {
    return undefined;
  }
}

export function isLoopbackHttp(url: URL): boolean {
  return url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname);
}

/** Returns a reason when the URI cannot be registered, or undefined when it can. */
export function redirectUriProblem(uri: string): string | undefined {
  if (uri.length > 2_000) return 'is longer than 2000 characters';
  const url = parse(uri);
  if (!url) return 'is not an absolute URI';
  // https://www.rfc-editor.org/rfc/rfc6749#section-3.1.2 — the redirection endpoint URI MUST NOT include a fragment.
  if (url.hash || uri.includes('#')) return 'must not contain a fragment';
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:') return isLoopbackHttp(url) ? undefined : 'must use https unless the host is loopback (127.0.0.1, [::1], localhost)';
  // https://www.rfc-editor.org/rfc/rfc8252#section-7.1 — private-use URI schemes use reverse-domain names; refuse dangerous schemes.
  if (['javascript:', 'data:', 'file:', 'vbscript:', 'blob:', 'about:'].includes(url.protocol)) return `uses the forbidden scheme ${url.protocol}`;
  if (!/^[a-z][a-z0-9+.-]*:$/.test(url.protocol)) return 'has an invalid scheme';
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

/** The host the consent page shows so the user can spot an impersonating client (MCP-AUTH-REQUIREMENTS E.23). */
export function redirectHost(uri: string): string {
  const url = parse(uri);
  if (!url) return uri;
  return url.host || `${url.protocol}//`;
}
