/**
 * keyhole as ONE confidential OAuth client of each upstream authorization server, through oauth4webapi.
 * Discovery (RFC 8414, then OpenID) or explicit endpoints; authorization code + PKCE S256 + state;
 * refresh; RFC 7009 revocation. Never logs or returns token values in errors.
 * @see https://www.rfc-editor.org/rfc/rfc6749
 * @see https://www.rfc-editor.org/rfc/rfc7009
 */
import * as oauth from 'oauth4webapi';
import type { UpstreamOAuthConfig } from '../config/schema.js';
import { isLoopbackHttp } from '../oauth/redirect-uri.js';
import { UpstreamGrantError, UpstreamUnavailableError } from './errors.js';
import { discoverAuthorizationServer } from './as-metadata-discovery.js';
import { forgetOnRejection } from './forget-on-rejection.js';

export interface UpstreamTokens {
  accessToken: string;
  refreshToken: string | undefined;
  /** Seconds until the access token expires, when the upstream said. */
  expiresIn: number | undefined;
  scopes: string[] | undefined;
}

export interface UpstreamAuthorization extends UpstreamTokens {
  subject: string;
  subjectName: string | null;
}

/** keyhole's own client credentials at the upstream authorization server. */
export interface UpstreamClientCredentials {
  clientId: string;
  clientSecret?: string | undefined;
  tokenEndpointAuthMethod: 'client_secret_basic' | 'client_secret_post' | 'none';
}

/**
 * Where a client takes its authorization server and its own credentials when they are not in the config: an
 * upstream that implements MCP authorization (src/upstream/auto-registration.ts). `discover` is cheap after the
 * first call and registers nothing; `credentials` may register keyhole (once, persisted).
 */
export interface UpstreamClientSource {
  /** `scopes`: the upstream's `scopes_supported` (PRM), asked for when the config names no upstream scopes. */
  discover(): Promise<{ as: oauth.AuthorizationServer; resource: string | undefined; scopes?: string[] | undefined; allowInsecure: boolean }>;
  credentials(): Promise<UpstreamClientCredentials>;
  /** The token endpoint answered invalid_client (e.g. the registration was deleted upstream): register again next time. */
  invalidate?(): void;
}

/** keyhole's timeout of a request to an upstream authorization server (and how long a caller waits for a refresh). */
export const UPSTREAM_REQUEST_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = UPSTREAM_REQUEST_TIMEOUT_MS;
/**
 * The refresh exchange alone runs longer: aborting it when the caller stops waiting would abandon a rotation the
 * upstream may already have committed (its answer holds the only valid refresh token: RFC 6749 §6, RFC 9700
 * §4.14.2). The token manager lets callers go after UPSTREAM_REQUEST_TIMEOUT_MS and persists a late answer.
 */
export const REFRESH_EXCHANGE_TIMEOUT_MS = 120_000;

/** Map oauth4webapi / network failures to keyhole's two kinds: the grant is gone, or try again later. */
export function classifyUpstreamError(err: unknown): Error {
  if (err instanceof oauth.ResponseBodyError) {
    // Only these end a grant: https://www.rfc-editor.org/rfc/rfc6749#section-5.2
    if (err.error === 'invalid_grant' || err.error === 'invalid_client' || err.error === 'unauthorized_client') return new UpstreamGrantError(err.error);
    return new UpstreamUnavailableError(err.status >= 500 ? 'server' : 'protocol');
  }
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return new UpstreamUnavailableError('timeout');
  if (err instanceof oauth.OperationProcessingError || err instanceof oauth.WWWAuthenticateChallengeError) return new UpstreamUnavailableError('protocol');
  return new UpstreamUnavailableError('network');
}

function clientOf(c: UpstreamClientCredentials): { client: oauth.Client; clientAuth: oauth.ClientAuth } {
  const clientAuth =
    c.tokenEndpointAuthMethod === 'none' || !c.clientSecret
      ? oauth.None()
      : c.tokenEndpointAuthMethod === 'client_secret_post'
        ? oauth.ClientSecretPost(c.clientSecret)
        : oauth.ClientSecretBasic(c.clientSecret);
  return { client: { client_id: c.clientId }, clientAuth };
}

export class UpstreamOAuthClient {
  private asPromise: Promise<oauth.AuthorizationServer> | undefined;
  private readonly configured: { client: oauth.Client; clientAuth: oauth.ClientAuth } | undefined;
  private insecure: boolean;
  /** RFC 8707 resource sent upstream (from the config, or from the upstream's protected resource metadata). */
  private resource: string | undefined;
  /** Upstream scopes to ask for when none are configured (discovery "mcp": the PRM's scopes_supported). */
  private defaultScopes: string[] = [];

  /**
   * @param source where the AS and the client credentials come from when the config does not name them (discovery "mcp").
   * @param onDiscoveryFailure told each failed discovery (the operator's warn line), with the cause: the
   *   {@link UpstreamUnavailableError} kind or the error's name. Never throws into discovery.
   */
  constructor(
    readonly server: string,
    private readonly cfg: UpstreamOAuthConfig,
    readonly redirectUri: string,
    private readonly source?: UpstreamClientSource,
    private readonly onDiscoveryFailure?: (cause: string) => void,
  ) {
    if (!source && !cfg.clientId) throw new TypeError(`server ${server}: oauth.clientId is required without discovery "mcp"`);
    this.resource = cfg.resource;
    this.configured = cfg.clientId ? clientOf({ clientId: cfg.clientId, clientSecret: cfg.clientSecret, tokenEndpointAuthMethod: cfg.tokenEndpointAuthMethod }) : undefined;
    // Plain http is allowed only towards loopback upstreams (the demo and the tests); anything else must be https.
    const urls = [cfg.issuer, cfg.authorizationEndpoint, cfg.tokenEndpoint].filter((u): u is string => !!u);
    this.insecure = !source && urls.every((u) => isLoopbackHttp(new URL(u)));
  }

  /** keyhole's client id and authentication at the upstream: from the config, or registered through the source. */
  private async clientAuth(): Promise<{ client: oauth.Client; clientAuth: oauth.ClientAuth }> {
    if (this.configured) return this.configured;
    try {
      return clientOf(await this.source!.credentials());
    } catch (e) {
      throw e instanceof UpstreamUnavailableError || e instanceof UpstreamGrantError ? e : classifyUpstreamError(e);
    }
  }

  private options(timeoutMs = REQUEST_TIMEOUT_MS): { signal: () => AbortSignal; [oauth.allowInsecureRequests]?: boolean } {
    return { signal: () => AbortSignal.timeout(timeoutMs), ...(this.insecure ? { [oauth.allowInsecureRequests]: true } : {}) };
  }

  /** Discovered (or explicitly configured) authorization server metadata, fetched once and cached. */
  metadata(): Promise<oauth.AuthorizationServer> {
    this.asPromise ??= forgetOnRejection(this.resolveMetadata().catch((e: unknown) => {
      try { this.onDiscoveryFailure?.(e instanceof UpstreamUnavailableError ? e.kind : e instanceof Error ? e.name : 'Error'); } catch { /* observers never break discovery */ }
      throw e;
    }), () => (this.asPromise = undefined)); // retry discovery next time
    return this.asPromise;
  }

  private async resolveMetadata(): Promise<oauth.AuthorizationServer> {
    const { cfg } = this;
    if (this.source) {
      let found: Awaited<ReturnType<UpstreamClientSource['discover']>>;
      try {
        found = await this.source.discover();
      } catch (e) {
        throw e instanceof UpstreamUnavailableError ? e : classifyUpstreamError(e);
      }
      this.insecure = found.allowInsecure;
      this.resource = cfg.resource ?? found.resource;
      this.defaultScopes = found.scopes ?? [];
      return found.as;
    }
    let as: oauth.AuthorizationServer | undefined;
    if (cfg.issuer) {
      const issuer = new URL(cfg.issuer);
      try {
        // RFC 8414 first, then OpenID Connect Discovery (a 4xx moves on, a 5xx aborts).
        as = await discoverAuthorizationServer(issuer, this.options());
      } catch (e) {
        throw e instanceof UpstreamUnavailableError ? e : classifyUpstreamError(e);
      }
    }
    return {
      ...(as ?? { issuer: cfg.authorizationEndpoint ? new URL(cfg.authorizationEndpoint).origin : 'urn:unknown' }),
      ...(cfg.authorizationEndpoint ? { authorization_endpoint: cfg.authorizationEndpoint } : {}),
      ...(cfg.tokenEndpoint ? { token_endpoint: cfg.tokenEndpoint } : {}),
      ...(cfg.revocationEndpoint ? { revocation_endpoint: cfg.revocationEndpoint } : {}),
      ...(cfg.userinfoEndpoint ? { userinfo_endpoint: cfg.userinfoEndpoint } : {}),
    } as oauth.AuthorizationServer;
  }

  async authorizationUrl(p: { state: string; codeChallenge: string; scopes: string[] }): Promise<URL> {
    const as = await this.metadata();
    if (!as.authorization_endpoint) throw new UpstreamUnavailableError('protocol');
    const { client } = await this.clientAuth();
    const url = new URL(as.authorization_endpoint);
    const q = url.searchParams;
    q.set('response_type', 'code');
    q.set('client_id', client.client_id);
    q.set('redirect_uri', this.redirectUri);
    const scopes = p.scopes.length ? p.scopes : this.defaultScopes;
    if (scopes.length) q.set('scope', scopes.join(' '));
    q.set('state', p.state);
    // PKCE S256 towards the upstream too (docs/invariants.md #4). https://www.rfc-editor.org/rfc/rfc7636#section-4.3
    q.set('code_challenge', p.codeChallenge);
    q.set('code_challenge_method', 'S256');
    if (this.resource) q.set('resource', this.resource);
    for (const [k, v] of Object.entries(this.cfg.extraAuthorizationParams)) q.set(k, v);
    return url;
  }

  /** Validate the callback (state, iss, error) and exchange the code. Throws AuthorizationResponseError for upstream `error=`. */
  async exchangeCode(callback: URL, expectedState: string, verifier: string): Promise<UpstreamAuthorization> {
    const as = await this.metadata();
    const { client, clientAuth } = await this.clientAuth();
    // Validates state and, when the upstream advertises RFC 9207, `iss`. Throws AuthorizationResponseError on `error=`.
    const params = oauth.validateAuthResponse(as, client, callback, expectedState);
    let result: oauth.TokenEndpointResponse;
    try {
      const res = await oauth.authorizationCodeGrantRequest(as, client, clientAuth, params, this.redirectUri, verifier, {
        ...this.options(),
        ...(this.resource ? { additionalParameters: { resource: this.resource } } : {}),
      });
      result = await oauth.processAuthorizationCodeResponse(as, client, res);
    } catch (e) {
      throw this.tokenEndpointError(e);
    }
    const tokens = this.toTokens(result);
    const { subject, subjectName } = await this.identify(as, result, tokens.accessToken);
    return { ...tokens, subject, subjectName };
  }

  /** RFC 6749 §6. The exchange may take up to `timeoutMs` (default REFRESH_EXCHANGE_TIMEOUT_MS, see there). */
  async refresh(refreshToken: string, timeoutMs = REFRESH_EXCHANGE_TIMEOUT_MS): Promise<UpstreamTokens> {
    const as = await this.metadata();
    const { client, clientAuth } = await this.clientAuth();
    try {
      const res = await oauth.refreshTokenGrantRequest(as, client, clientAuth, refreshToken, {
        ...this.options(timeoutMs),
        ...(this.resource ? { additionalParameters: { resource: this.resource } } : {}),
      });
      return this.toTokens(await oauth.processRefreshTokenResponse(as, client, res));
    } catch (e) {
      throw this.tokenEndpointError(e);
    }
  }

  /** classifyUpstreamError, and a registered client the AS no longer knows is dropped so the next sign-in registers anew. */
  private tokenEndpointError(e: unknown): Error {
    const err = classifyUpstreamError(e);
    if (err instanceof UpstreamGrantError && err.oauthError === 'invalid_client' && !this.configured) this.source?.invalidate?.();
    return err;
  }

  /** RFC 7009 revocation, when the upstream has an endpoint. Returns 'unsupported' when it has none. */
  async revoke(token: string, hint: 'refresh_token' | 'access_token'): Promise<'revoked' | 'unsupported'> {
    const as = await this.metadata();
    if (!as.revocation_endpoint) return 'unsupported';
    const { client, clientAuth } = await this.clientAuth();
    try {
      const res = await oauth.revocationRequest(as, client, clientAuth, token, { ...this.options(), additionalParameters: { token_type_hint: hint } });
      await oauth.processRevocationResponse(res);
      return 'revoked';
    } catch (e) {
      throw classifyUpstreamError(e);
    }
  }

  private toTokens(r: oauth.TokenEndpointResponse): UpstreamTokens {
    return {
      accessToken: r.access_token,
      refreshToken: r.refresh_token,
      expiresIn: typeof r.expires_in === 'number' ? r.expires_in : undefined,
      scopes: typeof r.scope === 'string' ? r.scope.split(' ').filter(Boolean) : undefined,
    };
  }

  /** The upstream account: the id_token's claims when there is one, else the userinfo endpoint. */
  private async identify(as: oauth.AuthorizationServer, result: oauth.TokenEndpointResponse, accessToken: string): Promise<{ subject: string; subjectName: string | null }> {
    const { subjectClaim, nameClaim } = this.cfg;
    let claims: Record<string, unknown> | undefined = oauth.getValidatedIdTokenClaims(result) as Record<string, unknown> | undefined;
    if ((!claims || claims[subjectClaim] === undefined) && as.userinfo_endpoint) {
      // A plain JSON GET rather than oauth4webapi's userinfo processing: non-OIDC APIs (GitHub's /user) have no `sub`.
      try {
        const res = await fetch(as.userinfo_endpoint, {
          headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' },
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
        if (!res.ok) throw new UpstreamUnavailableError(res.status >= 500 ? 'server' : 'protocol');
        claims = (await res.json()) as Record<string, unknown>;
      } catch (e) {
        throw e instanceof UpstreamUnavailableError ? e : classifyUpstreamError(e);
      }
    }
    const subject = claims?.[subjectClaim];
    if (typeof subject !== 'string' && typeof subject !== 'number') throw new UpstreamUnavailableError('protocol');
    const name = claims?.[nameClaim];
    return { subject: String(subject), subjectName: typeof name === 'string' ? name : null };
  }
}
