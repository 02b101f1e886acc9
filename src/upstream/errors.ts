/**
 * Upstream failure kinds. Only `invalid_grant` / `invalid_client` end a grant; everything else is transient
 * (oauth2-proxy `isFatalRefreshError`).
 */
export class UpstreamGrantError extends Error {
  constructor(readonly oauthError: string) {
    super(`upstream refused the grant (${oauthError})`);
    this.name = 'UpstreamGrantError';
  }
}
export class UpstreamUnavailableError extends Error {
  constructor(readonly kind: 'network' | 'timeout' | 'protocol' | 'server') {
    super(`upstream authorization server ${kind === 'timeout' ? 'timed out' : 'failed'} (${kind})`);
    this.name = 'UpstreamUnavailableError';
  }
}
/** The grant cannot produce an upstream credential any more: the client must re-authorize. */
export class GrantEndedError extends Error {
  constructor(readonly grantId: string, readonly reason: string) {
    super(`grant ${grantId} ended (${reason})`);
    this.name = 'GrantEndedError';
  }
}
