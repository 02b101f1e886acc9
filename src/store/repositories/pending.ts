/**
 * Pending authorizations: an MCP client's authorization request, kept while the user consents and while the
 * upstream round trip runs (at most 10 minutes).
 *
 * Table `pending_authorizations` (SQLite: ../sqlite/pending.ts), id `p_<22 base64url>`; the upstream state is
 * stored as its SHA-256 only, the upstream PKCE verifier sealed (its key id in `verifier_kid`).
 */
import type { Sealed, TokenHash } from './values.js';

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
  /** The signed-in person (issue 13, `identity` on) whose authorization this is; null (or absent on create) without. */
  personId?: string | null;
  createdAt: number;
  expiresAt: number;
}

export interface PendingAuthorizationRepository {
  create(p: PendingAuthorization): Promise<void>;
  find(id: string): Promise<PendingAuthorization | undefined>;
  /** Attach the upstream state/PKCE (and the hash of the browser-binding cookie) after consent. */
  attachUpstream(id: string, upstreamStateHash: TokenHash, upstreamVerifier: Sealed, upstreamScopes: string[], browserBindingHash?: TokenHash): Promise<void>;
  /**
   * Atomically fetch and delete the pending authorization for an upstream state (single use); an expired one
   * (`expiresAt <= now`) is deleted and not returned.
   */
  takeByUpstreamState(stateHash: TokenHash, now: number): Promise<PendingAuthorization | undefined>;
  delete(id: string): Promise<void>;
  /** Deletes those with `expiresAt <= now`; returns how many. */
  deleteExpired(now: number): Promise<number>;
}
