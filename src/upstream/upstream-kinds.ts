/**
 * Every kind of upstream, assembled per server from the config (used by keyhole.ts):
 * - `oauth.discovery: "mcp"` → an UpstreamClientSource that discovers and registers keyhole (./auto-registration.ts);
 * - `credential.type: "identity-jwt"` → keyhole-signed JWTs (./identity-jwt.ts, ./signing-keys.ts);
 * - `credential.type: "static"` → an API key from the vault (./static-credential.ts);
 * - otherwise the upstream OAuth token of the grant (the token manager, itself an UpstreamCredentialSource).
 * Also the documents keyhole publishes for them: `/.well-known/jwks.json` and `/oauth/client-metadata.json`.
 */
import { Hono } from 'hono';
import type { KeyholeConfig } from '../config/schema.js';
import type { Store } from '../store/types.js';
import type { VaultCipher } from '../store/crypto/vault-cipher.js';
import type { EventRecorder } from '../events/recorder.js';
import type { UpstreamClientSource } from './oauth-client.js';
import type { UpstreamCredentialSource } from './credential-source.js';
import { McpUpstreamRegistrar, CLIENT_METADATA_PATH, keyholeClientMetadata } from './auto-registration.js';
import { SigningKeys } from './signing-keys.js';
import { IdentityJwtSource } from './identity-jwt.js';
import { StaticCredentialSource } from './static-credential.js';
import { IDENTITY_JWT_MAX_TTL_SECONDS } from '../config/upstream-credential-schema.js';

export const JWKS_PATH = '/.well-known/jwks.json';

export interface UpstreamKindsDeps {
  config: KeyholeConfig;
  store: Store;
  cipher: VaultCipher;
  events: EventRecorder;
  clock: () => number;
}

export interface UpstreamKinds {
  /** The client source of a server with `oauth.discovery: "mcp"` (for UpstreamOAuthClient), else undefined. */
  clientSource(server: string): UpstreamClientSource | undefined;
  /** The credential source of every server; servers without `credential` use `oauthTokens` (the token manager). */
  credentialSources(oauthTokens: UpstreamCredentialSource): ReadonlyMap<string, UpstreamCredentialSource>;
  /** GET /.well-known/jwks.json (identity mode) and GET /oauth/client-metadata.json (auto-registration). */
  routes(): Hono;
  /** Seal static credentials and load (or create) the signing keys. Call before serving. */
  ready(): Promise<void>;
  /** Drop what is cached for a grant (it ended). */
  forget(grantId: string): void;
  /** Identity mode: rotate the signing key now; returns the new kid. Throws when no server uses identity mode. */
  rotateSigningKey(): Promise<string>;
  /** The signing keys, when a server uses identity mode. */
  signingKeys: SigningKeys | undefined;
}

export function createUpstreamKinds(deps: UpstreamKindsDeps): UpstreamKinds {
  const { config, store, cipher, events, clock } = deps;
  const servers = Object.entries(config.servers);
  const registrars = new Map(
    servers
      .filter(([, s]) => s.oauth.discovery === 'mcp')
      .map(([name, s]) => [name, new McpUpstreamRegistrar({ server: name, upstream: s.upstream, oauth: s.oauth, publicUrl: config.publicUrl, store, cipher, events, clock })]),
  );
  const usesIdentity = servers.some(([, s]) => s.credential?.type === 'identity-jwt');
  const signingKeys = usesIdentity
    ? new SigningKeys({ store, cipher, events, clock, rotationSeconds: config.identityTokens.keyRotationSeconds, maxTokenTtlSeconds: IDENTITY_JWT_MAX_TTL_SECONDS })
    : undefined;
  const identity = new Map<string, IdentityJwtSource>();
  const statics = new Map<string, StaticCredentialSource>();
  for (const [name, s] of servers) {
    const c = s.credential;
    if (c?.type === 'identity-jwt') {
      identity.set(name, new IdentityJwtSource({ keys: signingKeys!, store, issuer: config.publicUrl, audience: c.audience ?? s.upstream, ttlSeconds: c.ttlSeconds, clock }));
    } else if (c?.type === 'static') {
      statics.set(name, new StaticCredentialSource({ server: name, config: c, store, cipher, events, clock }));
    }
  }

  return {
    signingKeys,
    clientSource: (server) => registrars.get(server),
    credentialSources(oauthTokens) {
      return new Map(servers.map(([name]) => [name, identity.get(name) ?? statics.get(name) ?? oauthTokens]));
    },
    routes() {
      const app = new Hono();
      if (signingKeys) {
        app.get(JWKS_PATH, async (c) => {
          const jwks = await signingKeys.jwks();
          // Public keys only; any verifier may fetch them (CORS *). Short caching: the next key is published ahead.
          return c.json(jwks, 200, { 'Access-Control-Allow-Origin': '*', 'Cache-Control': 'public, max-age=300' });
        });
      }
      if (registrars.size) {
        const doc = keyholeClientMetadata(config.publicUrl);
        app.get(CLIENT_METADATA_PATH, (c) => c.json(doc, 200, { 'Access-Control-Allow-Origin': '*', 'Cache-Control': 'public, max-age=3600' }));
      }
      return app;
    },
    async ready() {
      await Promise.all([...[...statics.values()].map((s) => s.prepare()), signingKeys?.ready()]);
    },
    forget(grantId) {
      for (const s of identity.values()) s.forget(grantId);
    },
    rotateSigningKey() {
      if (!signingKeys) return Promise.reject(new Error('no server uses identity-jwt credentials'));
      return signingKeys.rotate();
    },
  };
}
