/** SQLite pending-authorizations repository over `pending_authorizations` (./migrations.ts). */
import type { PendingAuthorization, PendingAuthorizationRepository, Sealed, TokenHash } from '../types.js';
import type { Synchronous } from './async-repositories.js';
import { sealedKid } from './sealed-kid.js';
import { joinScopes, preparer, splitScopes, type SqliteContext } from './shared.js';

interface PendingRow {
  id: string;
  client_id: string;
  request: string;
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
    request: JSON.parse(r.request) as PendingAuthorization['request'],
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

export class SqlitePending implements Synchronous<PendingAuthorizationRepository> {
  readonly #s;

  constructor(private readonly ctx: SqliteContext) {
    const p = preparer(ctx.db);
    this.#s = {
      insert: p(`INSERT INTO pending_authorizations
        (id, client_id, request, upstream_state_hash, upstream_verifier, verifier_kid, upstream_scopes, grant_id, browser_binding_hash, person_id, created_at, expires_at)
        VALUES (@id, @clientId, @request, @upstreamStateHash, @upstreamVerifier, @verifierKid, @upstreamScopes, @grantId, @browserBindingHash, @personId, @createdAt, @expiresAt)`),
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
    this.#s.insert.run({
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
