/**
 * What keyhole injects upstream for a grant, per server. The forwarder asks `getCredential(grant, force)` on every
 * forwarded request (force = the upstream answered 401 to the last one) and sends the returned header.
 * - default: the grant's upstream OAuth access token (`Authorization: Bearer …`, the token manager);
 * - `credential.type: "identity-jwt"`: a short-lived JWT keyhole signs (./identity-jwt.ts);
 * - `credential.type: "static"`: one API key from the vault (./static-credential.ts).
 */
import type { UpstreamTokenManager } from './token-manager.js';

/** One request header carrying the upstream credential. */
export interface UpstreamAuthHeader {
  header: string;
  value: string;
}

/** The grant a request is made under. `scopes` are the keyhole scopes of the presented access token. */
export interface CredentialGrant {
  id: string;
  server: string;
  clientId: string;
  subject: string;
  scopes?: readonly string[];
}

export interface UpstreamCredentialSource {
  /**
   * @param force the upstream refused the previous credential (401): do not hand out the same cached one.
   * @throws GrantEndedError when the client must re-authorize; UpstreamUnavailableError when it may retry later.
   */
  getCredential(grant: CredentialGrant, force: boolean): Promise<UpstreamAuthHeader>;
}

/** The default: the upstream OAuth access token of the grant. */
export function tokenManagerSource(tokenManager: Pick<UpstreamTokenManager, 'getAccessToken'>): UpstreamCredentialSource {
  return {
    async getCredential(grant, force) {
      return { header: 'Authorization', value: `Bearer ${await tokenManager.getAccessToken(grant, force)}` };
    },
  };
}
