/**
 * Authorization server metadata of an upstream: RFC 8414 first, then OpenID Connect Discovery. One rule for every
 * caller, the one MCP clients follow (docs/client-requirements.md B.6): a 4xx moves on to the next location, a 5xx
 * aborts discovery.
 * @see https://www.rfc-editor.org/rfc/rfc8414#section-3.1
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#authorization-server-discovery
 */
import * as oauth from 'oauth4webapi';
import { UpstreamUnavailableError } from './errors.js';

/** A discovery location answered 5xx: discovery stops there (no fallback to the next location). */
export class AuthorizationServerMetadataError extends UpstreamUnavailableError {
  constructor(readonly status: number) {
    super('server');
    this.name = 'AuthorizationServerMetadataError';
  }
}

/**
 * Fetches and validates the metadata of `issuer` (its `issuer` must be exactly the one asked about, RFC 8414 §3.3).
 * Throws AuthorizationServerMetadataError on a 5xx, and oauth4webapi's errors (network, timeout, invalid document).
 */
export async function discoverAuthorizationServer(issuer: URL, options: oauth.DiscoveryRequestOptions = {}): Promise<oauth.AuthorizationServer> {
  let res = await oauth.discoveryRequest(issuer, { ...options, algorithm: 'oauth2' });
  if (res.status >= 400 && res.status < 500) {
    await res.body?.cancel().catch(() => undefined);
    res = await oauth.discoveryRequest(issuer, { ...options, algorithm: 'oidc' });
  }
  if (res.status >= 500) {
    await res.body?.cancel().catch(() => undefined);
    throw new AuthorizationServerMetadataError(res.status);
  }
  return oauth.processDiscoveryResponse(issuer, res);
}
