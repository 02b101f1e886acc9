/**
 * The store interface. Every read and write of keyhole's state goes through it, so that another engine can
 * be added later and run the same contract suite (test/unit/store/store-contract.ts).
 *
 * Conventions:
 * - Times are integer seconds since the epoch (`now` is always passed in, never read from the clock here).
 * - keyhole's own codes and tokens are stored as SHA-256 hashes only (`TokenHash`, lowercase hex of 64 chars).
 * - Upstream secrets are stored only as vault ciphertexts (`Sealed`, produced by the vault cipher); the store
 *   never sees a plaintext upstream token.
 * - Ids are opaque strings: grants `g_<22 base64url>`, families `f_<22>`, pending `p_<22>`, clients `c_<22>`
 *   for DCR (a CIMD client's id is its https URL; a static client's id is its configured name).
 */

/** Lowercase hex SHA-256 of a token value. */
export type TokenHash = string;
/** A vault ciphertext (compact JWE `dir`/`A256GCM` carrying its key id `kid`). */
export type Sealed = string;

export type ClientKind = 'dcr' | 'cimd' | 'static';

export interface ClientRecord {
  clientId: string;
  kind: ClientKind;
  /** Registration metadata as accepted (RFC 7591 names), unknown fields included. Never a secret. */
  metadata: Record<string, unknown>;
  /** SHA-256 of the client secret for confidential clients; null for public clients. */
  secretHash: string | null;
  createdAt: number;
  blockedAt: number | null;
}

/** The MCP client's authorization request, kept while the user consents and while the upstream round trip runs. */
export interface ClientAuthorizationRequest {
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  /** The client's own `state`, echoed back verbatim (may be absent). */
  state: string | null;
  scopes: string[];
  /** Canonical resource URL (the MCP endpoint) this authorization is for. */
  resource: string;
  server: string;
}

export interface PendingAuthorization {
  id: string;
  request: ClientAuthorizationRequest;
  /** SHA-256 of the upstream `state` sent to the upstream AS; null until consent is given. */
  upstreamStateHash: TokenHash | null;
  /** Upstream PKCE verifier, sealed; null until consent is given. */
  upstreamVerifier: Sealed | null;
  /** Upstream scopes asked for (the union for the requested keyhole scopes). */
  upstreamScopes: string[];
  /** Grant being widened by a step-up, if any. */
  grantId: string | null;
  createdAt: number;
  expiresAt: number;
}

export type GrantStatus = 'active' | 'revoked';

export interface GrantRecord {
  id: string;
  clientId: string;
  server: string;
  /** Upstream account id (id_token / userinfo claim). */
  subject: string;
  subjectName: string | null;
  scopes: string[];
  status: GrantStatus;
  /** Why the grant ended: 'client_revoked' | 'admin_revoked' | 'upstream_invalid_grant' | … */
  statusReason: string | null;
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

export interface UpstreamCredential {
  grantId: string;
  accessToken: Sealed;
  /** Absolute expiry of the upstream access token; null when the upstream did not say. */
  accessExpiresAt: number | null;
  refreshToken: Sealed | null;
  /** Upstream scopes granted (as the upstream reported them, or as asked). */
  scopes: string[];
  updatedAt: number;
  /** Set when the last upstream refresh failed with a transient error. */
  refreshFailingSince: number | null;
}

export interface CodeRecord {
  hash: TokenHash;
  grantId: string;
  familyId: string;
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  resource: string;
  scopes: string[];
  expiresAt: number;
  usedAt: number | null;
}

export interface AccessTokenRecord {
  hash: TokenHash;
  grantId: string;
  familyId: string;
  clientId: string;
  /** The canonical resource (audience) the token is for. */
  resource: string;
  scopes: string[];
  expiresAt: number;
  revokedAt: number | null;
}

export interface RefreshTokenRecord {
  hash: TokenHash;
  grantId: string;
  familyId: string;
  clientId: string;
  resource: string;
  scopes: string[];
  expiresAt: number;
  /** When it was exchanged for a new pair (rotation). */
  usedAt: number | null;
  revokedAt: number | null;
}

/** Result of an access-token lookup on the hot path: the token joined with its grant's status. */
export interface AccessTokenLookup extends AccessTokenRecord {
  grantStatus: GrantStatus;
  server: string;
  subject: string;
}

export interface EventRecord {
  id: number;
  at: number;
  type: string;
  grantId: string | null;
  clientId: string | null;
  server: string | null;
  subject: string | null;
  outcome: 'success' | 'failure';
  /** Ids, fingerprints, reasons. Never a token value. */
  detail: Record<string, unknown>;
}
export type NewEvent = Omit<EventRecord, 'id'>;

export interface GrantFilter {
  clientId?: string;
  server?: string;
  subject?: string;
  status?: GrantStatus;
  limit?: number;
  offset?: number;
}

export interface EventFilter {
  type?: string;
  grantId?: string;
  clientId?: string;
  server?: string;
  since?: number;
  until?: number;
  limit?: number;
  offset?: number;
}

export interface Store {
  // clients
  createClient(client: ClientRecord): void;
  getClient(clientId: string): ClientRecord | undefined;
  listClients(): ClientRecord[];
  countClients(): number;
  blockClient(clientId: string, at: number): void;
  deleteClient(clientId: string): void;

  // pending authorizations (consent + upstream round trip)
  createPending(p: PendingAuthorization): void;
  getPending(id: string): PendingAuthorization | undefined;
  /** Attach the upstream state/PKCE after consent. */
  updatePendingUpstream(id: string, upstreamStateHash: TokenHash, upstreamVerifier: Sealed, upstreamScopes: string[]): void;
  /** Atomically fetch and delete the pending authorization for an upstream state (single use). */
  takePendingByUpstreamState(stateHash: TokenHash, now: number): PendingAuthorization | undefined;
  deletePending(id: string): void;
  deleteExpiredPending(now: number): number;

  // grants
  createGrant(g: GrantRecord): void;
  getGrant(id: string): GrantRecord | undefined;
  findActiveGrant(clientId: string, server: string, subject: string): GrantRecord | undefined;
  updateGrantScopes(id: string, scopes: string[]): void;
  touchGrant(id: string, at: number): void;
  /** Marks the grant revoked, revokes all its codes/tokens and deletes its upstream credential, in one transaction. */
  revokeGrant(id: string, reason: string, at: number): boolean;
  listGrants(filter: GrantFilter): GrantRecord[];
  countGrants(filter: GrantFilter): number;

  // upstream credentials (sealed)
  putUpstreamCredential(c: UpstreamCredential): void;
  getUpstreamCredential(grantId: string): UpstreamCredential | undefined;
  markUpstreamRefreshFailing(grantId: string, since: number | null): void;

  // keyhole codes
  createCode(c: CodeRecord): void;
  /**
   * Marks the code used if it was unused and returns it with the previous `usedAt`:
   * a non-null `usedAt` in the result means this is a replay.
   */
  consumeCode(hash: TokenHash, now: number): CodeRecord | undefined;

  // keyhole access and refresh tokens
  createAccessToken(t: AccessTokenRecord): void;
  lookupAccessToken(hash: TokenHash): AccessTokenLookup | undefined;
  revokeAccessToken(hash: TokenHash, at: number): void;
  createRefreshToken(t: RefreshTokenRecord): void;
  getRefreshToken(hash: TokenHash): RefreshTokenRecord | undefined;
  /** Sets usedAt if it was null; returns true when this call did it. */
  markRefreshTokenUsed(hash: TokenHash, at: number): boolean;
  /** Revokes every code, access and refresh token of a family. */
  revokeFamily(familyId: string, at: number): void;

  // events
  appendEvent(e: NewEvent): number;
  listEvents(filter: EventFilter): EventRecord[];
  countEvents(filter: EventFilter): number;

  /** Run `fn` in one transaction. */
  transaction<T>(fn: () => T): T;
  close(): void;
}
