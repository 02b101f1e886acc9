/** SQLite sealed-secrets repository over `sealed_secrets` (migration 3, ./migrations.ts). */
import type { Sealed, SealedSecretRepository } from '../types.js';
import type { Synchronous } from './async-repositories.js';
import { preparer, type SqliteContext } from './shared.js';

export class SqliteSealedSecrets implements Synchronous<SealedSecretRepository> {
  readonly #s;

  constructor(ctx: SqliteContext) {
    const p = preparer(ctx.db);
    this.#s = {
      put: p(`INSERT INTO sealed_secrets (name, sealed, updated_at) VALUES (@name, @sealed, @at)
        ON CONFLICT (name) DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at`),
      putIfAbsent: p(`INSERT INTO sealed_secrets (name, sealed, updated_at) VALUES (@name, @sealed, @at) ON CONFLICT (name) DO NOTHING`),
      get: p<{ sealed: string }>('SELECT sealed FROM sealed_secrets WHERE name = @name'),
      delete: p('DELETE FROM sealed_secrets WHERE name = @name'),
    };
  }

  put(name: string, sealed: Sealed, at: number): void {
    this.#s.put.run({ name, sealed, at });
  }

  putIfAbsent(name: string, sealed: Sealed, at: number): boolean {
    return this.#s.putIfAbsent.run({ name, sealed, at }).changes > 0;
  }

  find(name: string): Sealed | undefined {
    return this.#s.get.get({ name })?.sealed;
  }

  delete(name: string): void {
    this.#s.delete.run({ name });
  }
}
