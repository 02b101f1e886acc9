/** PostgreSQL pending-authorizations repository over `pending_authorizations` (./migrations.ts; ../repositories/pending.ts). */
import type { PendingAuthorization, PendingAuthorizationRepository, Sealed, TokenHash } from '../types.js';
import { sealedKid } from '../rows/sealed-kid.js';
import { statement, type Executor } from './executor.js';
import { joinScopes } from './values.js';
import { PENDING_INSERT, pendingFromRow, pendingParams, type PendingRow } from '../rows/pending-rows.js';

const S = {
  insert: statement('pending.insert', PENDING_INSERT),
  get: statement<PendingRow>('pending.get', 'SELECT * FROM pending_authorizations WHERE id = @id'),
  attachUpstream: statement('pending.attach-upstream', `UPDATE pending_authorizations
    SET upstream_state_hash = @stateHash, upstream_verifier = @verifier, verifier_kid = @verifierKid, upstream_scopes = @scopes,
      browser_binding_hash = @bindingHash
    WHERE id = @id`),
  takeByState: statement<PendingRow>('pending.take-by-state', 'DELETE FROM pending_authorizations WHERE upstream_state_hash = @stateHash RETURNING *'),
  delete: statement('pending.delete', 'DELETE FROM pending_authorizations WHERE id = @id'),
  deleteExpired: statement('pending.delete-expired', 'DELETE FROM pending_authorizations WHERE expires_at <= @now'),
};

export class PostgresPending implements PendingAuthorizationRepository {
  constructor(private readonly ex: Executor) {}

  async create(pa: PendingAuthorization): Promise<void> {
    await this.ex.run(S.insert, pendingParams(pa));
  }

  async find(id: string): Promise<PendingAuthorization | undefined> {
    const row = await this.ex.one(S.get, { id });
    return row && pendingFromRow(row);
  }

  async attachUpstream(id: string, upstreamStateHash: TokenHash, upstreamVerifier: Sealed, upstreamScopes: string[], browserBindingHash?: TokenHash): Promise<void> {
    await this.ex.run(S.attachUpstream, {
      id,
      stateHash: upstreamStateHash,
      verifier: upstreamVerifier,
      verifierKid: sealedKid(upstreamVerifier),
      scopes: joinScopes(upstreamScopes),
      bindingHash: browserBindingHash ?? null,
    });
  }

  /** One DELETE … RETURNING: of concurrent calls exactly one gets the row; an expired one is deleted and not returned. */
  async takeByUpstreamState(stateHash: TokenHash, now: number): Promise<PendingAuthorization | undefined> {
    const row = await this.ex.one(S.takeByState, { stateHash });
    if (!row) return undefined;
    return row.expires_at <= now ? undefined : pendingFromRow(row);
  }

  async delete(id: string): Promise<void> {
    await this.ex.run(S.delete, { id });
  }

  async deleteExpired(now: number): Promise<number> {
    return this.ex.run(S.deleteExpired, { now });
  }
}
