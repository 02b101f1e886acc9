/** SQLite signing-keys repository over `signing_keys` (migration 3, ./migrations.ts). */
import type { SigningKeyRecord, SigningKeyRepository } from '../types.js';
import type { Synchronous } from './async-repositories.js';
import { fromJson, preparer, type SqliteContext } from './shared.js';

interface SigningKeyRow {
  kid: string;
  alg: 'ES256';
  public_jwk: string;
  private_key: string;
  created_at: number;
  activated_at: number | null;
  retired_at: number | null;
}

export class SqliteSigningKeys implements Synchronous<SigningKeyRepository> {
  readonly #s;

  constructor(private readonly ctx: SqliteContext) {
    const p = preparer(ctx.db);
    this.#s = {
      insert: p(`INSERT INTO signing_keys (kid, alg, public_jwk, private_key, created_at, activated_at, retired_at)
        VALUES (@kid, @alg, @publicJwk, @privateKey, @createdAt, @activatedAt, @retiredAt)`),
      list: p<SigningKeyRow>('SELECT * FROM signing_keys ORDER BY created_at, rowid'),
      activate: p('UPDATE signing_keys SET activated_at = @at, retired_at = NULL WHERE kid = @kid'),
      retireOthers: p(`UPDATE signing_keys SET retired_at = @at
        WHERE kid <> @kid AND activated_at IS NOT NULL AND retired_at IS NULL`),
      retire: p('UPDATE signing_keys SET retired_at = @at WHERE kid = @kid AND retired_at IS NULL'),
      deleteRetired: p('DELETE FROM signing_keys WHERE retired_at IS NOT NULL AND retired_at <= @before'),
    };
  }

  create(k: SigningKeyRecord): void {
    this.#s.insert.run({
      kid: k.kid,
      alg: k.alg,
      publicJwk: JSON.stringify(k.publicJwk),
      privateKey: k.privateKey,
      createdAt: k.createdAt,
      activatedAt: k.activatedAt,
      retiredAt: k.retiredAt,
    });
  }

  list(): SigningKeyRecord[] {
    return this.#s.list.all().map((r) => ({
      kid: r.kid,
      alg: r.alg,
      publicJwk: fromJson(r.public_jwk),
      privateKey: r.private_key,
      createdAt: r.created_at,
      activatedAt: r.activated_at,
      retiredAt: r.retired_at,
    }));
  }

  activate(kid: string, at: number): void {
    this.ctx.db.transaction(() => {
      this.#s.retireOthers.run({ kid, at });
      this.#s.activate.run({ kid, at });
    })();
  }

  retire(kid: string, at: number): void {
    this.#s.retire.run({ kid, at });
  }

  deleteRetiredBefore(before: number): number {
    return this.#s.deleteRetired.run({ before }).changes;
  }
}
