/**
 * Grants: one user's consent for one client on one server, owning the upstream credential and the keyhole tokens.
 *
 * Table `grants` (SQLite: ../sqlite/grants.ts), id `g_<22 base64url>`. Grants are never deleted; revoking one
 * revokes its codes and tokens and deletes its upstream credential in the same transaction.
 */

export type GrantStatus = 'active' | 'revoked';

/**
 * The person a grant belongs to (issue 13), with `identity` on: the person id (../repositories/people.ts) and a
 * snapshot of email, name and groups as of the sign-in that completed the authorization. Columns `person_id`,
 * `person_email`, `person_name`, `person_groups` (JSON array); all NULL without `identity`.
 */
export interface GrantPerson {
  id: string;
  email: string | null;
  name: string | null;
  groups: string[];
}

export interface GrantRecord {
  id: string;
  clientId: string;
  server: string;
  /** Upstream account id (id_token / userinfo claim). */
  subject: string;
  subjectName: string | null;
  scopes: string[];
  status: GrantStatus;
  /** Why the grant ended: 'client_revoked' | 'admin_revoked' | 'upstream_invalid_grant' | … */
  statusReason: string | null;
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
  /** The person, with `identity` on; null without (the upstream subject is then the only "who"). */
  person: GrantPerson | null;
}

export interface GrantFilter {
  clientId?: string;
  server?: string;
  subject?: string;
  /** Grants of this person (GrantPerson.id). */
  personId?: string;
  status?: GrantStatus;
  /**
   * Free text (issue 13 §5): a case-insensitive substring of the person's email or name, the upstream subject or its
   * name, the server or the client's name, or exactly the grant, person or client id (src/store/rows/person-rows.ts).
   */
  q?: string;
  limit?: number;
  offset?: number;
}

/** Grant usage of one client id (admin clients page). */
export interface ClientGrantStats {
  clientId: string;
  /** Every grant of the client, revoked ones included. */
  grantCount: number;
  activeGrantCount: number;
  /** The latest `lastUsedAt` over the client's grants; null when none was used. */
  lastUsedAt: number | null;
}

export interface GrantRepository {
  create(g: GrantRecord): Promise<void>;
  find(id: string): Promise<GrantRecord | undefined>;
  /**
   * The newest active grant for (client, server, subject) of this person: `personId` null or absent matches only
   * grants without a person (so two people sharing one upstream account and one client get a grant each).
   */
  findActive(clientId: string, server: string, subject: string, personId?: string | null): Promise<GrantRecord | undefined>;
  /** Every grant of the person (active and revoked), newest first, unpaginated (offboarding, /account). */
  listByPerson(personId: string): Promise<GrantRecord[]>;
  /** `listByPerson` for several people in one query (the People page: one read per page, not one per person). */
  listByPeople(personIds: string[]): Promise<GrantRecord[]>;
  updateScopes(id: string, scopes: string[]): Promise<void>;
  /** Sets lastUsedAt, never moving it backwards. */
  touch(id: string, at: number): Promise<void>;
  /**
   * Marks the grant revoked, revokes all its codes/tokens and deletes its upstream credential, in one transaction.
   * False when the grant is unknown or already revoked.
   */
  revoke(id: string, reason: string, at: number): Promise<boolean>;
  /** Newest first. */
  list(filter: GrantFilter): Promise<GrantRecord[]>;
  count(filter: GrantFilter): Promise<number>;
  /** Grant counts and last use per client id that has at least one grant (clients without grants are absent). */
  statsByClient(): Promise<ClientGrantStats[]>;
}
