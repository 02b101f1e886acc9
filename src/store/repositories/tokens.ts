/**
 * keyhole's own authorization codes, access tokens and refresh tokens, stored as SHA-256 hashes only.
 *
 * Tables `codes`, `access_tokens`, `refresh_tokens` (SQLite: ../sqlite/tokens.ts), keyed by `hash` (lowercase hex
 * SHA-256 of the value). Each row names its grant (`g_…`, a foreign key: creating one for an unknown grant fails)
 * and its family (`f_<22 base64url>`: every token descending from one code, revoked together on a replay).
 * Revocation timestamps keep the first revocation.
 */
import type { GrantStatus } from './grants.js';
import type { TokenHash } from './values.js';

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
  /** The grant's person (issue 13); null without `identity`. Rate limits and the audit log key on it. */
  personId: string | null;
}

export interface TokenRepository {
  createCode(c: CodeRecord): Promise<void>;
  /** Reads a code without marking it used (the token endpoint checks client, redirect_uri and PKCE first). */
  findCode(hash: TokenHash): Promise<CodeRecord | undefined>;
  /**
   * Marks the code used if it was unused and returns it with the previous `usedAt`:
   * a non-null `usedAt` in the result means this is a replay.
   */
  consumeCode(hash: TokenHash, now: number): Promise<CodeRecord | undefined>;
  createAccess(t: AccessTokenRecord): Promise<void>;
  /** The hot path (every MCP request): the token joined with its grant. Implementations may cache it. */
  findAccess(hash: TokenHash): Promise<AccessTokenLookup | undefined>;
  revokeAccess(hash: TokenHash, at: number): Promise<void>;
  createRefresh(t: RefreshTokenRecord): Promise<void>;
  findRefresh(hash: TokenHash): Promise<RefreshTokenRecord | undefined>;
  /** Sets usedAt if it was null; returns true when this call did it. */
  markRefreshUsed(hash: TokenHash, at: number): Promise<boolean>;
  /** Revokes every code (marked used), access and refresh token of a family. */
  revokeFamily(familyId: string, at: number): Promise<void>;
}
