/**
 * The SDK's OAuthClientProvider for `keyhole connect`: discovery, registration (CIMD or DCR), PKCE, the token
 * request and refresh are the SDK's own code (`@modelcontextprotocol/sdk/client/auth.js`); this class only keeps
 * what the SDK hands over and starts the browser step.
 *
 * - Client registration and tokens go to the CredentialStore (keychain or file), stored as the SDK gave them.
 * - `state` and the PKCE verifier stay in memory, one pair per authorization request: when two requests hit a 401
 *   at once the SDK starts two authorization requests, and whichever the user completes is redeemed with its own
 *   verifier. Only the first opens a browser.
 * - Discovery results are cached for this process only (a restart re-discovers).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { OAuthClientProvider, OAuthDiscoveryState } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import type { ConnectCredentials, CredentialStore } from './credential-store.js';

export interface ProviderOptions {
  serverUrl: string;
  store: CredentialStore;
  credentials: ConnectCredentials;
  redirectUrl: string;
  clientMetadataUrl?: string | undefined;
  softwareVersion: string;
  /** Called for the first authorization URL of a sign-in (print it, open the browser). */
  onAuthorizationUrl(url: URL): void;
  log(line: string): void;
}

export class ConnectOAuthProvider implements OAuthClientProvider {
  readonly clientMetadataUrl: string | undefined;
  readonly #opts: ProviderOptions;
  readonly #credentials: ConnectCredentials;
  /** state → PKCE verifier of every authorization request of the sign-in in progress. */
  readonly #pending = new Map<string, string>();
  /** Verifiers saved but not yet matched to an authorization URL (concurrent auth() calls interleave). */
  readonly #unpaired = new Set<string>();
  #redeeming: string | undefined;
  #discovery: OAuthDiscoveryState | undefined;
  #writes: Promise<void> = Promise.resolve();

  constructor(opts: ProviderOptions) {
    this.#opts = opts;
    this.#credentials = { ...opts.credentials };
    this.clientMetadataUrl = opts.clientMetadataUrl;
  }

  get redirectUrl(): string {
    return this.#opts.redirectUrl;
  }

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: 'keyhole connect',
      redirect_uris: [this.#opts.redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none', // a public native client (RFC 8252 §8.4)
      software_id: 'mcp-keyhole-connect',
      software_version: this.#opts.softwareVersion,
    };
  }

  state(): string {
    return randomBytes(24).toString('base64url');
  }

  clientInformation(): OAuthClientInformationMixed | undefined {
    return this.#credentials.client;
  }

  saveClientInformation(info: OAuthClientInformationMixed): Promise<void> {
    this.#credentials.client = info;
    return this.#persist();
  }

  tokens(): OAuthTokens | undefined {
    return this.#credentials.tokens;
  }

  saveTokens(tokens: OAuthTokens): Promise<void> {
    this.#credentials.tokens = tokens;
    return this.#persist();
  }

  saveCodeVerifier(verifier: string): void {
    this.#unpaired.add(verifier);
  }

  codeVerifier(): string {
    const verifier = this.#redeeming ? this.#pending.get(this.#redeeming) : undefined;
    if (!verifier) throw new Error('no PKCE verifier for this authorization response');
    return verifier;
  }

  redirectToAuthorization(url: URL): void {
    // Pair the URL's state with the verifier whose S256 challenge it carries (RFC 7636 §4.2).
    const state = url.searchParams.get('state');
    const challenge = url.searchParams.get('code_challenge');
    const verifier = [...this.#unpaired].find((v) => createHash('sha256').update(v).digest('base64url') === challenge);
    if (!state || !verifier) throw new Error('the authorization URL lacks state or a PKCE challenge this client made');
    this.#unpaired.delete(verifier);
    const first = this.#pending.size === 0;
    this.#pending.set(state, verifier);
    if (first) this.#opts.onAuthorizationUrl(url);
    else this.#opts.log('another request needs authorization too; finish the sign-in already opened');
  }

  /** Whether `state` belongs to an authorization request of the sign-in in progress. */
  isPendingState(state: string): boolean {
    return this.#pending.has(state);
  }

  /** Selects the verifier for the response being redeemed (then `transport.finishAuth(code)`). */
  redeem(state: string): void {
    this.#redeeming = state;
  }

  /** Forgets every state and verifier of the finished (or abandoned) sign-in. */
  endSignIn(): void {
    this.#pending.clear();
    this.#redeeming = undefined;
  }

  /** The issuer an authorization response must name, when the server announced RFC 9207 support. */
  expectedIssuer(): string | undefined {
    // The SDK's metadata schemas are loose objects: RFC 9207's flag survives parsing, untyped.
    const metadata = this.#discovery?.authorizationServerMetadata as ({ issuer: string } & Record<string, unknown>) | undefined;
    return metadata?.authorization_response_iss_parameter_supported === true ? metadata.issuer : undefined;
  }

  saveDiscoveryState(state: OAuthDiscoveryState): void {
    this.#discovery = state;
  }

  discoveryState(): OAuthDiscoveryState | undefined {
    return this.#discovery;
  }

  invalidateCredentials(scope: 'all' | 'client' | 'tokens' | 'verifier' | 'discovery'): Promise<void> | void {
    if (scope === 'verifier') return this.endSignIn();
    if (scope === 'discovery') {
      this.#discovery = undefined;
      return;
    }
    if (scope === 'all' || scope === 'client') delete this.#credentials.client;
    if (scope === 'all' || scope === 'tokens') delete this.#credentials.tokens;
    if (scope === 'all') this.#discovery = undefined;
    this.#opts.log(scope === 'tokens' ? 'the server refused the stored tokens; a new sign-in is needed' : `dropping the stored ${scope === 'all' ? 'registration and tokens' : 'registration'}`);
    return this.#persist();
  }

  /** Writes one after the other, each with the latest state (never an older snapshot after a newer one). */
  #persist(): Promise<void> {
    const snapshot = { ...this.#credentials };
    const write = this.#writes.then(async () => {
      if (!snapshot.client && !snapshot.tokens) await this.#opts.store.remove(this.#opts.serverUrl);
      else await this.#opts.store.save(this.#opts.serverUrl, snapshot);
    });
    this.#writes = write.catch(() => undefined);
    return write;
  }
}
