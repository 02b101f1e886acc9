/**
 * The key id a stored vault ciphertext names, kept in its own column (`*_kid`) beside the ciphertext so that key
 * rotation can count and select entries by key without parsing every row.
 */
import { VaultCipher } from '../crypto/vault-cipher.js';
import type { Sealed } from '../types.js';

/** The `kid` from the protected header (unauthenticated), or null when the value is not a readable vault ciphertext. */
export function sealedKid(sealed: Sealed | null | undefined): string | null {
  if (sealed == null) return null;
  try {
    return VaultCipher.kidOf(sealed);
  } catch {
    return null;
  }
}
