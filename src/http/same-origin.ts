/**
 * Fetch-metadata and Origin checks for state-changing browser forms (consent, admin).
 * @see https://fetch.spec.whatwg.org/#origin-header
 * @see https://www.w3.org/TR/fetch-metadata/#sec-fetch-site-header
 * @see https://cheatsheetseries.owasp.org/cheatsheets/Cross-Site_Request_Forgery_Prevention_Cheat_Sheet.html
 */

export interface OriginHeaders {
  origin?: string | undefined;
  fetchSite?: string | undefined;
}

/**
 * True unless the browser says the request comes from elsewhere: `Sec-Fetch-Site` (when sent) must be `same-origin`
 * (or `none`: typed by the user), and `Origin` (when sent) must be `publicOrigin`. `Origin: null` is refused unless
 * `allowNullOrigin` (pages served with `Referrer-Policy: no-referrer` make browsers send `null` for their own POSTs).
 */
export function isSameOriginRequest(headers: OriginHeaders, publicOrigin: string, opts: { allowNullOrigin?: boolean } = {}): boolean {
  if (headers.fetchSite !== undefined && headers.fetchSite !== 'same-origin' && headers.fetchSite !== 'none') return false;
  if (headers.origin === undefined) return true;
  if (headers.origin === 'null') return opts.allowNullOrigin === true;
  return headers.origin === publicOrigin;
}
