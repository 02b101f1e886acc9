/**
 * The real MCP SDK client against keyhole: its own OAuth code (discovery, DCR, PKCE, token, refresh) with a
 * provider that captures the authorization URL instead of opening a browser. The consent and the upstream
 * login are then driven over HTTP with CookieBrowser (or in Chromium by the caller).
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError, type OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { CookieBrowser, completeUpstreamLogin, parseForms } from './cookie-browser.js';

export class CapturingProvider implements OAuthClientProvider {
  authorizationUrl: URL | undefined;
  private info: OAuthClientInformationMixed | undefined;
  private saved: OAuthTokens | undefined;
  private verifier = '';
  /** Every token set the client saved, in order (for canary checks). */
  readonly tokenHistory: OAuthTokens[] = [];

  constructor(readonly redirectUrl = 'http://127.0.0.1:9/oauth/callback', private readonly name = 'keyhole e2e client') {}

  get clientMetadata(): OAuthClientMetadata {
    return { client_name: this.name, redirect_uris: [String(this.redirectUrl)], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none' };
  }
  clientInformation() { return this.info; }
  saveClientInformation(info: OAuthClientInformationMixed) { this.info = info; }
  tokens() { return this.saved; }
  saveTokens(tokens: OAuthTokens) { this.saved = tokens; this.tokenHistory.push(tokens); }
  redirectToAuthorization(url: URL) { this.authorizationUrl = url; }
  saveCodeVerifier(v: string) { this.verifier = v; }
  codeVerifier() { return this.verifier; }
  /** Drop the tokens (e.g. to force a re-authorization). */
  forgetTokens() { this.saved = undefined; }
}

export interface ConsentResult {
  /** The keyhole consent page HTML that was shown. */
  consentHtml: string;
  /** Where keyhole finally redirected the browser (the client's redirect_uri with code or error). */
  clientRedirect: URL;
}

/** Approve (or deny) keyhole's consent page over HTTP and sign in upstream; returns the client redirect. */
export async function driveConsent(authorizationUrl: URL, opts: { login: string; decision?: 'approve' | 'deny'; browser?: CookieBrowser; redirectPrefix: string }): Promise<ConsentResult> {
  const browser = opts.browser ?? new CookieBrowser();
  const page = await browser.get(authorizationUrl);
  const consentHtml = await page.text();
  if (page.status !== 200) throw new Error(`consent page: HTTP ${page.status}: ${consentHtml.slice(0, 300)}`);
  const form = parseForms(consentHtml, authorizationUrl).find((f) => 'csrf' in f.fields);
  if (!form) throw new Error(`no consent form in: ${consentHtml.slice(0, 300)}`);
  const posted = await browser.post(form.action, { ...form.fields, decision: opts.decision ?? 'approve' });
  const location = posted.headers.get('location');
  if (!location) throw new Error(`consent POST: HTTP ${posted.status} without Location: ${(await posted.text()).slice(0, 300)}`);
  const next = new URL(location, form.action);
  if (next.href.startsWith(opts.redirectPrefix)) return { consentHtml, clientRedirect: next };
  const clientRedirect = await completeUpstreamLogin(browser, next, { login: opts.login, stopAt: opts.redirectPrefix });
  return { consentHtml, clientRedirect };
}

export interface ConnectedClient {
  client: Client;
  transport: StreamableHTTPClientTransport;
  provider: CapturingProvider;
  consent: ConsentResult;
}

/** Connect the SDK client to keyhole: 401 → discovery → DCR → consent → upstream login → code → tokens → connect. */
export async function connectThroughKeyhole(mcpUrl: string, opts: { login: string; provider?: CapturingProvider; browser?: CookieBrowser }): Promise<ConnectedClient> {
  const provider = opts.provider ?? new CapturingProvider();
  const first = new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider });
  const probe = new Client({ name: 'keyhole-e2e', version: '1.0.0' });
  try {
    await probe.connect(first);
    throw new Error('expected the first connection to need authorization');
  } catch (e) {
    if (!(e instanceof UnauthorizedError)) throw e;
  }
  if (!provider.authorizationUrl) throw new Error('the SDK did not ask for authorization');
  const consent = await driveConsent(provider.authorizationUrl, { login: opts.login, redirectPrefix: String(provider.redirectUrl), ...(opts.browser ? { browser: opts.browser } : {}) });
  const code = consent.clientRedirect.searchParams.get('code');
  if (!code) throw new Error(`no code in client redirect: ${consent.clientRedirect.href}`);
  await first.finishAuth(code);
  await first.close().catch(() => undefined);
  return { ...(await reconnect(mcpUrl, provider)), consent };
}

/** A new transport + client with the provider's current tokens (a started transport cannot be reused). */
export async function reconnect(mcpUrl: string, provider: CapturingProvider): Promise<{ client: Client; transport: StreamableHTTPClientTransport; provider: CapturingProvider }> {
  const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider });
  const client = new Client({ name: 'keyhole-e2e', version: '1.0.0' });
  await client.connect(transport);
  return { client, transport, provider };
}
