/** PostgreSQL upstream-registrations repository over `upstream_registrations` (./migrations.ts; ../repositories/upstream-registrations.ts). */
import type { UpstreamRegistration, UpstreamRegistrationRepository } from '../types.js';
import { statement, type Executor } from './executor.js';
import { jsonText, objectOf } from './values.js';

interface RegistrationRow {
  server: string;
  issuer: string;
  kind: UpstreamRegistration['kind'];
  client_id: string;
  client_secret: string | null;
  client_secret_expires_at: number | null;
  token_endpoint_auth_method: UpstreamRegistration['tokenEndpointAuthMethod'];
  registration_access_token: string | null;
  registration_client_uri: string | null;
  metadata: unknown;
  created_at: number;
}

const S = {
  put: statement('registrations.put', `INSERT INTO upstream_registrations
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
      created_at = excluded.created_at`),
  get: statement<RegistrationRow>('registrations.get', 'SELECT * FROM upstream_registrations WHERE server = @server AND issuer = @issuer'),
  delete: statement('registrations.delete', 'DELETE FROM upstream_registrations WHERE server = @server AND issuer = @issuer'),
};

export class PostgresUpstreamRegistrations implements UpstreamRegistrationRepository {
  constructor(private readonly ex: Executor) {}

  async put(r: UpstreamRegistration): Promise<void> {
    await this.ex.run(S.put, {
      server: r.server,
      issuer: r.issuer,
      kind: r.kind,
      clientId: r.clientId,
      clientSecret: r.clientSecret,
      clientSecretExpiresAt: r.clientSecretExpiresAt,
      tokenEndpointAuthMethod: r.tokenEndpointAuthMethod,
      registrationAccessToken: r.registrationAccessToken,
      registrationClientUri: r.registrationClientUri,
      metadata: jsonText(r.metadata),
      createdAt: r.createdAt,
    });
  }

  async find(server: string, issuer: string): Promise<UpstreamRegistration | undefined> {
    const r = await this.ex.one(S.get, { server, issuer });
    return r && {
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

  async delete(server: string, issuer: string): Promise<void> {
    await this.ex.run(S.delete, { server, issuer });
  }
}
