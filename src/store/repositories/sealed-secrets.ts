/**
 * Sealed secrets: named vault ciphertexts (static upstream credentials, …).
 *
 * Table `sealed_secrets` (SQLite: ../sqlite/sealed-secrets.ts), keyed by `name`, which is also the vault ctx the
 * value was sealed for.
 */
import type { Sealed } from './values.js';

export interface SealedSecretRepository {
  /** Insert or replace a sealed secret by name. */
  put(name: string, sealed: Sealed, at: number): Promise<void>;
  /** Insert a sealed secret only when the name is free (the first of several instances wins); true when inserted. */
  putIfAbsent(name: string, sealed: Sealed, at: number): Promise<boolean>;
  find(name: string): Promise<Sealed | undefined>;
  delete(name: string): Promise<void>;
}
