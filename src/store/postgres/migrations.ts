/**
 * PostgreSQL schema, as ordered migrations tracked in `schema_migrations` (one row per applied version), applied at
 * startup by `migratePostgres` under a session-level advisory lock, so that instances starting at once apply each
 * migration exactly once (the others wait, then find nothing left to do). Each migration runs in its own transaction
 * with its `schema_migrations` row: a failure leaves the database at the previous version.
 * Rules as for SQLite: never edit a shipped migration; append one, here and in ../sqlite/migrations.ts.
 *
 * The schema: the same tables, columns and indexes as SQLite's (../sqlite/migrations.ts), migration for
 * migration, so that schema version N means the same thing on both engines. Only the types differ:
 * - times are `bigint` epoch seconds; counters and ids that SQLite keeps in INTEGER are `bigint` too;
 * - JSON columns are `json`: the exact text as written (like SQLite's TEXT), checked to be JSON. Not `jsonb`, which
 *   refuses `\u0000` in a string (a client's registration metadata may hold anything JSON.stringify writes);
 * - sealed values (vault ciphertexts), hashes, ids and space-separated scope lists are `text`;
 * - `upstream_credentials.refresh_in_keychain` is a `boolean`;
 * - ids that are ordered or compared (cursors, tie-breaks) are `text COLLATE "C"`: byte order, as in SQLite, whatever
 *   the database's default collation is.
 *
 * One addition: `clients`, `grants` and `signing_keys` have `seq bigint GENERATED ALWAYS AS IDENTITY`, the insertion
 * order that SQLite's implicit `rowid` gives (lists are "newest first, ties in insertion order"). Not part of any record.
 *
 * Each table is documented in ../sqlite/migrations.ts and ../repositories/*.ts; this file notes only what PostgreSQL
 * does differently.
 */
import type pg from 'pg';
import { backfillKids } from './backfill-kids.js';

/** One migration: SQL (may hold several statements), or a function run on the migrating connection. */
export type PostgresMigration = string | ((client: pg.ClientBase) => Promise<void>);

export const POSTGRES_MIGRATIONS: readonly PostgresMigration[] = [
  // 1: initial schema. events.id: an identity (never reused); see ./events.ts for how appends keep id order = commit order.
  `
  CREATE TABLE clients (
    client_id    text COLLATE "C" PRIMARY KEY,
    kind         text NOT NULL CHECK (kind IN ('dcr', 'cimd', 'static')),
    metadata     json NOT NULL DEFAULT '{}',
    secret_hash  text,
    created_at   bigint NOT NULL,
    blocked_at   bigint,
    seq          bigint GENERATED ALWAYS AS IDENTITY
  );
  CREATE INDEX idx_clients_created ON clients (created_at);

  CREATE TABLE grants (
    id             text COLLATE "C" PRIMARY KEY,
    client_id      text COLLATE "C" NOT NULL,
    server         text NOT NULL,
    subject        text NOT NULL,
    subject_name   text,
    scopes         text NOT NULL DEFAULT '',
    status         text NOT NULL CHECK (status IN ('active', 'revoked')),
    status_reason  text,
    created_at     bigint NOT NULL,
    last_used_at   bigint,
    revoked_at     bigint,
    seq            bigint GENERATED ALWAYS AS IDENTITY
  );
  CREATE INDEX idx_grants_client_server_subject ON grants (client_id, server, subject, status);
  CREATE INDEX idx_grants_server ON grants (server);
  CREATE INDEX idx_grants_subject ON grants (subject);
  CREATE INDEX idx_grants_status ON grants (status);
  CREATE INDEX idx_grants_created ON grants (created_at);

  CREATE TABLE pending_authorizations (
    id                   text COLLATE "C" PRIMARY KEY,
    client_id            text COLLATE "C" NOT NULL,
    request              json NOT NULL,
    upstream_state_hash  text,
    upstream_verifier    text,
    upstream_scopes      text NOT NULL DEFAULT '',
    grant_id             text COLLATE "C" REFERENCES grants (id) ON DELETE CASCADE,
    created_at           bigint NOT NULL,
    expires_at           bigint NOT NULL
  );
  CREATE UNIQUE INDEX idx_pending_upstream_state ON pending_authorizations (upstream_state_hash)
    WHERE upstream_state_hash IS NOT NULL;
  CREATE INDEX idx_pending_expires ON pending_authorizations (expires_at);
  CREATE INDEX idx_pending_client ON pending_authorizations (client_id);

  CREATE TABLE upstream_credentials (
    grant_id               text COLLATE "C" PRIMARY KEY REFERENCES grants (id) ON DELETE CASCADE,
    access_token           text NOT NULL,
    access_expires_at      bigint,
    refresh_token          text,
    scopes                 text NOT NULL DEFAULT '',
    updated_at             bigint NOT NULL,
    refresh_failing_since  bigint
  );

  CREATE TABLE codes (
    hash            text PRIMARY KEY,
    grant_id        text COLLATE "C" NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
    family_id       text NOT NULL,
    client_id       text NOT NULL,
    redirect_uri    text NOT NULL,
    code_challenge  text NOT NULL,
    resource        text NOT NULL,
    scopes          text NOT NULL DEFAULT '',
    expires_at      bigint NOT NULL,
    used_at         bigint
  );
  CREATE INDEX idx_codes_family ON codes (family_id);
  CREATE INDEX idx_codes_grant ON codes (grant_id);

  CREATE TABLE access_tokens (
    hash        text PRIMARY KEY,
    grant_id    text COLLATE "C" NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
    family_id   text NOT NULL,
    client_id   text NOT NULL,
    resource    text NOT NULL,
    scopes      text NOT NULL DEFAULT '',
    expires_at  bigint NOT NULL,
    revoked_at  bigint
  );
  CREATE INDEX idx_access_tokens_family ON access_tokens (family_id);
  CREATE INDEX idx_access_tokens_grant ON access_tokens (grant_id);

  CREATE TABLE refresh_tokens (
    hash        text PRIMARY KEY,
    grant_id    text COLLATE "C" NOT NULL REFERENCES grants (id) ON DELETE CASCADE,
    family_id   text NOT NULL,
    client_id   text NOT NULL,
    resource    text NOT NULL,
    scopes      text NOT NULL DEFAULT '',
    expires_at  bigint NOT NULL,
    used_at     bigint,
    revoked_at  bigint
  );
  CREATE INDEX idx_refresh_tokens_family ON refresh_tokens (family_id);
  CREATE INDEX idx_refresh_tokens_grant ON refresh_tokens (grant_id);

  CREATE TABLE events (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         bigint NOT NULL,
    type       text NOT NULL,
    grant_id   text,
    client_id  text,
    server     text,
    subject    text,
    outcome    text NOT NULL CHECK (outcome IN ('success', 'failure')),
    detail     json NOT NULL DEFAULT '{}'
  );
  CREATE INDEX idx_events_type ON events (type);
  CREATE INDEX idx_events_at ON events (at);
  CREATE INDEX idx_events_grant ON events (grant_id);
  CREATE INDEX idx_events_client ON events (client_id);
  `,

  // 2: vault key ids beside each ciphertext; where the upstream refresh token lives (sealed here or OS keychain)
  async (client) => {
    await client.query(`
    ALTER TABLE upstream_credentials ADD COLUMN access_kid text COLLATE "C";
    ALTER TABLE upstream_credentials ADD COLUMN refresh_kid text COLLATE "C";
    ALTER TABLE upstream_credentials ADD COLUMN refresh_in_keychain boolean NOT NULL DEFAULT false
      CHECK (NOT (refresh_in_keychain AND refresh_token IS NOT NULL));
    ALTER TABLE pending_authorizations ADD COLUMN verifier_kid text COLLATE "C";
    CREATE INDEX idx_upstream_credentials_access_kid ON upstream_credentials (access_kid);
    CREATE INDEX idx_upstream_credentials_refresh_kid ON upstream_credentials (refresh_kid);
    CREATE INDEX idx_pending_verifier_kid ON pending_authorizations (verifier_kid);
    `);
    await backfillKids(client); // as SQLite's migration 2 does
  },

  // 3: upstream kinds — keyhole's registrations at upstream authorization servers, identity-JWT signing keys, sealed secrets
  `
  CREATE TABLE upstream_registrations (
    server                     text COLLATE "C" NOT NULL,
    issuer                     text COLLATE "C" NOT NULL,
    kind                       text NOT NULL CHECK (kind IN ('dcr', 'cimd')),
    client_id                  text NOT NULL,
    client_secret              text,
    client_secret_expires_at   bigint,
    token_endpoint_auth_method text NOT NULL CHECK (token_endpoint_auth_method IN ('client_secret_basic', 'client_secret_post', 'none')),
    registration_access_token  text,
    registration_client_uri    text,
    metadata                   json NOT NULL DEFAULT '{}',
    created_at                 bigint NOT NULL,
    PRIMARY KEY (server, issuer)
  );

  CREATE TABLE signing_keys (
    kid           text COLLATE "C" PRIMARY KEY,
    alg           text NOT NULL CHECK (alg IN ('ES256')),
    public_jwk    json NOT NULL,
    private_key   text NOT NULL,
    created_at    bigint NOT NULL,
    activated_at  bigint,
    retired_at    bigint,
    seq           bigint GENERATED ALWAYS AS IDENTITY
  );

  CREATE TABLE sealed_secrets (
    name        text COLLATE "C" PRIMARY KEY,
    sealed      text NOT NULL,
    updated_at  bigint NOT NULL
  );
  `,

  // 4 (issue 9 F1): the hash of the cookie binding a pending authorization to the browser that approved consent
  `
  ALTER TABLE pending_authorizations ADD COLUMN browser_binding_hash text;
  `,

  // 5: client use — last completed authorization or token, for DCR expiry and the admin client filters
  `
  ALTER TABLE clients ADD COLUMN last_used_at bigint;
  UPDATE clients SET last_used_at = (
    SELECT greatest(max(g.created_at), coalesce(max(g.last_used_at), 0)) FROM grants g WHERE g.client_id = clients.client_id
  ) WHERE EXISTS (SELECT 1 FROM grants g WHERE g.client_id = clients.client_id);
  CREATE INDEX idx_clients_kind_created ON clients (kind, created_at);
  CREATE INDEX idx_clients_kind_last_use ON clients (kind, coalesce(last_used_at, created_at));
  `,

  // 6 (issue 15, pinned tools): the tool list an admin approved per server (./approved-tools.ts)
  `
  CREATE TABLE approved_tools (
    server       text COLLATE "C" PRIMARY KEY,
    tools        json NOT NULL,
    approved_by  text NOT NULL,
    approved_at  bigint NOT NULL
  );
  `,

  // 7 (issue 14): the audit log, one row per MCP request (../repositories/audit-log.ts documents the columns; at_ms in ms)
  `
  CREATE TABLE audit_log (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, id text NOT NULL UNIQUE, at_ms bigint NOT NULL,
    person text, subject text, client_id text, server text NOT NULL, grant_id text, method text, tool text,
    outcome text NOT NULL, http_status integer NOT NULL, rpc_error_code integer, denial_reason text,
    ttfb_ms bigint, total_ms bigint NOT NULL, request_bytes bigint NOT NULL, response_bytes bigint NOT NULL,
    request_id text NOT NULL, arguments json, redactions json
  );
  CREATE INDEX idx_audit_at ON audit_log (at_ms); CREATE INDEX idx_audit_server_at ON audit_log (server, at_ms);
  CREATE INDEX idx_audit_subject ON audit_log (subject, seq); CREATE INDEX idx_audit_tool ON audit_log (tool, seq);
  CREATE INDEX idx_audit_grant ON audit_log (grant_id, seq);
  `,

  // 8 (issue 13, people): see ../sqlite/migrations.ts
  `
  CREATE TABLE people (
    id              text COLLATE "C" PRIMARY KEY,
    iss             text,
    sub             text,
    email           text,
    name            text,
    idp_groups      json NOT NULL DEFAULT '[]',
    status          text NOT NULL CHECK (status IN ('active', 'offboarded')),
    offboarded_at   bigint,
    offboarded_by   text,
    offboarded_via  text CHECK (offboarded_via IN ('admin', 'scim', 'idp')),
    external_id     text,
    user_name       text,
    scim_active     boolean,
    created_at      bigint NOT NULL,
    last_seen_at    bigint,
    seq             bigint GENERATED ALWAYS AS IDENTITY,
    CHECK ((iss IS NULL) = (sub IS NULL))
  );
  CREATE UNIQUE INDEX idx_people_iss_sub ON people (iss, sub);
  CREATE UNIQUE INDEX idx_people_user_name ON people (lower(user_name));
  CREATE INDEX idx_people_email ON people (lower(email));
  CREATE INDEX idx_people_external_id ON people (external_id);
  CREATE INDEX idx_people_created ON people (created_at);

  CREATE TABLE person_sessions (
    hash        text COLLATE "C" PRIMARY KEY,
    person_id   text COLLATE "C" NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    created_at  bigint NOT NULL,
    expires_at  bigint NOT NULL,
    revoked_at  bigint
  );
  CREATE INDEX idx_person_sessions_person ON person_sessions (person_id);
  CREATE INDEX idx_person_sessions_expires ON person_sessions (expires_at);

  ALTER TABLE grants ADD COLUMN person_id text;
  ALTER TABLE grants ADD COLUMN person_email text;
  ALTER TABLE grants ADD COLUMN person_name text;
  ALTER TABLE grants ADD COLUMN person_groups json;
  CREATE INDEX idx_grants_person ON grants (person_id, created_at);
  ALTER TABLE pending_authorizations ADD COLUMN person_id text;
  ALTER TABLE events ADD COLUMN person_id text;
  CREATE INDEX idx_events_person ON events (person_id, id);
  `,
  // 9 (issue 12 §2): the credential's version, for the compare-and-swap of an upstream refresh
  `ALTER TABLE upstream_credentials ADD COLUMN version bigint NOT NULL DEFAULT 1;`,
  // 10 (issue 12 §2): admin sessions shared by every instance (../repositories/admin-sessions.ts); the change feed's
  // log (./change-feed.ts): one row per published change, read by the fallback poll, pruned after an hour. SQLite's
  // migration 10 has admin_sessions only.
  `
  CREATE TABLE admin_sessions (
    key_hash         text COLLATE "C" PRIMARY KEY,
    created_at_ms    bigint NOT NULL,
    last_seen_at_ms  bigint NOT NULL,
    expires_at_ms    bigint NOT NULL,
    seq              bigint GENERATED ALWAYS AS IDENTITY
  );
  CREATE INDEX idx_admin_sessions_created ON admin_sessions (created_at_ms);
  CREATE TABLE change_log (
    seq     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind    text NOT NULL,
    id      text NOT NULL,
    origin  text NOT NULL,
    at      timestamptz NOT NULL DEFAULT now()
  );
  CREATE INDEX idx_change_log_at ON change_log (at);
  `,
  // 11 (issue 12 §2): MCP session bindings shared by every instance, the session id only as a SHA-256
  // (../repositories/mcp-sessions.ts); grant_id NULL = retired (its grant ended).
  `
  CREATE TABLE mcp_sessions (
    key_hash         text COLLATE "C" PRIMARY KEY,
    grant_id         text,
    server           text NOT NULL,
    created_at_ms    bigint NOT NULL,
    last_used_at_ms  bigint NOT NULL
  );
  CREATE INDEX idx_mcp_sessions_grant ON mcp_sessions (grant_id);
  CREATE INDEX idx_mcp_sessions_last_used ON mcp_sessions (last_used_at_ms);
  `,
];

/** Raised when the database was migrated by a newer keyhole (more migrations than this build knows). */
export class PostgresSchemaVersionError extends Error {
  override name = 'PostgresSchemaVersionError';
}

/** The advisory lock key of schema migrations: "keyhole" in ASCII, as a bigint (one key per database). */
export const MIGRATION_LOCK_KEY = '30229394625621093';

/**
 * Applies every migration the database has not seen yet, each in its own transaction with its `schema_migrations`
 * row, holding `pg_advisory_lock(MIGRATION_LOCK_KEY)` on one connection of `pool` meanwhile (no statement timeout on
 * it: waiting for another instance's migration is expected). Idempotent. Returns the schema version.
 */
export async function migratePostgres(pool: pg.Pool, migrations: readonly PostgresMigration[] = POSTGRES_MIGRATIONS): Promise<number> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('SET statement_timeout = 0');
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version     integer PRIMARY KEY,
        applied_at  bigint NOT NULL
      )`);
      const { rows } = await client.query<{ v: number | null }>('SELECT max(version) AS v FROM schema_migrations');
      const current = rows[0]?.v ?? 0;
      if (current > migrations.length) {
        throw new PostgresSchemaVersionError(
          `database schema version ${current} is newer than this keyhole knows (${migrations.length}); upgrade keyhole`,
        );
      }
      for (let version = current + 1; version <= migrations.length; version++) {
        const migration = migrations[version - 1] as PostgresMigration;
        await client.query('BEGIN');
        try {
          if (typeof migration === 'string') await client.query(migration);
          else await migration(client);
          await client.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [
            version, Math.floor(Date.now() / 1000),
          ]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw err;
        }
      }
      return migrations.length;
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch((err: Error) => (broken = err));
    }
  } finally {
    if (!broken) await client.query('RESET statement_timeout').catch((err: Error) => (broken = err));
    // A connection whose lock or settings could not be reset is not given back to the pool.
    client.release(broken ?? false);
  }
}
