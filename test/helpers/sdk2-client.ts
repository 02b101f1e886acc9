/**
 * The real SDK 2.x client (`@modelcontextprotocol/client`) against keyhole: its own OAuth code (PRM and AS
 * discovery, DCR, PKCE, RFC 9207 `iss` check, token, refresh, SEP-2350 step-up) with a provider that captures the
 * authorization URL instead of opening a browser. The consent and the upstream login are driven over HTTP with
 * CookieBrowser (driveConsent). `versionNegotiation: 'auto'` probes `server/discover` first, so against a 2.x
 * upstream it speaks 2026-07-28 and against a 1.x upstream it falls back to 2025-11-25.
 */
import {
  Client,
  StreamableHTTPClientTransport,
  UnauthorizedError,
  type FetchLike,
  type OAuthClientMetadata,
  type OAuthClientProvider,
  type OAuthDiscoveryState,
  type StoredOAuthClientInformation,
  type StoredOAuthTokens,
} from '@modelcontextprotocol/client';
import { CookieBrowser } from './cookie-browser.js';
import { driveConsent, type ConsentResult } from './sdk-client.js';

export class Sdk2CapturingProvider implements OAuthClientProvider {
  authorizationUrl: URL | undefined;
  /** Every authorization URL the SDK asked to open, in order. */
  readonly authorizationUrls: URL[] = [];
  private info: StoredOAuthClientInformation | undefined;
  private saved: StoredOAuthTokens | undefined;
  private verifier = '';
  private discovery: OAuthDiscoveryState | undefined;
  /** Every token set the client saved, in order. */
  readonly tokenHistory: StoredOAuthTokens[] = [];
  /** Narrow the scope of the next authorization request (the SDK takes it from the challenge or the PRM). */
  scopeOverride: string | undefined;

  constructor(readonly redirectUrl = 'http://127.0.0.1:9/sdk2/callback', private readonly name = 'keyhole sdk2 client') {}

  get clientMetadata(): OAuthClientMetadata {
    return { client_name: this.name, redirect_uris: [this.redirectUrl], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none' };
  }
  clientInformation() { return this.info; }
  saveClientInformation(info: StoredOAuthClientInformation) { this.info = info; }
  tokens() { return this.saved; }
  saveTokens(tokens: StoredOAuthTokens) {
    this.saved = tokens;
    this.tokenHistory.push(tokens);
  }
  redirectToAuthorization(url: URL) {
    if (this.scopeOverride) url.searchParams.set('scope', this.scopeOverride);
    this.authorizationUrl = url;
    this.authorizationUrls.push(url);
  }
  saveDiscoveryState(state: OAuthDiscoveryState) { this.discovery = state; }
  discoveryState() { return this.discovery; }
  saveCodeVerifier(v: string) { this.verifier = v; }
  codeVerifier() { return this.verifier; }
  get clientId(): string {
    if (!this.info) throw new Error('not registered yet');
    return this.info.client_id;
  }
}

export interface Sdk2Connection {
  client: Client;
  transport: StreamableHTTPClientTransport;
  provider: Sdk2CapturingProvider;
}

export function newSdk2Client(): Client {
  return new Client({ name: 'keyhole-e2e-sdk2', version: '2.0.0' }, { versionNegotiation: { mode: 'auto' } });
}

/** A new transport + client with the provider's current tokens (connect = `server/discover` probe, or `initialize`). */
export async function connectSdk2(mcpUrl: string, provider: Sdk2CapturingProvider, opts: { fetch?: FetchLike } = {}): Promise<Sdk2Connection> {
  const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider, ...(opts.fetch ? { fetch: opts.fetch } : {}) });
  const client = newSdk2Client();
  await client.connect(transport);
  return { client, transport, provider };
}

/** Drive a captured authorization URL through keyhole's consent and the upstream login; returns the client redirect. */
export async function approve(provider: Sdk2CapturingProvider, opts: { login: string; browser?: CookieBrowser }): Promise<ConsentResult> {
  if (!provider.authorizationUrl) throw new Error('the SDK did not ask for authorization');
  const consent = await driveConsent(provider.authorizationUrl, { login: opts.login, redirectPrefix: provider.redirectUrl, browser: opts.browser ?? new CookieBrowser() });
  if (!consent.clientRedirect.searchParams.get('code')) throw new Error(`no code in client redirect: ${consent.clientRedirect.href}`);
  return consent;
}

/** A fetch for the SDK transport that records the grant_type of every request to `tokenEndpoint`. */
export function countingFetch(tokenEndpoint: string): { fetch: FetchLike; grantTypes: string[] } {
  const grantTypes: string[] = [];
  const counting: FetchLike = async (input, init) => {
    if (String(input instanceof Request ? input.url : input) === tokenEndpoint) grantTypes.push(new URLSearchParams(String(init?.body ?? '')).get('grant_type') ?? '');
    return fetch(input, init);
  };
  return { fetch: counting, grantTypes };
}

/**
 * First connection: 401 → PRM → AS metadata → DCR → authorization URL → consent → upstream login → code (+ iss,
 * checked by the SDK) → tokens → a fresh connection.
 */
export async function authorizeSdk2(mcpUrl: string, opts: { login: string; provider?: Sdk2CapturingProvider; browser?: CookieBrowser; scope?: string; fetch?: FetchLike }): Promise<Sdk2Connection & { consent: ConsentResult }> {
  const provider = opts.provider ?? new Sdk2CapturingProvider();
  provider.scopeOverride = opts.scope;
  const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider, ...(opts.fetch ? { fetch: opts.fetch } : {}) });
  try {
    await newSdk2Client().connect(transport);
    throw new Error('expected the first connection to need authorization');
  } catch (e) {
    if (!(e instanceof UnauthorizedError)) throw e;
  }
  const consent = await approve(provider, opts);
  provider.scopeOverride = undefined; // later authorizations (step-up) keep the scope the SDK computed
  await transport.finishAuth(consent.clientRedirect.searchParams);
  await transport.close().catch(() => undefined);
  return { ...(await connectSdk2(mcpUrl, provider, opts.fetch ? { fetch: opts.fetch } : {})), consent };
}
