/**
 * Vault entries: every vault ciphertext the store holds, across tables, by key id (for key rotation).
 *
 * Not a table of its own: a view over the sealed columns listed in SealedField (SQLite: ../sqlite/vault-entries.ts).
 */
import type { Sealed } from './values.js';

/**
 * Where a vault ciphertext is stored, for key rotation. EVERY `Sealed` value the store holds is one of these (a new
 * sealed column must be added here, to the store's vault-entry queries and to src/vault/key-rotation.ts):
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

export interface VaultEntryRepository {
  /** How many sealed values each kid holds, per field, ordered by field then kid. Fields/kids with no entries are absent. */
  countByKid(): Promise<SealedKidCount[]>;
  /** Sealed values in (field, id) order, filtered by kid, from a cursor: the batches of a rotation. */
  list(filter: SealedEntryFilter): Promise<SealedEntry[]>;
  /**
   * Compare-and-set one sealed value: replaces it with `next` only if it still equals `expected` (a concurrent
   * write wins). Returns true when replaced. The stored kid follows `next`.
   */
  replace(field: SealedField, id: string, expected: Sealed, next: Sealed): Promise<boolean>;
}
