/**
 * The `pending_authorizations` row shape, its mapping and its INSERT, shared by both engines (../sqlite/pending.ts,
 * ../postgres/pending.ts; the repository is documented in ../repositories/pending.ts). `request` is JSON text in
 * SQLite and `json` (parsed by node-postgres) in PostgreSQL.
 */
import type { PendingAuthorization } from '../repositories/pending.js';
import { sealedKid } from './sealed-kid.js';
import { joinScopes, splitScopes, type Params } from './sql-values.js';

export interface PendingRow {
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

export const PENDING_INSERT = `INSERT INTO pending_authorizations
  (id, client_id, request, upstream_state_hash, upstream_verifier, verifier_kid, upstream_scopes, grant_id, browser_binding_hash, person_id, created_at, expires_at)
  VALUES (@id, @clientId, @request, @upstreamStateHash, @upstreamVerifier, @verifierKid, @upstreamScopes, @grantId, @browserBindingHash, @personId, @createdAt, @expiresAt)`;

export function pendingFromRow(r: PendingRow): PendingAuthorization {
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

/** The parameters of PENDING_INSERT. */
export function pendingParams(pa: PendingAuthorization): Params {
  return {
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
  };
}
