/** PostgreSQL sealed-secrets repository over `sealed_secrets` (./migrations.ts; ../repositories/sealed-secrets.ts). */
import type { Sealed, SealedSecretRepository } from '../types.js';
import { statement, type Executor } from './executor.js';

const S = {
  put: statement('sealed-secrets.put', `INSERT INTO sealed_secrets (name, sealed, updated_at) VALUES (@name, @sealed, @at)
    ON CONFLICT (name) DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at`),
  putIfAbsent: statement('sealed-secrets.put-if-absent', `INSERT INTO sealed_secrets (name, sealed, updated_at) VALUES (@name, @sealed, @at)
    ON CONFLICT (name) DO NOTHING`),
  get: statement<{ sealed: string }>('sealed-secrets.get', 'SELECT sealed FROM sealed_secrets WHERE name = @name'),
  delete: statement('sealed-secrets.delete', 'DELETE FROM sealed_secrets WHERE name = @name'),
};

export class PostgresSealedSecrets implements SealedSecretRepository {
  constructor(private readonly ex: Executor) {}

  async put(name: string, sealed: Sealed, at: number): Promise<void> {
    await this.ex.run(S.put, { name, sealed, at });
  }

  async putIfAbsent(name: string, sealed: Sealed, at: number): Promise<boolean> {
    return (await this.ex.run(S.putIfAbsent, { name, sealed, at })) > 0;
  }

  async find(name: string): Promise<Sealed | undefined> {
    return (await this.ex.one(S.get, { name }))?.sealed;
  }

  async delete(name: string): Promise<void> {
    await this.ex.run(S.delete, { name });
  }
}
