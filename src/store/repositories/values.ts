/**
 * Value conventions shared by every repository:
 * - Times are integer seconds since the epoch (`now` is always passed in, never read from the clock here).
 * - keyhole's own codes and tokens are stored as SHA-256 hashes only (`TokenHash`, lowercase hex of 64 chars).
 * - Upstream secrets are stored only as vault ciphertexts (`Sealed`, produced by the vault cipher); the store
 *   never sees a plaintext upstream token.
 */

/** Lowercase hex SHA-256 of a token value. */
export type TokenHash = string;
/** A vault ciphertext (compact JWE `dir`/`A256GCM` carrying its key id `kid`). */
export type Sealed = string;
