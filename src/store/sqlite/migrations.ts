/**
 * SQLite schema, as ordered migrations tracked by `PRAGMA user_version`.
 *
 * Rules: never edit a shipped migration; append a new one. Each migration runs in its own transaction together
 * with the `user_version` bump, so a failure leaves the database at the previous version.
 *
 * ## Tables (migration 1)
 * Times are INTEGER seconds since the epoch. Scope lists are space-separated strings (RFC 6749 §3.3 scope-tokens
 * cannot contain spaces). JSON columns hold objects serialized with JSON.stringify.
 *
 * - `clients` — registered MCP clients. `client_id`: `c_<22 base64url>` for DCR, the https URL for CIMD,
 *   the configured name for static clients. `metadata` JSON (RFC 7591 names), `secret_hash` SHA-256 hex or NULL.
 * - `pending_authorizations` — a client's authorization request kept during consent and the upstream round trip
 *   (≤10 min). `id`: `p_<22>`. `request` JSON (ClientAuthorizationRequest), `client_id` copied out of it for
 *   clean-up. `upstream_state_hash` SHA-256 hex of the upstream `state` (unique when set), `upstream_verifier` a
 *   vault ciphertext. `grant_id` the grant a step-up widens (FK, cascade).
 * - `grants` — one per (client, server, upstream subject) authorization. `id`: `g_<22>`. `status` 'active' | 'revoked'.
 *   Grants are never deleted: they are the audit history. `client_id` has NO foreign key to `clients`: a client can be
 *   deleted while its grants remain as history, and static clients (from config) need not have a row.
 * - `upstream_credentials` — per grant, the upstream tokens as vault ciphertexts. PK `grant_id` (FK grants, cascade).
 *   The row is deleted when the grant is revoked.
 * - `codes` — keyhole authorization codes, by `hash` (SHA-256 hex of the code value; the value is never stored).
 *   `family_id`: `f_<22>`, shared by the code and every access/refresh token issued from it. FK grants.
 * - `access_tokens`, `refresh_tokens` — keyhole tokens by `hash` (SHA-256 hex). FK grants. Indexed by family and grant.
 * - `events` — lifecycle events. `id` INTEGER autoincrement (never reused). No foreign keys: events outlive
 *   everything they mention. `detail` JSON of ids, fingerprints and reasons; never a token value.
 *
 * ## Migration 2: vault key ids and the refresh-token location (key rotation, OS keychain vault)
 * - `upstream_credentials.access_kid`, `.refresh_kid`, `pending_authorizations.verifier_kid` — the `kid` named by the
 *   ciphertext beside it (NULL when there is none or it is unreadable); written by the store on every write, so that
 *   rotation can count and select entries by key. Existing rows are backfilled.
 * - `upstream_credentials.refresh_in_keychain` — 1 when the upstream refresh token lives in the OS keychain
 *   (account = grant id) and `refresh_token` is NULL; the row is authoritative about where the token is.
 *
 * ## Migration 3: upstream kinds (MCP auto-registration, identity mode, static credentials)
 * - `upstream_registrations` — keyhole's own client at an upstream authorization server it discovered through the
 *   upstream's protected resource metadata. PK (`server`, `issuer`). `kind` 'dcr' | 'cimd'. `client_secret` and
 *   `registration_access_token` are vault ciphertexts (ctx `upstream-client-secret:<server>:<issuer>`,
 *   `upstream-registration-token:<server>:<issuer>`); `metadata` JSON as registered, secrets removed.
 * - `signing_keys` — ES256 keys of keyhole's identity JWTs. `kid` RFC 7638 thumbprint; `public_jwk` JSON;
 *   `private_key` the private JWK, a vault ciphertext (ctx `signing-key:<kid>`). `activated_at` NULL = the next key
 *   (published, not signing yet); `retired_at` set = no longer signing, published until its tokens have expired.
 * - `sealed_secrets` — other vault ciphertexts by `name`, which is also their ctx (e.g. `static-credential:<server>`).
 *
 * ## Migration 4: browser binding of pending authorizations (issue 9 F1)
 * - `pending_authorizations.browser_binding_hash` — SHA-256 hex of the random cookie set in the browser that approved
 *   consent; NULL until approval. The upstream callback completes only with a cookie whose hash matches.
 * ## Migration 5: client use (DCR expiry, admin client filters)
 * - `clients.last_used_at` — when the client last completed an authorization (code issued at the callback) or got a
 *   token (authorization_code or refresh_token grant); NULL = never. Backfilled from the client's grants (the latest
 *   of created_at / last_used_at), so that clients in use before the upgrade are not taken for never-used ones.
 * - Indexes for the admin page and the expiry job: (kind, created_at) and (kind, coalesce(last_used_at, created_at)).
 * ## Migrations 6, 7: `approved_tools` (../repositories/approved-tools.ts), `audit_log` (../repositories/audit-log.ts).
 * ## Migration 8 (issue 13): `people`, `person_sessions` (../repositories/people.ts, ../repositories/person-sessions.ts);
 *   `grants.person_id` + the sign-in snapshot `person_email`, `person_name`, `person_groups` (JSON array), NULL without
 *   `identity`; `pending_authorizations.person_id`; `events.person_id`. No foreign keys to `people` from grants and
 *   events: they are history.
 *
 * ## Migration 9: credential versions (issue 12 §2, single-flight upstream refresh across instances)
 * - `upstream_credentials.version` — incremented by every write of the row (1 on insert); the upstream refresh writes
 *   with a compare-and-swap on it (`putIfVersion`).
 * ## Migration 10: `admin_sessions` (../repositories/admin-sessions.ts). PostgreSQL's migration 10 also adds `change_log`
 *   (the cross-instance change feed, ../postgres/change-feed.ts); SQLite needs none (one process per file).
 */
import type { Database } from 'better-sqlite3';
import { sealedKid } from '../rows/sealed-kid.js';

export type Migration = string | ((db: Database) => void);

export const MIGRATIONS: readonly Migration[] = [
  // 1: initial schema
  `
  CREATE TABLE clients (
    client_id    TEXT PRIMARY KEY,
    kind         TEXT NOT NULL CHECK (kind IN ('dcr', 'cimd', 'static')),
    metadata     TEXT NOT NULL DEFAULT '{}',
    secret_hash  TEXT,
    created_at   INTEGER NOT NULL,
    blocked_at   INTEGER
  );
  CREATE INDEX idx_clients_created ON clients (created_at);

  CREATE TABLE grants (
    id             TEXT PRIMARY KEY,
    client_id      TEXT NOT NULL,
    server         TEXT NOT NULL,
    subject        TEXT NOT NULL,
    subject_name   TEXT,
    scopes         TEXT NOT NULL DEFAULT '',
    status         TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
    status_reason  TEXT,
    created_at     INTEGER NOT NULL,
    last_used_at   INTEGER,
    revoked_at     INTEGER
  );
  CREATE INDEX idx_grants_client_server_subject ON grants (client_id, server, subject, status);
  CREATE INDEX idx_grants_server ON grants (server);
  CREATE INDEX idx_grants_subject ON grants (subject);
  CREATE INDEX idx_grants_status ON grants (status);
  CREATE INDEX idx_grants_created ON grants (created_at);

  CREATE TABLE pending_authorizations (
    id                   TEXT PRIMARY KEY,
    client_id            TEXT NOT NULL,
    request              TEXT NOT NULL,
    upstream_state_hash  TEXT,
    upstream_verifier    TEXT,
    upstream_scopes      TEXT NOT NULL DEFAULT '',
    grant_id             TEXT REFERENCES grants (id) ON DELETE CASCADE,
    created_at           INTEGER NOT NULL,
    expires_at           INTEGER NOT NULL
  );
  CREATE UNIQUE INDEX idx_pending_upstream_state ON pending_authorizations (upstream_state_hash)
    WHERE upstream_state_hash IS NOT NULL;
  CREATE INDEX idx_pending_expires ON pending_authorizations (expires_at);
  CREATE INDEX idx_pending_client ON pending_authorizations (client_id);

  CREATE TABLE upstream_credentials (
    grant_id               TEXT PRIMARY KEY REFERENCES grants (id) ON DELETE CASCADE,
    access_token           TEXT NOT NULL,
    access_expires_at      INTEGER,
    refresh_token          TEXT,
    scopes                 TEXT NOT NULL DEFAULT '',
    updated_at             INTEGER NOT NULL,
    refresh_failing_since  INTEGER
  );

  CREATE TABLE codes (
    hash            TEXT PRIMARY KEY,
    grant_id        TEXT NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
    family_id       TEXT NOT NULL,
    client_id       TEXT NOT NULL,
    redirect_uri    TEXT NOT NULL,
    code_challenge  TEXT NOT NULL,
    resource        TEXT NOT NULL,
    scopes          TEXT NOT NULL DEFAULT '',
    expires_at      INTEGER NOT NULL,
    used_at         INTEGER
  );
  CREATE INDEX idx_codes_family ON codes (family_id);
  CREATE INDEX idx_codes_grant ON codes (grant_id);

  CREATE TABLE access_tokens (
    hash        TEXT PRIMARY KEY,
    grant_id    TEXT NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
    family_id   TEXT NOT NULL,
    client_id   TEXT NOT NULL,
    resource    TEXT NOT NULL,
    scopes      TEXT NOT NULL DEFAULT '',
    expires_at  INTEGER NOT NULL,
    revoked_at  INTEGER
  );
  CREATE INDEX idx_access_tokens_family ON access_tokens (family_id);
  CREATE INDEX idx_access_tokens_grant ON access_tokens (grant_id);

  CREATE TABLE refresh_tokens (
    hash        TEXT PRIMARY KEY,
    grant_id    TEXT NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
    family_id   TEXT NOT NULL,
    client_id   TEXT NOT NULL,
    resource    TEXT NOT NULL,
    scopes      TEXT NOT NULL DEFAULT '',
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER,
    revoked_at  INTEGER
  );
  CREATE INDEX idx_refresh_tokens_family ON refresh_tokens (family_id);
  CREATE INDEX idx_refresh_tokens_grant ON refresh_tokens (grant_id);

  CREATE TABLE events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at         INTEGER NOT NULL,
    type       TEXT NOT NULL,
    grant_id   TEXT,
    client_id  TEXT,
    server     TEXT,
    subject    TEXT,
    outcome    TEXT NOT NULL CHECK (outcome IN ('success', 'failure')),
    detail     TEXT NOT NULL DEFAULT '{}'
  );
  CREATE INDEX idx_events_type ON events (type);
  CREATE INDEX idx_events_at ON events (at);
  CREATE INDEX idx_events_grant ON events (grant_id);
  CREATE INDEX idx_events_client ON events (client_id);
  `,

  // 2: vault key ids beside each ciphertext; where the upstream refresh token lives (sealed here or OS keychain)
  (db) => {
    db.exec(`
    ALTER TABLE upstream_credentials ADD COLUMN access_kid TEXT;
    ALTER TABLE upstream_credentials ADD COLUMN refresh_kid TEXT;
    ALTER TABLE upstream_credentials ADD COLUMN refresh_in_keychain INTEGER NOT NULL DEFAULT 0
      CHECK (refresh_in_keychain IN (0, 1) AND NOT (refresh_in_keychain = 1 AND refresh_token IS NOT NULL));
    ALTER TABLE pending_authorizations ADD COLUMN verifier_kid TEXT;
    CREATE INDEX idx_upstream_credentials_access_kid ON upstream_credentials (access_kid);
    CREATE INDEX idx_upstream_credentials_refresh_kid ON upstream_credentials (refresh_kid);
    CREATE INDEX idx_pending_verifier_kid ON pending_authorizations (verifier_kid);
    `);
    const setCredentialKids = db.prepare('UPDATE upstream_credentials SET access_kid = ?, refresh_kid = ? WHERE grant_id = ?');
    // .all(), not .iterate(): better-sqlite3 runs no other statement while an iterator is open.
    for (const r of db.prepare('SELECT grant_id, access_token, refresh_token FROM upstream_credentials').all() as Array<{ grant_id: string; access_token: string; refresh_token: string | null }>) {
      setCredentialKids.run(sealedKid(r.access_token), sealedKid(r.refresh_token), r.grant_id);
    }
    const setVerifierKid = db.prepare('UPDATE pending_authorizations SET verifier_kid = ? WHERE id = ?');
    for (const r of db.prepare('SELECT id, upstream_verifier FROM pending_authorizations WHERE upstream_verifier IS NOT NULL').all() as Array<{ id: string; upstream_verifier: string }>) {
      setVerifierKid.run(sealedKid(r.upstream_verifier), r.id);
    }
  },

  // 3: upstream kinds — keyhole's registrations at upstream authorization servers, identity-JWT signing keys, sealed secrets
  `
  CREATE TABLE upstream_registrations (
    server                     TEXT NOT NULL,
    issuer                     TEXT NOT NULL,
    kind                       TEXT NOT NULL CHECK (kind IN ('dcr', 'cimd')),
    client_id                  TEXT NOT NULL,
    client_secret              TEXT,
    client_secret_expires_at   INTEGER,
    token_endpoint_auth_method TEXT NOT NULL CHECK (token_endpoint_auth_method IN ('client_secret_basic', 'client_secret_post', 'none')),
    registration_access_token  TEXT,
    registration_client_uri    TEXT,
    metadata                   TEXT NOT NULL DEFAULT '{}',
    created_at                 INTEGER NOT NULL,
    PRIMARY KEY (server, issuer)
  );

  CREATE TABLE signing_keys (
    kid           TEXT PRIMARY KEY,
    alg           TEXT NOT NULL CHECK (alg IN ('ES256')),
    public_jwk    TEXT NOT NULL,
    private_key   TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    activated_at  INTEGER,
    retired_at    INTEGER
  );

  CREATE TABLE sealed_secrets (
    name        TEXT PRIMARY KEY,
    sealed      TEXT NOT NULL,
    updated_at  INTEGER NOT NULL
  );
  `,

  // 4 (issue 9 F1): the hash of the cookie binding a pending authorization to the browser that approved consent
  `
  ALTER TABLE pending_authorizations ADD COLUMN browser_binding_hash TEXT;
  `,

  // 5: client use — last completed authorization or token, for DCR expiry and the admin client filters
  `
  ALTER TABLE clients ADD COLUMN last_used_at INTEGER;
  UPDATE clients SET last_used_at = (
    SELECT max(max(g.created_at), coalesce(max(g.last_used_at), 0)) FROM grants g WHERE g.client_id = clients.client_id
  ) WHERE EXISTS (SELECT 1 FROM grants g WHERE g.client_id = clients.client_id);
  CREATE INDEX idx_clients_kind_created ON clients (kind, created_at);
  CREATE INDEX idx_clients_kind_last_use ON clients (kind, coalesce(last_used_at, created_at));
  `,

  // 6 (issue 15, pinned tools): the tool list an admin approved per server (../repositories/approved-tools.ts)
  `
  CREATE TABLE approved_tools (
    server TEXT PRIMARY KEY,
    tools TEXT NOT NULL,
    approved_by TEXT NOT NULL,
    approved_at INTEGER NOT NULL
  );
  `,

  // 7 (issue 14): the audit log, one row per MCP request (../repositories/audit-log.ts documents the columns)
  `
  CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, at_ms INTEGER NOT NULL,
    person TEXT, subject TEXT, client_id TEXT, server TEXT NOT NULL, grant_id TEXT, method TEXT, tool TEXT,
    outcome TEXT NOT NULL, http_status INTEGER NOT NULL, rpc_error_code INTEGER, denial_reason TEXT,
    ttfb_ms INTEGER, total_ms INTEGER NOT NULL, request_bytes INTEGER NOT NULL, response_bytes INTEGER NOT NULL,
    request_id TEXT NOT NULL, arguments TEXT, redactions TEXT
  );
  CREATE INDEX idx_audit_at ON audit_log (at_ms); CREATE INDEX idx_audit_server_at ON audit_log (server, at_ms);
  CREATE INDEX idx_audit_subject ON audit_log (subject, seq); CREATE INDEX idx_audit_tool ON audit_log (tool, seq);
  CREATE INDEX idx_audit_grant ON audit_log (grant_id, seq);
  `,

  // 8 (issue 13, people): people, person sessions, the person of a grant (id + sign-in snapshot), of a pending
  // authorization and of an event (../repositories/people.ts, person-sessions.ts document the columns)
  `
  CREATE TABLE people (
    id              TEXT PRIMARY KEY,
    iss             TEXT,
    sub             TEXT,
    email           TEXT,
    name            TEXT,
    idp_groups      TEXT NOT NULL DEFAULT '[]',
    status          TEXT NOT NULL CHECK (status IN ('active', 'offboarded')),
    offboarded_at   INTEGER,
    offboarded_by   TEXT,
    offboarded_via  TEXT CHECK (offboarded_via IN ('admin', 'scim', 'idp')),
    external_id     TEXT,
    user_name       TEXT,
    scim_active     INTEGER,
    created_at      INTEGER NOT NULL,
    last_seen_at    INTEGER,
    CHECK ((iss IS NULL) = (sub IS NULL))
  );
  CREATE UNIQUE INDEX idx_people_iss_sub ON people (iss, sub);
  CREATE UNIQUE INDEX idx_people_user_name ON people (lower(user_name));
  CREATE INDEX idx_people_email ON people (lower(email));
  CREATE INDEX idx_people_external_id ON people (external_id);
  CREATE INDEX idx_people_created ON people (created_at);

  CREATE TABLE person_sessions (
    hash        TEXT PRIMARY KEY,
    person_id   TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    revoked_at  INTEGER
  );
  CREATE INDEX idx_person_sessions_person ON person_sessions (person_id);
  CREATE INDEX idx_person_sessions_expires ON person_sessions (expires_at);

  ALTER TABLE grants ADD COLUMN person_id TEXT;
  ALTER TABLE grants ADD COLUMN person_email TEXT;
  ALTER TABLE grants ADD COLUMN person_name TEXT;
  ALTER TABLE grants ADD COLUMN person_groups TEXT;
  CREATE INDEX idx_grants_person ON grants (person_id, created_at);
  ALTER TABLE pending_authorizations ADD COLUMN person_id TEXT;
  ALTER TABLE events ADD COLUMN person_id TEXT;
  CREATE INDEX idx_events_person ON events (person_id, id);
  `,
  // 9 (issue 12 §2): the credential's version, for the compare-and-swap of an upstream refresh
  `ALTER TABLE upstream_credentials ADD COLUMN version INTEGER NOT NULL DEFAULT 1;`,
  // 10 (issue 12 §2): admin sessions in the database, shared by every instance (../repositories/admin-sessions.ts)
  `
  CREATE TABLE admin_sessions (
    key_hash         TEXT PRIMARY KEY,
    created_at_ms    INTEGER NOT NULL,
    last_seen_at_ms  INTEGER NOT NULL,
    expires_at_ms    INTEGER NOT NULL
  );
  CREATE INDEX idx_admin_sessions_created ON admin_sessions (created_at_ms);
  `,
  // 11 (issue 12 §2): MCP session bindings shared by every instance, the session id only as a SHA-256
  // (../repositories/mcp-sessions.ts); grant_id NULL = retired (its grant ended).
  `
  CREATE TABLE mcp_sessions (
    key_hash         TEXT PRIMARY KEY,
    grant_id         TEXT,
    server           TEXT NOT NULL,
    created_at_ms    INTEGER NOT NULL,
    last_used_at_ms  INTEGER NOT NULL
  );
  CREATE INDEX idx_mcp_sessions_grant ON mcp_sessions (grant_id);
  CREATE INDEX idx_mcp_sessions_last_used ON mcp_sessions (last_used_at_ms);
  `,
];

/** Raised when the database was written by a newer keyhole (more migrations than this build knows). */
export class SchemaVersionError extends Error {
  override name = 'SchemaVersionError';
}

/**
 * Applies every migration the database has not seen yet, each in its own transaction with its `user_version` bump.
 * Idempotent. Returns the resulting schema version (= MIGRATIONS.length).
 */
export function migrate(db: Database, migrations: readonly Migration[] = MIGRATIONS): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > migrations.length) {
    throw new SchemaVersionError(
      `database schema version ${current} is newer than this keyhole knows (${migrations.length}); upgrade keyhole`,
    );
  }
  for (let version = current + 1; version <= migrations.length; version++) {
    const migration = migrations[version - 1] as Migration;
    db.transaction(() => {
      if (typeof migration === 'string') db.exec(migration);
      else migration(db);
      // user_version lives in the database header and is part of the transaction.
      db.pragma(`user_version = ${version}`);
    }).immediate();
  }
  return migrations.length;
}
