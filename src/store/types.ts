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
  /**
   * When the client was last used: a completed authorization (keyhole code issued at the callback) or a token issued
   * or refreshed at /token. Null = never. Always set on reads; `createClient` stores it (absent = null), `upsertClient`
   * keeps the stored value; `touchClient` moves it forward.
   */
  lastUsedAt?: number | null;
}

/**
 * Admin and expiry filters over clients. All conditions are ANDed; `unusedSince` is about the client's own use:
 * `coalesce(lastUsedAt, createdAt) < unusedSince` (unused since then, never-used clients counting from registration).
 */
export interface ClientFilter {
  kind?: ClientKind;
  unusedSince?: number;
  /** true: only clients never used; false: only clients used at least once. */
  neverUsed?: boolean;
  limit?: number;
  offset?: number;
}

/** A client with its grant statistics, as the admin list shows it. */
export interface ClientListEntry extends ClientRecord {
  lastUsedAt: number | null;
  /** Every grant of the client, revoked ones included. */
  grantCount: number;
  activeGrantCount: number;
  /** The latest `lastUsedAt` over the client's grants (MCP traffic); null when none was used. */
  grantLastUsedAt: number | null;
}

/** Why the expiry job deletes a DCR client. */
export type ClientExpiryReason = 'never_authorized' | 'unused';

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
  /**
   * SHA-256 of the browser-binding cookie set when consent was approved (src/authorization-server/transaction-binding.ts);
   * null (or absent on create) until then. The callback refuses a pending authorization without it.
   */
  browserBindingHash?: TokenHash | null;
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
  /**
   * True when the upstream refresh token lives in the OS keychain (vault "keychain", account = grant id) instead of
   * `refreshToken`, which is then null. The row is authoritative about where the refresh token is, whatever
   * `storage.vault` says: that is what makes `keyhole vault migrate` safe to interrupt.
   */
  refreshInKeychain: boolean;
}

/** What `putUpstreamCredential` takes: `refreshInKeychain` defaults to false (the refresh token, if any, is sealed here). */
export type UpstreamCredentialWrite = Omit<UpstreamCredential, 'refreshInKeychain'> & { refreshInKeychain?: boolean };

/**
 * Where a vault ciphertext is stored, for key rotation. EVERY `Sealed` value the store holds is one of these (a new
 * sealed column must be added here, to the store's sealed-entry queries and to src/vault/key-rotation.ts):
 * - `pending_verifier` = pending_authorizations.upstream_verifier (id = pending id);
 * - `upstream_access` / `upstream_refresh` = upstream_credentials.access_token / refresh_token (id = grant id);
 * - `registration_client_secret` / `registration_token` = upstream_registrations.client_secret /
 *   registration_access_token (id = JSON `["<server>","<issuer>"]`);
 * - `signing_key` = signing_keys.private_key (id = the signing key's kid);
 * - `sealed_secret` = sealed_secrets.sealed (id = its name, which is also its ctx).
 */
export type SealedField =
  | 'pending_verifier'
  | 'upstream_access'
  | 'upstream_refresh'
  | 'registration_client_secret'
  | 'registration_token'
  | 'signing_key'
  | 'sealed_secret';

export interface SealedEntry {
  field: SealedField;
  /** Pending id or grant id (see SealedField). */
  id: string;
  /** The key id from the ciphertext's header; null when the value is not a readable vault ciphertext. */
  kid: string | null;
  sealed: Sealed;
}

export interface SealedKidCount {
  field: SealedField;
  kid: string | null;
  count: number;
}

export interface SealedEntryFilter {
  /** Only entries under this kid. */
  kid?: string;
  /** Only entries NOT under this kid (entries whose kid is null included). */
  notKid?: string;
  /** Cursor: only entries after this one in (field, id) order. */
  after?: { field: SealedField; id: string };
  /** At most this many (1…1000). */
  limit: number;
}

/** Where the upstream refresh tokens are: sealed in the store, in the OS keychain, or absent. */
export interface RefreshLocationCounts {
  sqlite: number;
  keychain: number;
  none: number;
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

/** Grant usage of one client id (admin clients page). */
export interface ClientGrantStats {
  clientId: string;
  /** Every grant of the client, revoked ones included. */
  grantCount: number;
  activeGrantCount: number;
  /** The latest `lastUsedAt` over the client's grants; null when none was used. */
  lastUsedAt: number | null;
}

export interface Store {
  // clients
  createClient(client: ClientRecord): void;
  getClient(clientId: string): ClientRecord | undefined;
  /**
   * Creates the client, or replaces kind, metadata and secret hash of an existing one (createdAt and blockedAt stay).
   * For clients whose metadata lives elsewhere: CIMD documents (re-fetched) and static clients (config).
   */
  upsertClient(client: ClientRecord): void;
  /** Every client, newest first. Loads them all: for small sets only (static clients at startup); pages use listClientPage. */
  listClients(): ClientRecord[];
  /** How many clients match (all without a filter; `limit`/`offset` ignored). */
  countClients(filter?: ClientFilter): number;
  /** One page of clients matching `filter`, newest first, with their grant statistics; paginated in the query. */
  listClientPage(filter: ClientFilter): ClientListEntry[];
  blockClient(clientId: string, at: number): void;
  deleteClient(clientId: string): void;
  /** Records a use of the client (see ClientRecord.lastUsedAt); never moves it backwards. Unknown ids are ignored. */
  touchClient(clientId: string, at: number): void;
  /** DCR registrations since `since` (inclusive): how many, and the oldest one's time (for Retry-After). */
  dcrRegistrationsSince(since: number): { count: number; oldest: number | null };
  /**
   * DCR clients to delete, oldest first, at most `limit` (1…1000): never used and registered before
   * `neverUsedCreatedBefore` (reason never_authorized), or used and last used before `usedBefore` (reason unused).
   */
  listExpiredDcrClients(neverUsedCreatedBefore: number, usedBefore: number, limit: number): Array<{ clientId: string; reason: ClientExpiryReason }>;

  // pending authorizations (consent + upstream round trip)
  createPending(p: PendingAuthorization): void;
  getPending(id: string): PendingAuthorization | undefined;
  /** Attach the upstream state/PKCE (and the hash of the browser-binding cookie) after consent. */
  updatePendingUpstream(id: string, upstreamStateHash: TokenHash, upstreamVerifier: Sealed, upstreamScopes: string[], browserBindingHash?: TokenHash): void;
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
  putUpstreamCredential(c: UpstreamCredentialWrite): void;
  getUpstreamCredential(grantId: string): UpstreamCredential | undefined;
  markUpstreamRefreshFailing(grantId: string, since: number | null): void;

  // vault ciphertexts by key id (key rotation) and refresh-token location (vault migration)
  /** How many sealed values each kid holds, per field. Fields/kids with no entries are absent. */
  countSealedByKid(): SealedKidCount[];
  /** Sealed values in (field, id) order, filtered by kid, from a cursor: the batches of a rotation. */
  listSealedEntries(filter: SealedEntryFilter): SealedEntry[];
  /**
   * Compare-and-set one sealed value: replaces it with `next` only if it still equals `expected` (a concurrent
   * write wins). Returns true when replaced. The stored kid follows `next`.
   */
  replaceSealed(field: SealedField, id: string, expected: Sealed, next: Sealed): boolean;
  countRefreshLocations(): RefreshLocationCounts;
  /** Grant ids whose upstream refresh token is in `location`, in id order after `afterId`, at most `limit` (1…1000). */
  listRefreshIdsIn(location: 'sqlite' | 'keychain', afterId: string | null, limit: number): string[];
  /** The refresh token moved to the keychain: clears the sealed copy, only if it still equals `expected`. */
  markRefreshInKeychain(grantId: string, expected: Sealed): boolean;
  /** The refresh token moved back from the keychain: stores `sealed`, only if the row still says keychain. */
  markRefreshInStore(grantId: string, sealed: Sealed): boolean;

  // keyhole codes
  createCode(c: CodeRecord): void;
  /**
   * Marks the code used if it was unused and returns it with the previous `usedAt`:
   * a non-null `usedAt` in the result means this is a replay.
   */
  consumeCode(hash: TokenHash, now: number): CodeRecord | undefined;
  /** Reads a code without marking it used (the token endpoint checks client, redirect_uri and PKCE first). */
  getCode(hash: TokenHash): CodeRecord | undefined;

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

  // admin views (added for the admin page; read-only)
  /** Grant counts and last use per client id that has at least one grant (clients without grants are absent). */
  clientGrantStats(): ClientGrantStats[];
  /**
   * Events matching `filter` with `id > afterId`, oldest first (id order), at most `limit` (1…500) rows.
   * `filter.limit`/`offset` are ignored. A cursor for exports: rows appended meanwhile are neither skipped nor repeated.
   */
  scanEvents(filter: EventFilter, afterId: number, limit: number): EventRecord[];

  // upstream kinds (issue 5): auto-registration, identity-JWT signing keys, sealed static secrets
  /** Insert or replace keyhole's registration at an upstream authorization server (one per server + issuer). */
  putUpstreamRegistration(r: UpstreamRegistration): void;
  getUpstreamRegistration(server: string, issuer: string): UpstreamRegistration | undefined;
  deleteUpstreamRegistration(server: string, issuer: string): void;
  createSigningKey(k: SigningKeyRecord): void;
  /** Every signing key, oldest first (createdAt, then insertion order). */
  listSigningKeys(): SigningKeyRecord[];
  /** Makes `kid` the signing key (activatedAt = at) and retires every other active key (retiredAt = at), atomically. */
  activateSigningKey(kid: string, at: number): void;
  /** Retires a key without activating another (e.g. its private key can no longer be opened). */
  retireSigningKey(kid: string, at: number): void;
  /** Deletes keys retired at or before `before`; returns how many. */
  deleteSigningKeysRetiredBefore(before: number): number;
  /** Insert or replace a sealed secret by name (the name is also the vault ctx it was sealed for). */
  putSealedSecret(name: string, sealed: Sealed, at: number): void;
  getSealedSecret(name: string): Sealed | undefined;
  deleteSealedSecret(name: string): void;

  /** Run `fn` in one transaction. */
  transaction<T>(fn: () => T): T;
  close(): void;
}

/**
 * keyhole's own client registration at an upstream authorization server found through MCP authorization
 * discovery (RFC 9728 → RFC 8414), by dynamic registration (RFC 7591) or a client ID metadata document.
 * Secrets are vault ciphertexts sealed for ctx `upstream-client-secret:<server>:<issuer>` and
 * `upstream-registration-token:<server>:<issuer>`.
 */
export interface UpstreamRegistration {
  server: string;
  /** The authorization server's issuer, as in its metadata. */
  issuer: string;
  /** 'dcr' (RFC 7591) or 'cimd' (client_id is keyhole's client metadata document URL). */
  kind: 'dcr' | 'cimd';
  clientId: string;
  clientSecret: Sealed | null;
  /** When the client secret expires (RFC 7591 `client_secret_expires_at`); null when it does not. */
  clientSecretExpiresAt: number | null;
  tokenEndpointAuthMethod: 'client_secret_basic' | 'client_secret_post' | 'none';
  /** RFC 7592 management: the registration access token (sealed) and the client configuration endpoint. */
  registrationAccessToken: Sealed | null;
  registrationClientUri: string | null;
  /** Registered metadata as the AS returned it, secrets removed. */
  metadata: Record<string, unknown>;
  createdAt: number;
}

/**
 * A key that signs identity JWTs (ES256). Lifecycle: created as the *next* key (published in the JWKS, not used),
 * activated (signing), retired (still published until every token it signed has expired), deleted.
 * `privateKey` is the private JWK as JSON, sealed for ctx `signing-key:<kid>`.
 */
export interface SigningKeyRecord {
  /** RFC 7638 thumbprint of the public key. */
  kid: string;
  alg: 'ES256';
  /** Public JWK (no private members). */
  publicJwk: Record<string, unknown>;
  privateKey: Sealed;
  createdAt: number;
  activatedAt: number | null;
  retiredAt: number | null;
}
