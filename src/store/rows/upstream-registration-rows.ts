/**
 * The `upstream_registrations` row shape, its mapping and its upsert, shared by both engines
 * (../sqlite/upstream-registrations.ts, ../postgres/upstream-registrations.ts; ../repositories/upstream-registrations.ts).
 */
import type { UpstreamRegistration } from '../repositories/upstream-registrations.js';
import { objectOf, toJson, type Params } from './sql-values.js';

/** Insert, or replace every column of the (server, issuer) row. */
export const REGISTRATION_UPSERT = `INSERT INTO upstream_registrations
  (server, issuer, kind, client_id, client_secret, client_secret_expires_at, token_endpoint_auth_method,
   registration_access_token, registration_client_uri, metadata, created_at)
  VALUES (@server, @issuer, @kind, @clientId, @clientSecret, @clientSecretExpiresAt, @tokenEndpointAuthMethod,
   @registrationAccessToken, @registrationClientUri, @metadata, @createdAt)
  ON CONFLICT (server, issuer) DO UPDATE SET
    kind = excluded.kind, client_id = excluded.client_id, client_secret = excluded.client_secret,
    client_secret_expires_at = excluded.client_secret_expires_at,
    token_endpoint_auth_method = excluded.token_endpoint_auth_method,
    registration_access_token = excluded.registration_access_token,
    registration_client_uri = excluded.registration_client_uri, metadata = excluded.metadata,
    created_at = excluded.created_at`;

export interface RegistrationRow {
  server: string;
  issuer: string;
  kind: UpstreamRegistration['kind'];
  client_id: string;
  client_secret: string | null;
  client_secret_expires_at: number | null;
  token_endpoint_auth_method: UpstreamRegistration['tokenEndpointAuthMethod'];
  registration_access_token: string | null;
  registration_client_uri: string | null;
  /** JSON text from SQLite, parsed from PostgreSQL (`json`). */
  metadata: unknown;
  created_at: number;
}

export function registrationFromRow(r: RegistrationRow): UpstreamRegistration {
  return {
    server: r.server,
    issuer: r.issuer,
    kind: r.kind,
    clientId: r.client_id,
    clientSecret: r.client_secret,
    clientSecretExpiresAt: r.client_secret_expires_at,
    tokenEndpointAuthMethod: r.token_endpoint_auth_method,
    registrationAccessToken: r.registration_access_token,
    registrationClientUri: r.registration_client_uri,
    metadata: objectOf(r.metadata),
    createdAt: r.created_at,
  };
}

/** The parameters of REGISTRATION_UPSERT. */
export function registrationParams(r: UpstreamRegistration): Params {
  return {
    server: r.server,
    issuer: r.issuer,
    kind: r.kind,
    clientId: r.clientId,
    clientSecret: r.clientSecret,
    clientSecretExpiresAt: r.clientSecretExpiresAt,
    tokenEndpointAuthMethod: r.tokenEndpointAuthMethod,
    registrationAccessToken: r.registrationAccessToken,
    registrationClientUri: r.registrationClientUri,
    metadata: toJson(r.metadata),
    createdAt: r.createdAt,
  };
}
