/**
 * SQLite statements for the upstream-kinds tables of migration 3 (see ./migrations.ts): keyhole's registrations at
 * upstream authorization servers, identity-JWT signing keys and sealed secrets. SqliteStore delegates to this.
 */
import type Database from 'better-sqlite3';
import type { Sealed, SigningKeyRecord, UpstreamRegistration } from '../types.js';

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

interface SigningKeyRow {
  kid: string;
  alg: 'ES256';
  public_jwk: string;
  private_key: string;
  created_at: number;
  activated_at: number | null;
  retired_at: number | null;
}

function objectOf(json: string): Record<string, unknown> {
  const v: unknown = JSON.parse(json);
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

export class UpstreamKindsTables {
  readonly #s;

  constructor(private readonly db: Database.Database) {
    const p = <Row = unknown>(sql: string) => db.prepare<[Record<string, unknown>?], Row>(sql);
    this.#s = {
      putRegistration: p(`INSERT INTO upstream_registrations
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
      getRegistration: p<RegistrationRow>('SELECT * FROM upstream_registrations WHERE server = @server AND issuer = @issuer'),
      deleteRegistration: p('DELETE FROM upstream_registrations WHERE server = @server AND issuer = @issuer'),

      insertKey: p(`INSERT INTO signing_keys (kid, alg, public_jwk, private_key, created_at, activated_at, retired_at)
        VALUES (@kid, @alg, @publicJwk, @privateKey, @createdAt, @activatedAt, @retiredAt)`),
      listKeys: p<SigningKeyRow>('SELECT * FROM signing_keys ORDER BY created_at, rowid'),
      activateKey: p('UPDATE signing_keys SET activated_at = @at, retired_at = NULL WHERE kid = @kid'),
      retireOthers: p(`UPDATE signing_keys SET retired_at = @at
        WHERE kid <> @kid AND activated_at IS NOT NULL AND retired_at IS NULL`),
      retireKey: p('UPDATE signing_keys SET retired_at = @at WHERE kid = @kid AND retired_at IS NULL'),
      deleteRetired: p('DELETE FROM signing_keys WHERE retired_at IS NOT NULL AND retired_at <= @before'),

      putSecret: p(`INSERT INTO sealed_secrets (name, sealed, updated_at) VALUES (@name, @sealed, @at)
        ON CONFLICT (name) DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at`),
      getSecret: p<{ sealed: string }>('SELECT sealed FROM sealed_secrets WHERE name = @name'),
      deleteSecret: p('DELETE FROM sealed_secrets WHERE name = @name'),
    };
  }

  putUpstreamRegistration(r: UpstreamRegistration): void {
    this.#s.putRegistration.run({
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

  getUpstreamRegistration(server: string, issuer: string): UpstreamRegistration | undefined {
    const r = this.#s.getRegistration.get({ server, issuer });
    if (!r) return undefined;
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

  deleteUpstreamRegistration(server: string, issuer: string): void {
    this.#s.deleteRegistration.run({ server, issuer });
  }

  createSigningKey(k: SigningKeyRecord): void {
    this.#s.insertKey.run({
      kid: k.kid,
      alg: k.alg,
      publicJwk: JSON.stringify(k.publicJwk),
      privateKey: k.privateKey,
      createdAt: k.createdAt,
      activatedAt: k.activatedAt,
      retiredAt: k.retiredAt,
    });
  }

  listSigningKeys(): SigningKeyRecord[] {
    return this.#s.listKeys.all().map((r) => ({
      kid: r.kid,
      alg: r.alg,
      publicJwk: objectOf(r.public_jwk),
      privateKey: r.private_key,
      createdAt: r.created_at,
      activatedAt: r.activated_at,
      retiredAt: r.retired_at,
    }));
  }

  activateSigningKey(kid: string, at: number): void {
    this.db.transaction(() => {
      this.#s.retireOthers.run({ kid, at });
      this.#s.activateKey.run({ kid, at });
    })();
  }

  retireSigningKey(kid: string, at: number): void {
    this.#s.retireKey.run({ kid, at });
  }

  deleteSigningKeysRetiredBefore(before: number): number {
    return this.#s.deleteRetired.run({ before }).changes;
  }

  putSealedSecret(name: string, sealed: Sealed, at: number): void {
    this.#s.putSecret.run({ name, sealed, at });
  }

  getSealedSecret(name: string): Sealed | undefined {
    return this.#s.getSecret.get({ name })?.sealed;
  }

  deleteSealedSecret(name: string): void {
    this.#s.deleteSecret.run({ name });
  }
}
