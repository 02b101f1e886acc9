// A real upstream OAuth 2.1 / OpenID authorization server for the demo and the
// e2e tests: oidc-provider 9 with dev interactions (any login + password).
import { randomBytes } from 'node:crypto';
import { listenOnLoopback } from './loopback-server.js';

import { exportJWK, generateKeyPair } from 'jose';
import { Provider, errors, type KoaContextWithOIDC, type Next } from 'oidc-provider';

export interface UpstreamAsClient {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
}

export interface UpstreamAsOptions {
  /** Port on 127.0.0.1; 0 (default) picks an ephemeral one. */
  port?: number;
  clients: UpstreamAsClient[];
  /** Access-token lifetime in seconds (default 3600). */
  accessTokenTtlSeconds?: number;
  /** Resource URLs (RFC 8707) it issues tokens for. More can be added later with addResource(). */
  resources?: string[];
  /** Scopes it supports (default openid, offline_access, mcp:tools, mcp:read, mcp:write). */
  scopes?: string[];
  /** Enable Dynamic Client Registration at /reg (default false). */
  registration?: boolean;
}

export interface UpstreamAs {
  /** http://127.0.0.1:PORT (no trailing slash). */
  issuer: string;
  port: number;
  provider: Provider;
  /** Adds a resource (RFC 8707) it accepts; the first one ever added becomes the default resource. */
  addResource(resource: string): void;
  /** RFC 7662 introspection at /token/introspection with client_secret_basic. */
  introspect(token: string, client: { clientId: string; clientSecret: string }): Promise<Record<string, unknown>>;
  close(): Promise<void>;
  /**
   * Adds a koa middleware around every request, also after start (tests: count, delay or fail token requests).
   * `provider.use` after start has no effect: the request handler was composed when the server started.
   */
  intercept(middleware: (ctx: KoaContextWithOIDC, next: Next) => Promise<void>): void;
  /** The lifetime of access tokens issued from now on (tests: a short first token, a long refreshed one). */
  setAccessTokenTtl(seconds: number): void;
  /** An outage: stops listening and drops every connection (the provider keeps its state); `start` ends it. */
  stop(): Promise<void>;
  /** Listens again on the same port after `stop`. */
  start(): Promise<void>;
}

export const DEFAULT_UPSTREAM_SCOPES = ['openid', 'offline_access', 'mcp:tools', 'mcp:read', 'mcp:write'];

/** Scopes that are about the authorization server itself and never go into a resource's access token. */
const AS_ONLY_SCOPES = new Set(['openid', 'offline_access', 'profile']);

function basicAuth(clientId: string, clientSecret: string): string {
  // RFC 6749 §2.3.1: form-urlencode each part before base64.
  const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${enc(clientId)}:${enc(clientSecret)}`).toString('base64')}`;
}

export async function startUpstreamAuthorizationServer(opts: UpstreamAsOptions): Promise<UpstreamAs> {
  let ttl = opts.accessTokenTtlSeconds ?? 3600;
  const scopes = opts.scopes ?? DEFAULT_UPSTREAM_SCOPES;
  const resourceScope = scopes.filter((s) => !AS_ONLY_SCOPES.has(s)).join(' ');
  const resources: string[] = [...(opts.resources ?? [])];

  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = await exportJWK(privateKey);
  jwk.alg = 'RS256';
  jwk.use = 'sig';
  jwk.kid = randomBytes(8).toString('hex');

  // Bind first so the issuer (which must contain the port) is known before the provider exists.
  const { server, port, close: closeServer, reopen } = await listenOnLoopback(opts.port);
  const issuer = `http://127.0.0.1:${port}`;

  const provider = new Provider(issuer, {
    clients: opts.clients.map((c) => ({
      client_id: c.clientId,
      client_secret: c.clientSecret,
      redirect_uris: c.redirectUris,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    })),
    clientDefaults: {
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
    },
    jwks: { keys: [jwk] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    scopes,
    claims: { openid: ['sub'], profile: ['name'] },
    async findAccount(_ctx, sub) {
      return {
        accountId: sub,
        claims: () => ({ sub, name: `User ${sub}` }),
      };
    },
    features: {
      devInteractions: { enabled: true },
      revocation: { enabled: true, allowedPolicy: async () => true },
      introspection: { enabled: true, allowedPolicy: async () => true },
      registration: { enabled: opts.registration === true, initialAccessToken: false },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => resources[0],
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: unknown, resource: string) => {
          if (!resources.includes(resource)) throw new errors.InvalidTarget();
          return {
            scope: resourceScope,
            audience: resource,
            accessTokenTTL: ttl,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
    pkce: { required: () => true },
    issueRefreshToken: async (_ctx: unknown, client: { grantTypeAllowed(t: string): boolean }) =>
      client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: () => true,
    clientBasedCORS: () => true,
    ttl: {
      AccessToken: (_ctx: unknown, token: { resourceServer?: { accessTokenTTL?: number } }) =>
        token.resourceServer?.accessTokenTTL ?? ttl,
      AuthorizationCode: 60,
      ClientCredentials: ttl,
      DeviceCode: 600,
      BackchannelAuthenticationRequest: 600,
      PreAuthorizedCode: 600,
      IdToken: 3600,
      RefreshToken: 14 * 24 * 3600,
      Interaction: 3600,
      Session: 14 * 24 * 3600,
      Grant: 14 * 24 * 3600,
    },
    async renderError(ctx: KoaContextWithOIDC, out: Record<string, string>) {
      ctx.type = 'json';
      ctx.body = out;
    },
  });

  // An authorization request without `scope` ends in access_denied: default it.
  provider.use(async (ctx: KoaContextWithOIDC, next: Next) => {
    if (ctx.method === 'GET' && ctx.path === '/auth' && !ctx.query.scope) {
      const url = new URL(ctx.url as string, issuer);
      url.searchParams.set('scope', scopes.join(' '));
      ctx.url = `${url.pathname}${url.search}`;
    }
    await next();
  });

  // Middleware added after start (`intercept`), run in order around the provider's own handling.
  const intercepted: Array<(ctx: KoaContextWithOIDC, next: Next) => Promise<void>> = [];
  provider.use(async (ctx: KoaContextWithOIDC, next: Next) => {
    const dispatch = async (i: number): Promise<void> => (i < intercepted.length ? intercepted[i]!(ctx, () => dispatch(i + 1)) : next());
    await dispatch(0);
  });

  server.on('request', provider.callback());

  return {
    issuer,
    port,
    provider,
    addResource(resource: string) {
      if (!resources.includes(resource)) resources.push(resource);
    },
    async introspect(token, client) {
      const res = await fetch(`${issuer}/token/introspection`, {
        method: 'POST',
        headers: {
          authorization: basicAuth(client.clientId, client.clientSecret),
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: new URLSearchParams({ token }).toString(),
      });
      const body = (await res.json()) as Record<string, unknown>;
      if (!res.ok) throw new Error(`introspection failed: ${res.status} ${JSON.stringify(body)}`);
      return body;
    },
    close: closeServer,
    intercept: (middleware) => void intercepted.push(middleware),
    setAccessTokenTtl: (seconds) => void (ttl = seconds),
    stop: closeServer,
    start: reopen,
  };
}
