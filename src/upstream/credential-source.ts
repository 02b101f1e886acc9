/**
 * What keyhole injects upstream for a grant, per server: one interface, one shape. The forwarder asks
 * `getCredential(grant, force, refused)` on every forwarded request (force = the upstream answered 401 to the last
 * one, `refused` = the credential it refused) and sends the returned header.
 * - default: the grant's upstream OAuth access token (`Authorization: Bearer …`, ./token-manager.ts);
 * - `credential.type: "identity-jwt"`: a short-lived JWT keyhole signs (./identity-jwt.ts);
 * - `credential.type: "static"`: one API key from the vault (./static-credential.ts).
 */

/** One request header carrying the upstream credential. It replaces any client header of the same name. */
export interface UpstreamAuthHeader {
  header: string;
  value: string;
}

/**
 * The grant a request is made under: the one grant type of the upstream layer (token manager and every credential
 * source). `scopes` are the keyhole scopes of the presented access token, when the caller knows them.
 */
export interface CredentialGrant {
  id: string;
  server: string;
  clientId: string;
  subject: string;
  scopes?: readonly string[];
  /** The grant's person (issue 13), when known. */
  personId?: string | null;
}

export interface UpstreamCredentialSource {
  /**
   * @param force the upstream refused the previous credential (401): do not hand out the same cached one.
   * @param refused with force, the credential the upstream refused. A source that has replaced it since (another
   *   request renewed it meanwhile) hands out the replacement instead of renewing again.
   * @throws GrantEndedError when the client must re-authorize; UpstreamUnavailableError when it may retry later.
   */
  getCredential(grant: CredentialGrant, force: boolean, refused?: UpstreamAuthHeader): Promise<UpstreamAuthHeader>;
}

/** `Authorization: Bearer <token>` (RFC 6750 §2.1). @see https://www.rfc-editor.org/rfc/rfc6750#section-2.1 */
export function bearerHeader(token: string): UpstreamAuthHeader {
  return { header: 'Authorization', value: `Bearer ${token}` };
}
