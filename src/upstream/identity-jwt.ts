/**
 * Identity mode: for self-hosted upstreams that trust keyhole, the credential sent upstream is a short-lived JWT
 * keyhole signs itself (RFC 9068 access-token profile), instead of the identity provider's token.
 * Header `alg: ES256`, `kid`, `typ: at+jwt`; claims `iss` (keyhole's publicUrl), `aud`, `sub` (the grant's
 * subject at the identity provider), `client_id` (the MCP client), `scope` (the keyhole scopes of the request's
 * access token), `iat`, `exp` (≤ 5 minutes), `jti`. The upstream verifies it with `<publicUrl>/.well-known/jwks.json`.
 *
 * Hot path: one minted JWT is cached per grant and reused until 30 s before it expires (or the scopes, or the
 * signing key, change); a 401 from the upstream mints a fresh one. At most `maxCached` grants' JWTs are kept
 * (default {@link DEFAULT_MAX_CACHED_IDENTITY_JWTS}, least recently used evicted: an evicted grant gets a new JWT).
 * @see https://www.rfc-editor.org/rfc/rfc9068#section-2
 */
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { Store } from '../store/types.js';
import { bearerHeader, type CredentialGrant, type UpstreamAuthHeader, type UpstreamCredentialSource } from './credential-source.js';
import { SIGNING_ALG, type SigningKeys } from './signing-keys.js';
import { LruMap } from '../http/lru-map.js';

/** Minted JWTs kept in memory at most (grants). */
export const DEFAULT_MAX_CACHED_IDENTITY_JWTS = 10_000;

/** Mint a new JWT when the cached one has less than this many seconds left. */
export const IDENTITY_JWT_REUSE_MARGIN_SECONDS = 30;

interface Cached {
  jwt: string;
  exp: number;
  kid: string;
  scope: string;
}

export interface IdentityJwtSourceDeps {
  keys: SigningKeys;
  store: Pick<Store, 'grants'>;
  /** `iss`: keyhole's publicUrl. */
  issuer: string;
  audience: string;
  ttlSeconds: number;
  clock: () => number;
  /** Grants whose JWT is cached at most (default {@link DEFAULT_MAX_CACHED_IDENTITY_JWTS}). */
  maxCached?: number;
}

export class IdentityJwtSource implements UpstreamCredentialSource {
  private readonly cache: LruMap<string, Cached>;

  constructor(private readonly deps: IdentityJwtSourceDeps) {
    this.cache = new LruMap(deps.maxCached ?? DEFAULT_MAX_CACHED_IDENTITY_JWTS);
    deps.keys.onRotate(() => this.cache.clear());
  }

  forget(grantId: string): void {
    this.cache.delete(grantId);
  }

  /** Grants whose JWT is cached now. */
  get cachedJwts(): number {
    return this.cache.size;
  }

  async getCredential(grant: CredentialGrant, force: boolean): Promise<UpstreamAuthHeader> {
    const scope = (grant.scopes ?? (await this.deps.store.grants.find(grant.id))?.scopes ?? []).join(' ');
    const cached = this.cache.get(grant.id);
    if (!force && cached && cached.scope === scope && cached.kid === this.deps.keys.activeKid && cached.exp - IDENTITY_JWT_REUSE_MARGIN_SECONDS > this.deps.clock()) {
      return bearerHeader(cached.jwt);
    }
    const minted = await this.mint(grant, scope);
    this.cache.set(grant.id, minted);
    return bearerHeader(minted.jwt);
  }

  private async mint(grant: CredentialGrant, scope: string): Promise<Cached> {
    const { keys, issuer, audience, ttlSeconds, clock } = this.deps;
    const { kid, key } = await keys.signingKey();
    const iat = clock();
    const exp = iat + ttlSeconds;
    const jwt = await new SignJWT({ client_id: grant.clientId, scope })
      .setProtectedHeader({ alg: SIGNING_ALG, kid, typ: 'at+jwt' })
      .setIssuer(issuer)
      .setAudience(audience)
      .setSubject(grant.subject)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .setJti(randomUUID())
      .sign(key);
    return { jwt, exp, kid, scope };
  }
}
