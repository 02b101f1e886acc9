/**
 * Identity-JWT signing keys (ES256).
 *
 * Table `signing_keys` (SQLite: ../sqlite/signing-keys.ts), keyed by `kid` (RFC 7638 thumbprint of the public key).
 */
import type { Sealed } from './values.js';

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

export interface SigningKeyRepository {
  create(k: SigningKeyRecord): Promise<void>;
  /** Every signing key, oldest first (createdAt, then insertion order). */
  list(): Promise<SigningKeyRecord[]>;
  /** Makes `kid` the signing key (activatedAt = at) and retires every other active key (retiredAt = at), atomically. */
  activate(kid: string, at: number): Promise<void>;
  /** Retires a key without activating another (e.g. its private key can no longer be opened). */
  retire(kid: string, at: number): Promise<void>;
  /** Deletes keys retired at or before `before`; returns how many. */
  deleteRetiredBefore(before: number): Promise<number>;
}
