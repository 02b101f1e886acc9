/** SQLite pending-authorizations repository over `pending_authorizations` (./migrations.ts). */
import type { PendingAuthorization, PendingAuthorizationRepository, Sealed, TokenHash } from '../types.js';
import type { Synchronous } from './async-repositories.js';
import { sealedKid } from '../rows/sealed-kid.js';
import { joinScopes, preparer, type SqliteContext } from './shared.js';
import { PENDING_INSERT, pendingFromRow, pendingParams, type PendingRow } from '../rows/pending-rows.js';

export class SqlitePending implements Synchronous<PendingAuthorizationRepository> {
  readonly #s;

  constructor(private readonly ctx: SqliteContext) {
    const p = preparer(ctx.db);
    this.#s = {
      insert: p(PENDING_INSERT),
      get: p<PendingRow>('SELECT * FROM pending_authorizations WHERE id = @id'),
      getByState: p<PendingRow>('SELECT * FROM pending_authorizations WHERE upstream_state_hash = @stateHash'),
      attachUpstream: p(`UPDATE pending_authorizations
        SET upstream_state_hash = @stateHash, upstream_verifier = @verifier, verifier_kid = @verifierKid, upstream_scopes = @scopes,
          browser_binding_hash = @bindingHash
        WHERE id = @id`),
      delete: p('DELETE FROM pending_authorizations WHERE id = @id'),
      deleteExpired: p('DELETE FROM pending_authorizations WHERE expires_at <= @now'),
    };
  }

  create(pa: PendingAuthorization): void {
    this.#s.insert.run(pendingParams(pa));
  }

  find(id: string): PendingAuthorization | undefined {
    const row = this.#s.get.get({ id });
    return row && pendingFromRow(row);
  }

  attachUpstream(id: string, upstreamStateHash: TokenHash, upstreamVerifier: Sealed, upstreamScopes: string[], browserBindingHash?: TokenHash): void {
    this.#s.attachUpstream.run({
      id,
      stateHash: upstreamStateHash,
      verifier: upstreamVerifier,
      verifierKid: sealedKid(upstreamVerifier),
      scopes: joinScopes(upstreamScopes),
      bindingHash: browserBindingHash ?? null,
    });
  }

  /** Fetches and deletes in one transaction; an expired one (`expiresAt <= now`) is deleted and not returned. */
  takeByUpstreamState(stateHash: TokenHash, now: number): PendingAuthorization | undefined {
    return this.ctx.db.transaction(() => {
      const row = this.#s.getByState.get({ stateHash });
      if (!row) return undefined;
      this.#s.delete.run({ id: row.id });
      return row.expires_at <= now ? undefined : pendingFromRow(row);
    })();
  }

  delete(id: string): void {
    this.#s.delete.run({ id });
  }

  deleteExpired(now: number): number {
    return this.#s.deleteExpired.run({ now }).changes;
  }
}
