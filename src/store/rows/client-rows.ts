/**
 * The `clients` row shape, its mapping, its write parameters and the admin list filter, shared by both engines
 * (../sqlite/clients.ts, ../postgres/clients.ts; the repository is documented in ../repositories/clients.ts).
 */
import type { ClientFilter, ClientKind, ClientListEntry, ClientRecord } from '../repositories/clients.js';
import { equalsWhere, objectOf, toJson, whereOf, type Params } from './sql-values.js';

/** The INSERT both engines run (upsert adds its own ON CONFLICT clause). */
export const CLIENT_INSERT = `INSERT INTO clients (client_id, kind, metadata, secret_hash, created_at, blocked_at, last_used_at)
  VALUES (@clientId, @kind, @metadata, @secretHash, @createdAt, @blockedAt, @lastUsedAt)`;

export interface ClientRow {
  client_id: string;
  kind: ClientKind;
  /** JSON text from SQLite, parsed from PostgreSQL (`json`). */
  metadata: unknown;
  secret_hash: string | null;
  created_at: number;
  blocked_at: number | null;
  last_used_at: number | null;
}

export interface ClientListRow extends ClientRow {
  grant_count: number;
  active_count: number;
  grant_last_used: number | null;
}

export function clientFromRow(r: ClientRow): ClientRecord {
  return {
    clientId: r.client_id,
    kind: r.kind,
    metadata: objectOf(r.metadata),
    secretHash: r.secret_hash,
    createdAt: r.created_at,
    blockedAt: r.blocked_at,
    lastUsedAt: r.last_used_at,
  };
}

export function entryFromRow(r: ClientListRow): ClientListEntry {
  return {
    ...clientFromRow(r),
    lastUsedAt: r.last_used_at,
    grantCount: r.grant_count,
    activeGrantCount: r.active_count,
    grantLastUsedAt: r.grant_last_used,
  };
}

/** The row parameters of a client, shared by insert and upsert. */
export function clientParams(client: ClientRecord): Params {
  return {
    clientId: client.clientId,
    kind: client.kind,
    metadata: toJson(client.metadata),
    secretHash: client.secretHash,
    createdAt: client.createdAt,
    blockedAt: client.blockedAt,
    lastUsedAt: client.lastUsedAt ?? null,
  };
}

/** The WHERE clause of a client filter; every value is a bound parameter. */
export function clientWhere(filter: ClientFilter): { where: string; params: Params } {
  const { clauses, params } = equalsWhere({ kind: filter.kind });
  if (filter.unusedSince != null) {
    // The expression of idx_clients_kind_last_use.
    clauses.push('coalesce(last_used_at, created_at) < @unusedSince');
    params.unusedSince = filter.unusedSince;
  }
  if (filter.neverUsed != null) clauses.push(filter.neverUsed ? 'last_used_at IS NULL' : 'last_used_at IS NOT NULL');
  return { where: whereOf(clauses), params };
}
