/**
 * Clients: the MCP clients keyhole knows (dynamic registration, client ID metadata documents, static configuration).
 *
 * Table `clients` (SQLite: ../sqlite/clients.ts; schema in ../sqlite/migrations.ts), one row per client id.
 * Ids: `c_<22 base64url>` for DCR clients, the https URL of the metadata document for CIMD clients, the configured
 * name for static clients. Deleting a client deletes its pending authorizations, never its grants (history).
 */

export type ClientKind = 'dcr' | 'cimd' | 'static';

export interface ClientRecord {
  clientId: string;
  kind: ClientKind;
  /** Registration metadata as accepted (RFC 7591 names), unknown fields included. Never a secret. */
  metadata: Record<string, unknown>;
  /** SHA-256 of the client secret for confidential clients; null for public clients. */
  secretHash: string | null;
  createdAt: number;
  blockedAt: number | null;
  /**
   * When the client was last used: a completed authorization (keyhole code issued at the callback) or a token issued
   * or refreshed at /token. Null = never. Always set on reads; `create` stores it (absent = null), `upsert`
   * keeps the stored value; `touch` moves it forward.
   */
  lastUsedAt?: number | null;
}

/**
 * Admin and expiry filters over clients. All conditions are ANDed; `unusedSince` is about the client's own use:
 * `coalesce(lastUsedAt, createdAt) < unusedSince` (unused since then, never-used clients counting from registration).
 */
export interface ClientFilter {
  kind?: ClientKind;
  unusedSince?: number;
  /** true: only clients never used; false: only clients used at least once. */
  neverUsed?: boolean;
  limit?: number;
  offset?: number;
}

/** A client with its grant statistics, as the admin list shows it. */
export interface ClientListEntry extends ClientRecord {
  lastUsedAt: number | null;
  /** Every grant of the client, revoked ones included. */
  grantCount: number;
  activeGrantCount: number;
  /** The latest `lastUsedAt` over the client's grants (MCP traffic); null when none was used. */
  grantLastUsedAt: number | null;
}

/** Why the expiry job deletes a DCR client. */
export type ClientExpiryReason = 'never_authorized' | 'unused';

export interface ClientRepository {
  create(client: ClientRecord): Promise<void>;
  find(clientId: string): Promise<ClientRecord | undefined>;
  /** The clients of these ids that exist, in one query (admin pages: one read per page, not one per grant). */
  findMany(clientIds: string[]): Promise<ClientRecord[]>;
  /**
   * Creates the client, or replaces kind, metadata and secret hash of an existing one (createdAt and blockedAt stay).
   * For clients whose metadata lives elsewhere: CIMD documents (re-fetched) and static clients (config).
   */
  upsert(client: ClientRecord): Promise<void>;
  /** Every client, newest first. Loads them all: for small sets only (static clients at startup); pages use listPage. */
  list(): Promise<ClientRecord[]>;
  /** How many clients match (all without a filter; `limit`/`offset` ignored). */
  count(filter?: ClientFilter): Promise<number>;
  /** One page of clients matching `filter`, newest first, with their grant statistics; paginated in the query. */
  listPage(filter: ClientFilter): Promise<ClientListEntry[]>;
  block(clientId: string, at: number): Promise<void>;
  /** Deletes the client and its pending authorizations; its grants, tokens and events stay. */
  delete(clientId: string): Promise<void>;
  /** Records a use of the client (see ClientRecord.lastUsedAt); never moves it backwards. Unknown ids are ignored. */
  touch(clientId: string, at: number): Promise<void>;
  /**
   * DCR clients to delete, oldest first, at most `limit` (1…1000): never used and registered before
   * `neverUsedCreatedBefore` (reason never_authorized), or used and last used before `usedBefore` (reason unused).
   */
  listExpiredDcr(neverUsedCreatedBefore: number, usedBefore: number, limit: number): Promise<Array<{ clientId: string; reason: ClientExpiryReason }>>;
}

/**
 * The DCR registration counter behind the /register rate limit: DCR rows of `clients` by `created_at`
 * (SQLite: ../sqlite/clients.ts).
 */
export interface DcrRegistrationCounter {
  /** DCR registrations since `since` (inclusive): how many, and the oldest one's time (for Retry-After). */
  countSince(since: number): Promise<{ count: number; oldest: number | null }>;
}
