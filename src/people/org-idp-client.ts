/**
 * keyhole as an OpenID Connect relying party of the organization's IdP (issue 13 §1), through oauth4webapi:
 * discovery, the authorization code flow with PKCE S256, `state` and `nonce`, ID token validation, userinfo, and the
 * refresh_token grant (re-checking a person at the IdP). Redirect URI `<publicUrl>/identity/callback`.
 *
 * The ID token comes straight from the token endpoint over TLS, so its signature check may be replaced by the TLS
 * server check (OIDC Core §3.1.3.7 item 6); oauth4webapi validates `iss`, `aud`, `azp`, `exp`, `iat` and `nonce`.
 * Never logs or returns token values in errors.
 * @see https://openid.net/specs/openid-connect-core-1_0.html#CodeFlowAuth
 * @see https://openid.net/specs/openid-connect-core-1_0.html#IDTokenValidation
 * @see https://www.rfc-editor.org/rfc/rfc7636#section-4.3 (PKCE S256)
 * @see https://www.rfc-editor.org/rfc/rfc9207 (`iss` in the authorization response, checked when advertised)
 */
import * as oauth from 'oauth4webapi';
import type { IdentityConfig } from '../config/identity-schema.js';
import type { SignInClaims } from '../store/types.js';
import { isLoopbackHttp } from '../oauth/redirect-uri.js';

const REQUEST_TIMEOUT_MS = 10_000;

/** The IdP said no: the person cancelled or was refused at the IdP (`error=`), or a refresh answered invalid_grant… */
export class OrgIdpRefusedError extends Error {
  override name = 'OrgIdpRefusedError';
  constructor(readonly reason: string) {
    super(`the organization's IdP refused: ${reason}`);
  }
}

/** keyhole refused the IdP's answer: wrong state, issuer, nonce, an invalid ID token, a missing claim. */
export class OrgSignInInvalidError extends Error {
  override name = 'OrgSignInInvalidError';
  constructor(readonly reason: string) {
    super(`the sign-in response was not valid: ${reason}`);
  }
}

/** The IdP could not be reached or answered with a server error. */
export class OrgIdpUnavailableError extends Error {
  override name = 'OrgIdpUnavailableError';
  constructor(readonly kind: 'network' | 'timeout' | 'server' | 'protocol') {
    super(`the organization's IdP is unavailable (${kind})`);
  }
}

/** What /identity/login keeps (sealed, in a cookie) until /identity/callback; `url` is where the browser goes. */
export interface OrgSignInRequest {
  url: URL;
  state: string;
  nonce: string;
  codeVerifier: string;
}

export interface OrgIdpTokens {
  idToken: string | undefined;
  accessToken: string;
  refreshToken: string | undefined;
  expiresIn: number | undefined;
}

export interface OrgSignIn {
  claims: SignInClaims;
  tokens: OrgIdpTokens;
}

/** The groups claim as a list: an array of strings, or one string; anything else is no groups. */
export function groupsOf(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((g): g is string => typeof g === 'string') : [];
}

function stringClaim(claims: Record<string, unknown>, name: string): string | null {
  const v = claims[name];
  return typeof v === 'string' && v !== '' ? v : null;
}

export class OrgIdpClient {
  #as: Promise<oauth.AuthorizationServer> | undefined;
  readonly #client: oauth.Client;
  readonly #auth: oauth.ClientAuth;
  readonly #insecure: boolean;

  constructor(private readonly cfg: Pick<IdentityConfig, 'issuer' | 'clientId' | 'clientSecret' | 'scopes' | 'groupsClaim'>, readonly redirectUri: string) {
    this.#client = { client_id: cfg.clientId };
    this.#auth = oauth.ClientSecretBasic(cfg.clientSecret);
    // Plain http only towards a loopback IdP (tests, a local Keycloak); anything else must be https.
    this.#insecure = isLoopbackHttp(new URL(cfg.issuer));
  }

  #options(): { signal: () => AbortSignal; [oauth.allowInsecureRequests]?: boolean } {
    return { signal: () => AbortSignal.timeout(REQUEST_TIMEOUT_MS), ...(this.#insecure ? { [oauth.allowInsecureRequests]: true } : {}) };
  }

  /** OpenID Provider metadata from `<issuer>/.well-known/openid-configuration`, fetched once (again after a failure). */
  metadata(): Promise<oauth.AuthorizationServer> {
    this.#as ??= (async () => {
      const issuer = new URL(this.cfg.issuer);
      try {
        const res = await oauth.discoveryRequest(issuer, { ...this.#options(), algorithm: 'oidc' });
        return await oauth.processDiscoveryResponse(issuer, res);
      } catch (e) {
        throw unavailable(e);
      }
    })();
    this.#as.catch(() => (this.#as = undefined));
    return this.#as;
  }

  /** A fresh authorization request: random state, nonce and PKCE verifier, and the URL to send the browser to. */
  async authorizationRequest(opts: { prompt?: string } = {}): Promise<OrgSignInRequest> {
    const as = await this.metadata();
    if (!as.authorization_endpoint) throw new OrgIdpUnavailableError('protocol');
    const state = oauth.generateRandomState();
    const nonce = oauth.generateRandomNonce();
    const codeVerifier = oauth.generateRandomCodeVerifier();
    const url = new URL(as.authorization_endpoint);
    const q = url.searchParams;
    q.set('response_type', 'code');
    q.set('client_id', this.cfg.clientId);
    q.set('redirect_uri', this.redirectUri);
    q.set('scope', this.cfg.scopes.join(' '));
    q.set('state', state);
    q.set('nonce', nonce);
    q.set('code_challenge', await oauth.calculatePKCECodeChallenge(codeVerifier));
    q.set('code_challenge_method', 'S256');
    if (opts.prompt) q.set('prompt', opts.prompt);
    return { url, state, nonce, codeVerifier };
  }

  /**
   * Checks the callback (`state`, `iss` when advertised, `error=`), exchanges the code with the verifier, validates the
   * ID token (with `nonce`) and reads the person's claims (userinfo fills email, name and groups the ID token lacks).
   */
  async exchangeCode(callback: URL, expected: { state: string; nonce: string; codeVerifier: string }): Promise<OrgSignIn> {
    const as = await this.metadata();
    let params: URLSearchParams;
    try {
      params = oauth.validateAuthResponse(as, this.#client, callback, expected.state);
    } catch (e) {
      if (e instanceof oauth.AuthorizationResponseError) throw new OrgIdpRefusedError(e.error);
      throw new OrgSignInInvalidError(e instanceof oauth.OperationProcessingError ? (e.code ?? 'response') : 'response');
    }
    let result: oauth.TokenEndpointResponse;
    try {
      const res = await oauth.authorizationCodeGrantRequest(as, this.#client, this.#auth, params, this.redirectUri, expected.codeVerifier, this.#options());
      result = await oauth.processAuthorizationCodeResponse(as, this.#client, res, { expectedNonce: expected.nonce, requireIdToken: true });
    } catch (e) {
      throw tokenEndpointError(e);
    }
    const idClaims = oauth.getValidatedIdTokenClaims(result) as Record<string, unknown> | undefined;
    if (!idClaims) throw new OrgSignInInvalidError('id_token');
    const tokens = tokensOf(result);
    return { claims: await this.#claims(as, idClaims, tokens.accessToken), tokens };
  }

  /**
   * The refresh_token grant, to re-check a person at the IdP (issue 13 §3). invalid_grant (the IdP ended the
   * person's session or disabled them) → OrgIdpRefusedError. The claims are the refreshed ID token's (with
   * userinfo), or userinfo's when no ID token came back; `expectedSub` must match.
   */
  async refresh(refreshToken: string, expectedSub: string): Promise<OrgSignIn> {
    const as = await this.metadata();
    let result: oauth.TokenEndpointResponse;
    try {
      const res = await oauth.refreshTokenGrantRequest(as, this.#client, this.#auth, refreshToken, this.#options());
      result = await oauth.processRefreshTokenResponse(as, this.#client, res);
    } catch (e) {
      throw tokenEndpointError(e);
    }
    const tokens = tokensOf(result);
    const idClaims = (oauth.getValidatedIdTokenClaims(result) as Record<string, unknown> | undefined) ?? { sub: expectedSub };
    if (idClaims.sub !== expectedSub) throw new OrgSignInInvalidError('sub');
    return { claims: await this.#claims(as, idClaims, tokens.accessToken), tokens };
  }

  /** The userinfo claims for an IdP access token (`sub` must be `expectedSub`); 401 → OrgIdpRefusedError. */
  async userinfo(accessToken: string, expectedSub: string): Promise<Record<string, unknown>> {
    const as = await this.metadata();
    if (!as.userinfo_endpoint) throw new OrgIdpUnavailableError('protocol');
    try {
      const res = await oauth.userInfoRequest(as, this.#client, accessToken, this.#options());
      return (await oauth.processUserInfoResponse(as, this.#client, expectedSub, res)) as Record<string, unknown>;
    } catch (e) {
      if (e instanceof oauth.WWWAuthenticateChallengeError || (e instanceof oauth.ResponseBodyError && e.status === 401)) throw new OrgIdpRefusedError('invalid_token');
      if (e instanceof oauth.OperationProcessingError && e.code === oauth.JSON_ATTRIBUTE_COMPARISON) throw new OrgSignInInvalidError('sub');
      throw unavailable(e);
    }
  }

  /** iss + sub from the ID token; email, name, groups from it, completed by userinfo when one of them is missing. */
  async #claims(as: oauth.AuthorizationServer, idClaims: Record<string, unknown>, accessToken: string): Promise<SignInClaims> {
    const sub = idClaims.sub;
    if (typeof sub !== 'string' || !sub) throw new OrgSignInInvalidError('sub');
    let claims = idClaims;
    const { groupsClaim } = this.cfg;
    const missing = stringClaim(claims, 'email') === null || stringClaim(claims, 'name') === null || claims[groupsClaim] === undefined;
    if (missing && as.userinfo_endpoint) claims = { ...(await this.userinfo(accessToken, sub)), ...idClaims };
    // Entra ID often sends no `email` but a UPN in preferred_username.
    const preferred = stringClaim(claims, 'preferred_username');
    return {
      iss: as.issuer,
      sub,
      email: stringClaim(claims, 'email') ?? (preferred?.includes('@') ? preferred : null),
      name: stringClaim(claims, 'name') ?? preferred,
      groups: groupsOf(claims[groupsClaim]),
    };
  }
}

function tokensOf(r: oauth.TokenEndpointResponse): OrgIdpTokens {
  return {
    idToken: r.id_token,
    accessToken: r.access_token,
    refreshToken: r.refresh_token,
    expiresIn: typeof r.expires_in === 'number' ? r.expires_in : undefined,
  };
}

function unavailable(e: unknown): Error {
  if (e instanceof OrgIdpUnavailableError || e instanceof OrgIdpRefusedError || e instanceof OrgSignInInvalidError) return e;
  if (e instanceof oauth.ResponseBodyError) return new OrgIdpUnavailableError(e.status >= 500 ? 'server' : 'protocol');
  if (e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError')) return new OrgIdpUnavailableError('timeout');
  if (e instanceof oauth.OperationProcessingError || e instanceof oauth.UnsupportedOperationError) return new OrgIdpUnavailableError('protocol');
  return new OrgIdpUnavailableError('network');
}

/** Token endpoint failures: invalid_grant & co. are the IdP saying no; a bad ID token is keyhole saying no. */
function tokenEndpointError(e: unknown): Error {
  // https://www.rfc-editor.org/rfc/rfc6749#section-5.2
  if (e instanceof oauth.ResponseBodyError && ['invalid_grant', 'unauthorized_client', 'access_denied'].includes(e.error)) return new OrgIdpRefusedError(e.error);
  if (e instanceof oauth.OperationProcessingError && e.code !== undefined && ID_TOKEN_CHECKS.has(e.code)) return new OrgSignInInvalidError(e.code);
  return unavailable(e);
}

/** oauth4webapi codes of failed ID token / response checks (nonce, claims, audience…): the answer is not acceptable. */
const ID_TOKEN_CHECKS = new Set<string>([
  oauth.JWT_CLAIM_COMPARISON, oauth.JSON_ATTRIBUTE_COMPARISON, oauth.MISSING_SERVER_METADATA, oauth.INVALID_RESPONSE,
  oauth.JWT_TIMESTAMP_CHECK, oauth.RESPONSE_IS_NOT_CONFORM,
]);
