/**
 * keyhole's client at an upstream that implements MCP authorization (`oauth.discovery: "mcp"`), with no manual
 * client setup: discover the upstream's authorization server (./mcp-discovery.ts), then register —
 * - by a client ID metadata document that keyhole serves at `<publicUrl>/oauth/client-metadata.json`, when the
 *   authorization server advertises `client_id_metadata_document_supported` (and public clients) and keyhole's
 *   publicUrl is https (the document's URL is the client_id, which must be https);
 * - otherwise by dynamic client registration (RFC 7591).
 * The registration is persisted per server + issuer (client secret and registration access token sealed), so a
 * restart does not register again. Registration happens on first need (consent), never at startup.
 * @see https://www.rfc-editor.org/rfc/rfc7591#section-3.1
 * @see https://datatracker.ietf.org/doc/draft-ietf-oauth-client-id-metadata-document/
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#client-registration-approaches
 */
import * as oauth from 'oauth4webapi';
import type { UpstreamOAuthConfig } from '../config/schema.js';
import type { Store, UpstreamRegistration } from '../store/types.js';
import type { VaultCipher } from '../store/crypto/vault-cipher.js';
import type { EventRecorder } from '../events/recorder.js';
import type { UpstreamClientCredentials, UpstreamClientSource } from './oauth-client.js';
import { discoverMcpAuthorization, UpstreamDiscoveryError, type DiscoveredAuthorization } from './mcp-discovery.js';
import { forgetOnRejection } from './forget-on-rejection.js';

export const CLIENT_METADATA_PATH = '/oauth/client-metadata.json';

const TIMEOUT_MS = 10_000;
type AuthMethod = UpstreamClientCredentials['tokenEndpointAuthMethod'];

import { registrationSealContext } from '../vault/seal-contexts.js';
export { registrationSealContext };

/** keyhole's client ID metadata document: what an authorization server fetches from the client_id URL. */
export function keyholeClientMetadata(publicUrl: string): Record<string, unknown> {
  return {
    client_id: `${publicUrl}${CLIENT_METADATA_PATH}`,
    client_name: `keyhole (${publicUrl})`,
    client_uri: publicUrl,
    redirect_uris: [`${publicUrl}/oauth/callback`],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    // A metadata document cannot carry a secret: keyhole is a public client there (PKCE S256 still applies).
    token_endpoint_auth_method: 'none',
  };
}

/** client_secret_basic when supported (the RFC 8414 default when the list is absent), then _post, then none. */
export function pickAuthMethod(supported: readonly string[] | undefined): AuthMethod {
  const list = supported ?? ['client_secret_basic'];
  if (list.includes('client_secret_basic')) return 'client_secret_basic';
  if (list.includes('client_secret_post')) return 'client_secret_post';
  if (list.includes('none')) return 'none';
  throw new UpstreamDiscoveryError('protocol', `the authorization server supports none of keyhole's client authentication methods (${list.join(', ')})`);
}

export function usesClientIdMetadataDocument(as: oauth.AuthorizationServer, publicUrl: string): boolean {
  const methods = as.token_endpoint_auth_methods_supported;
  return as.client_id_metadata_document_supported === true && publicUrl.startsWith('https://') && (methods === undefined || methods.includes('none'));
}

export interface McpUpstreamRegistrarDeps {
  server: string;
  upstream: string;
  oauth: UpstreamOAuthConfig;
  publicUrl: string;
  store: Store;
  cipher: VaultCipher;
  events: EventRecorder;
  clock: () => number;
}

/** The UpstreamClientSource of one server with `oauth.discovery: "mcp"`. */
export class McpUpstreamRegistrar implements UpstreamClientSource {
  private discovered: Promise<DiscoveredAuthorization> | undefined;
  /** The discovered issuer, once known. */
  private issuer: string | undefined;
  private registered: Promise<UpstreamClientCredentials & { expiresAt: number | null }> | undefined;

  constructor(private readonly deps: McpUpstreamRegistrarDeps) {}

  get redirectUri(): string {
    return `${this.deps.publicUrl}/oauth/callback`;
  }

  async discover(): Promise<{ as: oauth.AuthorizationServer; resource: string | undefined; scopes: string[] | undefined; allowInsecure: boolean }> {
    this.discovered ??= forgetOnRejection(discoverMcpAuthorization(this.deps.upstream, this.deps.oauth.issuer), () => (this.discovered = undefined));
    const d = await this.discovered;
    this.issuer = d.as.issuer;
    return { as: d.as, resource: d.resource, scopes: d.scopes, allowInsecure: d.allowInsecure };
  }

  /** keyhole's credentials at the discovered authorization server, registering once if needed (single-flight). */
  async credentials(): Promise<UpstreamClientCredentials> {
    if (this.registered) {
      const current = await this.registered;
      if (current.expiresAt === null || current.expiresAt > this.deps.clock() + 60) return current;
      this.registered = undefined; // the client secret expires: register again
    }
    this.registered ??= forgetOnRejection(this.loadOrRegister(), () => (this.registered = undefined));
    return this.registered;
  }

  /** The upstream answered invalid_client: forget the registration, so that the next sign-in registers again. */
  async invalidate(): Promise<void> {
    this.registered = undefined;
    const issuer = this.issuer;
    if (!issuer) return;
    await this.deps.store.upstreamRegistrations.delete(this.deps.server, issuer);
    await this.deps.events.record({ type: 'upstream.client_registered', server: this.deps.server, outcome: 'failure', detail: { issuer, reason: 'invalid_client', action: 'registration_forgotten' } });
  }

  private async loadOrRegister(): Promise<UpstreamClientCredentials & { expiresAt: number | null }> {
    const { store, cipher, server, clock } = this.deps;
    const { as, allowInsecure } = await this.discover();
    const issuer = as.issuer;
    const saved = await store.upstreamRegistrations.find(server, issuer);
    const wantCimd = usesClientIdMetadataDocument(as, this.deps.publicUrl);
    if (saved && (saved.clientSecretExpiresAt === null || saved.clientSecretExpiresAt > clock() + 60) && (saved.kind === 'cimd') === wantCimd) {
      try {
        const clientSecret = saved.clientSecret ? await cipher.open(saved.clientSecret, registrationSealContext.clientSecret(server, issuer)) : undefined;
        return { clientId: saved.clientId, clientSecret, tokenEndpointAuthMethod: saved.tokenEndpointAuthMethod, expiresAt: saved.clientSecretExpiresAt };
      } catch {
        // The vault key that sealed it is gone: register again rather than fail every sign-in.
      }
    }
    return wantCimd ? this.useMetadataDocument(issuer) : this.register(as, allowInsecure);
  }

  private async useMetadataDocument(issuer: string): Promise<UpstreamClientCredentials & { expiresAt: null }> {
    const { store, server, clock, events, publicUrl } = this.deps;
    const metadata = keyholeClientMetadata(publicUrl);
    const clientId = metadata.client_id as string;
    await store.upstreamRegistrations.put({
      server, issuer, kind: 'cimd', clientId, clientSecret: null, clientSecretExpiresAt: null, tokenEndpointAuthMethod: 'none',
      registrationAccessToken: null, registrationClientUri: null, metadata, createdAt: clock(),
    });
    await events.record({ type: 'upstream.client_registered', server, clientId: null, detail: { issuer, kind: 'cimd', upstream_client_id: clientId, token_endpoint_auth_method: 'none' } });
    return { clientId, clientSecret: undefined, tokenEndpointAuthMethod: 'none', expiresAt: null };
  }

  /** RFC 7591 dynamic client registration. */
  private async register(as: oauth.AuthorizationServer, allowInsecure: boolean): Promise<UpstreamClientCredentials & { expiresAt: number | null }> {
    const { store, cipher, server, clock, events, publicUrl } = this.deps;
    if (!as.registration_endpoint) {
      throw new UpstreamDiscoveryError('protocol', `the authorization server ${as.issuer} offers neither dynamic client registration nor client ID metadata documents; configure oauth.clientId`);
    }
    const method = pickAuthMethod(as.token_endpoint_auth_methods_supported);
    const request = {
      redirect_uris: [this.redirectUri],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: method,
      client_name: `keyhole (${publicUrl})`,
      client_uri: publicUrl,
    };
    let response: Record<string, unknown>;
    try {
      const res = await oauth.dynamicClientRegistrationRequest(as, request, {
        signal: () => AbortSignal.timeout(TIMEOUT_MS),
        ...(allowInsecure ? { [oauth.allowInsecureRequests]: true } : {}),
      });
      response = (await oauth.processDynamicClientRegistrationResponse(res)) as Record<string, unknown>;
    } catch (e) {
      const kind = e instanceof oauth.ResponseBodyError ? (e.status >= 500 ? 'server' : 'protocol') : (e as Error)?.name === 'TimeoutError' ? 'timeout' : e instanceof oauth.OperationProcessingError ? 'protocol' : 'network';
      const reason = e instanceof oauth.ResponseBodyError ? `${e.error}` : (e as Error)?.name ?? 'error';
      await events.record({ type: 'upstream.client_registered', server, outcome: 'failure', detail: { issuer: as.issuer, kind: 'dcr', reason } });
      throw new UpstreamDiscoveryError(kind, `dynamic client registration at ${as.issuer} failed (${reason})`);
    }
    const clientId = response.client_id;
    if (typeof clientId !== 'string' || !clientId) throw new UpstreamDiscoveryError('protocol', 'the registration response has no client_id');
    const secret = typeof response.client_secret === 'string' && response.client_secret ? response.client_secret : undefined;
    // The AS may register another method than asked (RFC 7591 §3.2.1): use what it says.
    const said = response.token_endpoint_auth_method;
    let authMethod: AuthMethod = said === 'client_secret_basic' || said === 'client_secret_post' || said === 'none' ? said : method;
    if (authMethod !== 'none' && !secret) authMethod = 'none';
    const expires = typeof response.client_secret_expires_at === 'number' && response.client_secret_expires_at > 0 ? response.client_secret_expires_at : null;
    const rat = typeof response.registration_access_token === 'string' ? response.registration_access_token : undefined;
    const { client_secret: _s, registration_access_token: _r, ...metadata } = response;
    const issuer = as.issuer;
    const record: UpstreamRegistration = {
      server, issuer, kind: 'dcr', clientId,
      clientSecret: secret ? await cipher.seal(secret, registrationSealContext.clientSecret(server, issuer)) : null,
      clientSecretExpiresAt: expires,
      tokenEndpointAuthMethod: authMethod,
      registrationAccessToken: rat ? await cipher.seal(rat, registrationSealContext.registrationToken(server, issuer)) : null,
      registrationClientUri: typeof response.registration_client_uri === 'string' ? response.registration_client_uri : null,
      metadata,
      createdAt: clock(),
    };
    await store.upstreamRegistrations.put(record);
    await events.record({ type: 'upstream.client_registered', server, detail: { issuer, kind: 'dcr', upstream_client_id: clientId, token_endpoint_auth_method: authMethod, secret_expires_at: expires } });
    return { clientId, clientSecret: secret, tokenEndpointAuthMethod: authMethod, expiresAt: expires };
  }
}
