/** SQLite upstream-registrations repository over `upstream_registrations` (migration 3, ./migrations.ts). */
import type { UpstreamRegistration, UpstreamRegistrationRepository } from '../types.js';
import type { Synchronous } from './async-repositories.js';
import { fromJson, preparer, type SqliteContext } from './shared.js';

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
  metadata: string;
  created_at: number;
}

function registrationFromRow(r: RegistrationRow): UpstreamRegistration {
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
    metadata: fromJson(r.metadata),
    createdAt: r.created_at,
  };
}

export class SqliteUpstreamRegistrations implements Synchronous<UpstreamRegistrationRepository> {
  readonly #s;

  constructor(ctx: SqliteContext) {
    const p = preparer(ctx.db);
    this.#s = {
      put: p(`INSERT INTO upstream_registrations
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
      get: p<RegistrationRow>('SELECT * FROM upstream_registrations WHERE server = @server AND issuer = @issuer'),
      delete: p('DELETE FROM upstream_registrations WHERE server = @server AND issuer = @issuer'),
    };
  }

  put(r: UpstreamRegistration): void {
    this.#s.put.run({
      server: r.server,
      issuer: r.issuer,
      kind: r.kind,
      clientId: r.clientId,
      clientSecret: r.clientSecret,
      clientSecretExpiresAt: r.clientSecretExpiresAt,
      tokenEndpointAuthMethod: r.tokenEndpointAuthMethod,
      registrationAccessToken: r.registrationAccessToken,
      registrationClientUri: r.registrationClientUri,
      metadata: JSON.stringify(r.metadata ?? {}),
      createdAt: r.createdAt,
    });
  }

  find(server: string, issuer: string): UpstreamRegistration | undefined {
    const row = this.#s.get.get({ server, issuer });
    return row && registrationFromRow(row);
  }

  delete(server: string, issuer: string): void {
    this.#s.delete.run({ server, issuer });
  }
}
