/**
 * A second oidc-provider playing the organization's IdP (issue 13): keyhole signs people in through it before consent.
 * - an account table {sub → email, name, groups}; `groups` comes as a claim (scope `profile`, and scope `groups` like
 *   Okta's), so it reaches keyhole through userinfo (and the ID token of an implicit-less code flow does not carry it:
 *   oidc-provider's conformIdTokenClaims, as real IdPs often do);
 * - `disable(sub)`: findAccount answers nothing for the person (an IdP that disabled them); `enable(sub)` undoes it;
 * - `revokeGrantsOf(sub)`: destroys every grant the person gave keyhole at the IdP (its refresh tokens stop working);
 * - its own static client for keyhole (client_secret_basic) with redirect `<publicUrl>/identity/callback`;
 * - devInteractions: a login form (login = the account's sub, any password), then a consent form;
 * - refresh tokens are issued to clients allowed the refresh_token grant, whatever the scopes.
 * `authRequests` counts GET /auth requests (to prove a refusal happened before any redirect, when needed).
 */
import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair } from 'jose';
import { Provider, type KoaContextWithOIDC, type Next } from 'oidc-provider';
import { listenOnLoopback } from '../../examples/demo/loopback-server.js';

export interface OrgAccount {
  email: string;
  name: string;
  groups: string[];
}

export interface OrgIdpOptions {
  /** Where keyhole lives: the client's redirect URI is `<publicUrl>/identity/callback`. */
  publicUrl: string;
  accounts: Record<string, OrgAccount>;
  clientId?: string;
  clientSecret?: string;
  /** ID token / access token lifetime in seconds (default 3600). */
  tokenTtlSeconds?: number;
}

export interface OrgIdp {
  /** http://127.0.0.1:PORT */
  issuer: string;
  provider: Provider;
  client: { clientId: string; clientSecret: string; redirectUri: string };
  /** The live account table (edit groups in place to change what the next sign-in sees). */
  accounts: Map<string, OrgAccount>;
  /** How many GET /auth requests it has seen. */
  authRequests(): number;
  /** Every token value its token endpoint issued (ID, access and refresh tokens), for the canary. */
  issuedTokens: Set<string>;
  disable(sub: string): void;
  enable(sub: string): void;
  /** Destroys every grant `sub` gave at this IdP; returns how many. Refresh tokens of those grants then fail. */
  revokeGrantsOf(sub: string): Promise<number>;
  /** The `identity` config block for keyhole pointing here (merge extra fields over it). */
  identityConfig(extra?: Record<string, unknown>): Record<string, unknown>;
  close(): Promise<void>;
}

export async function startOrgIdp(opts: OrgIdpOptions): Promise<OrgIdp> {
  const accounts = new Map(Object.entries(opts.accounts));
  const disabled = new Set<string>();
  const grantsBySub = new Map<string, Set<string>>();
  const ttl = opts.tokenTtlSeconds ?? 3600;
  const client = {
    clientId: opts.clientId ?? 'keyhole-org',
    clientSecret: opts.clientSecret ?? randomBytes(24).toString('base64url'),
    redirectUri: `${opts.publicUrl}/identity/callback`,
  };

  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = await exportJWK(privateKey);
  Object.assign(jwk, { alg: 'RS256', use: 'sig', kid: randomBytes(8).toString('hex') });

  const { server, port, close } = await listenOnLoopback();
  const issuer = `http://127.0.0.1:${port}`;
  let auths = 0;

  const provider = new Provider(issuer, {
    clients: [{
      client_id: client.clientId,
      client_secret: client.clientSecret,
      redirect_uris: [client.redirectUri],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
    }],
    jwks: { keys: [jwk] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    scopes: ['openid', 'offline_access', 'email', 'profile', 'groups'],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'groups'], groups: ['groups'] },
    async findAccount(_ctx, sub) {
      const account = accounts.get(sub);
      if (!account || disabled.has(sub)) return undefined;
      return {
        accountId: sub,
        claims: () => ({ sub, email: account.email, email_verified: true, name: account.name, groups: [...account.groups] }),
      };
    },
    features: {
      devInteractions: { enabled: true },
      revocation: { enabled: true },
      introspection: { enabled: true },
    },
    pkce: { required: () => true },
    issueRefreshToken: async (_ctx: unknown, c: { grantTypeAllowed(t: string): boolean }) => c.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: () => true,
    ttl: {
      AccessToken: ttl,
      AuthorizationCode: 60,
      IdToken: ttl,
      RefreshToken: 14 * 24 * 3600,
      Interaction: 3600,
      Session: 14 * 24 * 3600,
      Grant: 14 * 24 * 3600,
      ClientCredentials: ttl,
      DeviceCode: 600,
      BackchannelAuthenticationRequest: 600,
      PreAuthorizedCode: 600,
    },
    async renderError(ctx: KoaContextWithOIDC, out: Record<string, string>) {
      ctx.type = 'json';
      ctx.body = out;
    },
  });

  provider.use(async (ctx: KoaContextWithOIDC, next: Next) => {
    if (ctx.method === 'GET' && ctx.path === '/auth') auths++;
    await next();
  });
  // Which grants each person gave: to revoke them later (what an IdP admin does by ending a user's sessions).
  provider.on('authorization_code.consumed', (code: { accountId?: string; grantId?: string }) => {
    if (!code.accountId || !code.grantId) return;
    const set = grantsBySub.get(code.accountId) ?? new Set<string>();
    set.add(code.grantId);
    grantsBySub.set(code.accountId, set);
  });

  const issuedTokens = new Set<string>();
  provider.on('grant.success', (ctx: { body?: Record<string, unknown> }) => {
    for (const k of ['access_token', 'refresh_token', 'id_token']) if (typeof ctx.body?.[k] === 'string') issuedTokens.add(ctx.body[k] as string);
  });

  server.on('request', provider.callback());

  return {
    issuedTokens,
    issuer,
    provider,
    client,
    accounts,
    authRequests: () => auths,
    disable: (sub) => void disabled.add(sub),
    enable: (sub) => void disabled.delete(sub),
    async revokeGrantsOf(sub) {
      let n = 0;
      for (const grantId of grantsBySub.get(sub) ?? []) {
        const Grant = provider.Grant as unknown as { find(id: string): Promise<{ destroy(): Promise<void> } | undefined> };
        const grant = await Grant.find(grantId);
        if (grant) {
          await grant.destroy();
          n++;
        }
        // Refresh and access tokens of the grant go too (oidc-provider revokes by grant id).
        for (const model of [provider.RefreshToken, provider.AccessToken] as unknown as Array<{ revokeByGrantId(id: string): Promise<void> }>) {
          await model.revokeByGrantId(grantId);
        }
      }
      grantsBySub.delete(sub);
      return n;
    },
    identityConfig: (extra = {}) => ({ issuer, clientId: client.clientId, clientSecret: client.clientSecret, ...extra }),
    close,
  };
}
