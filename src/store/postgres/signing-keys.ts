/** PostgreSQL signing-keys repository over `signing_keys` (./migrations.ts; ../repositories/signing-keys.ts). */
import type { SigningKeyRecord, SigningKeyRepository } from '../types.js';
import { statement, type Executor } from './executor.js';
import { jsonText, objectOf } from './values.js';

interface SigningKeyRow {
  kid: string;
  alg: 'ES256';
  public_jwk: unknown;
  private_key: string;
  created_at: number;
  activated_at: number | null;
  retired_at: number | null;
}

const S = {
  insert: statement('signing-keys.insert', `INSERT INTO signing_keys (kid, alg, public_jwk, private_key, created_at, activated_at, retired_at)
    VALUES (@kid, @alg, @publicJwk, @privateKey, @createdAt, @activatedAt, @retiredAt)`),
  list: statement<SigningKeyRow>('signing-keys.list', 'SELECT * FROM signing_keys ORDER BY created_at, seq'),
  activate: statement('signing-keys.activate', 'UPDATE signing_keys SET activated_at = @at, retired_at = NULL WHERE kid = @kid'),
  retireOthers: statement('signing-keys.retire-others', `UPDATE signing_keys SET retired_at = @at
    WHERE kid <> @kid AND activated_at IS NOT NULL AND retired_at IS NULL`),
  retire: statement('signing-keys.retire', 'UPDATE signing_keys SET retired_at = @at WHERE kid = @kid AND retired_at IS NULL'),
  deleteRetired: statement('signing-keys.delete-retired', 'DELETE FROM signing_keys WHERE retired_at IS NOT NULL AND retired_at <= @before'),
};

export class PostgresSigningKeys implements SigningKeyRepository {
  constructor(private readonly ex: Executor) {}

  async create(k: SigningKeyRecord): Promise<void> {
    await this.ex.run(S.insert, {
      kid: k.kid,
      alg: k.alg,
      publicJwk: jsonText(k.publicJwk),
      privateKey: k.privateKey,
      createdAt: k.createdAt,
      activatedAt: k.activatedAt,
      retiredAt: k.retiredAt,
    });
  }

  async list(): Promise<SigningKeyRecord[]> {
    return (await this.ex.rows(S.list)).map((r) => ({
      kid: r.kid,
      alg: r.alg,
      publicJwk: objectOf(r.public_jwk),
      privateKey: r.private_key,
      createdAt: r.created_at,
      activatedAt: r.activated_at,
      retiredAt: r.retired_at,
    }));
  }

  async activate(kid: string, at: number): Promise<void> {
    await this.ex.atomic(async (tx) => {
      await tx.run(S.retireOthers, { kid, at });
      await tx.run(S.activate, { kid, at });
    });
  }

  async retire(kid: string, at: number): Promise<void> {
    await this.ex.run(S.retire, { kid, at });
  }

  async deleteRetiredBefore(before: number): Promise<number> {
    return this.ex.run(S.deleteRetired, { before });
  }
}
