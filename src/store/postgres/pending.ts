/** PostgreSQL pending-authorizations repository over `pending_authorizations` (./migrations.ts; ../repositories/pending.ts). */
import type { PendingAuthorization, PendingAuthorizationRepository, Sealed, TokenHash } from '../types.js';
import { sealedKid } from '../sqlite/sealed-kid.js';
import { statement, type Executor } from './executor.js';
import { joinScopes, splitScopes } from './values.js';

interface PendingRow {
  id: string;
  request: PendingAuthorization['request'] | string;
  upstream_state_hash: string | null;
  upstream_verifier: string | null;
  upstream_scopes: string;
  grant_id: string | null;
  browser_binding_hash: string | null;
  person_id: string | null;
  created_at: number;
  expires_at: number;
}

function pendingFromRow(r: PendingRow): PendingAuthorization {
  return {
    id: r.id,
    request: typeof r.request === 'string' ? (JSON.parse(r.request) as PendingAuthorization['request']) : r.request,
    upstreamStateHash: r.upstream_state_hash,
    upstreamVerifier: r.upstream_verifier,
    upstreamScopes: splitScopes(r.upstream_scopes),
    grantId: r.grant_id,
    browserBindingHash: r.browser_binding_hash,
    personId: r.person_id,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
  };
}

const S = {
  insert: statement('pending.insert', `INSERT INTO pending_authorizations
    (id, client_id, request, upstream_state_hash, upstream_verifier, verifier_kid, upstream_scopes, grant_id, browser_binding_hash, person_id, created_at, expires_at)
    VALUES (@id, @clientId, @request, @upstreamStateHash, @upstreamVerifier, @verifierKid, @upstreamScopes, @grantId, @browserBindingHash, @personId, @createdAt, @expiresAt)`),
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
    await this.ex.run(S.insert, {
      id: pa.id,
      clientId: pa.request.clientId,
      request: JSON.stringify(pa.request),
      upstreamStateHash: pa.upstreamStateHash,
      upstreamVerifier: pa.upstreamVerifier,
      verifierKid: sealedKid(pa.upstreamVerifier),
      upstreamScopes: joinScopes(pa.upstreamScopes),
      grantId: pa.grantId,
      browserBindingHash: pa.browserBindingHash ?? null,
      personId: pa.personId ?? null,
      createdAt: pa.createdAt,
      expiresAt: pa.expiresAt,
    });
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
