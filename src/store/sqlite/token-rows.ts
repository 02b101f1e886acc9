/** Row types and mappers of `codes`, `access_tokens` and `refresh_tokens` (./migrations.ts). */
import type { AccessTokenRecord, CodeRecord, RefreshTokenRecord } from '../types.js';
import { splitScopes } from './shared.js';

export interface CodeRow {
  hash: string;
  grant_id: string;
  family_id: string;
  client_id: string;
  redirect_uri: string;
  code_challenge: string;
  resource: string;
  scopes: string;
  expires_at: number;
  used_at: number | null;
}
export interface AccessTokenRow {
  hash: string;
  grant_id: string;
  family_id: string;
  client_id: string;
  resource: string;
  scopes: string;
  expires_at: number;
  revoked_at: number | null;
}
export interface RefreshTokenRow extends AccessTokenRow {
  used_at: number | null;
}

export function codeFromRow(r: CodeRow): CodeRecord {
  return {
    hash: r.hash,
    grantId: r.grant_id,
    familyId: r.family_id,
    clientId: r.client_id,
    redirectUri: r.redirect_uri,
    codeChallenge: r.code_challenge,
    resource: r.resource,
    scopes: splitScopes(r.scopes),
    expiresAt: r.expires_at,
    usedAt: r.used_at,
  };
}
export function accessFromRow(r: AccessTokenRow): AccessTokenRecord {
  return {
    hash: r.hash,
    grantId: r.grant_id,
    familyId: r.family_id,
    clientId: r.client_id,
    resource: r.resource,
    scopes: splitScopes(r.scopes),
    expiresAt: r.expires_at,
    revokedAt: r.revoked_at,
  };
}
export function refreshFromRow(r: RefreshTokenRow): RefreshTokenRecord {
  return {
    hash: r.hash,
    grantId: r.grant_id,
    familyId: r.family_id,
    clientId: r.client_id,
    resource: r.resource,
    scopes: splitScopes(r.scopes),
    expiresAt: r.expires_at,
    usedAt: r.used_at,
    revokedAt: r.revoked_at,
  };
}
