/**
 * People (issue 13): the person behind grants, as the organization's IdP knows them. One person can hold grants to
 * many servers under different upstream accounts; offboarding ends all of them (src/people/people-service.ts).
 *
 * Table `people` (SQLite: ../sqlite/people.ts, PostgreSQL: ../postgres/people.ts), id `u_<22 base64url>` (random,
 * opaque; it is also the person's SCIM resource `id`).
 * - `iss` + `sub`: the IdP's issuer and subject, unique together. Both NULL for a person SCIM created before their
 *   first sign-in; `upsertAtSignIn` then links the row (see there).
 * - `email`, `name`, `groups` (`idp_groups`, a JSON array of strings): as of the latest sign-in (or SCIM write).
 * - `status` 'active' | 'offboarded'; an offboarded person is refused at sign-in until reinstated. `offboardedAt`,
 *   `offboardedBy` (the actor string, e.g. `admin:token`, `person:u_…`, `scim`, `idp`) and `offboardedVia` say
 *   when, who and which way ('admin' | 'scim' | 'idp'); cleared on reinstatement (the events keep the history).
 * - SCIM (RFC 7643 §4.1): `userName` (unique, case-insensitive), `externalId`, `scimActive` (null = never provisioned
 *   by SCIM).
 * - `createdAt`, `lastSeenAt` (the latest sign-in; the grants hold their own last use).
 * Emails and SCIM user names are compared case-insensitively (ASCII `lower()` in both engines).
 */

export type PersonStatus = 'active' | 'offboarded';
export type OffboardVia = 'admin' | 'scim' | 'idp';

export interface PersonRecord {
  id: string;
  iss: string | null;
  sub: string | null;
  email: string | null;
  name: string | null;
  groups: string[];
  status: PersonStatus;
  offboardedAt: number | null;
  offboardedBy: string | null;
  offboardedVia: OffboardVia | null;
  externalId: string | null;
  userName: string | null;
  /** SCIM `active` as last written by the IdP; null when SCIM never provisioned this person. */
  scimActive: boolean | null;
  createdAt: number;
  lastSeenAt: number | null;
}

/** What a sign-in knows about the person: the ID token's (and userinfo's) claims. */
export interface SignInClaims {
  iss: string;
  sub: string;
  email: string | null;
  name: string | null;
  groups: string[];
}

/** SCIM fields of a person (RFC 7643 §4.1), as the IdP writes them. Absent fields are left as they are. */
export interface ScimFields {
  userName?: string | null;
  externalId?: string | null;
  scimActive?: boolean | null;
  email?: string | null;
  name?: string | null;
}

export interface PersonFilter {
  /**
   * Free text: a case-insensitive substring of email, name or SCIM userName (exact person id too), or of any of the
   * person's grants' upstream subject, server or client name (GrantFilter.q).
   */
  q?: string;
  status?: PersonStatus;
  /** Only people provisioned by SCIM (a `userName` set): the SCIM /Users collection. */
  scim?: boolean;
  limit?: number;
  offset?: number;
}

/** A change of status: who and which way (offboarding), or a reinstatement. */
export type PersonStatusChange =
  | { status: 'offboarded'; at: number; by: string; via: OffboardVia }
  | { status: 'active'; at: number; by: string };

export interface PersonRepository {
  /**
   * The person signing in, created or updated in one atomic step, returned as stored:
   * 1. the row with this (iss, sub): email, name and groups updated;
   * 2. else a row not yet linked (iss/sub NULL, e.g. created by SCIM) whose `externalId` equals `sub`, or whose email or
   *    `userName` equals the email (case-insensitive), the externalId match first: linked (iss, sub set) and updated;
   * 3. else a new active person.
   * `lastSeenAt` becomes `now` for an active person; an offboarded one keeps its status (the caller refuses it).
   */
  upsertAtSignIn(claims: SignInClaims, id: string, now: number): Promise<PersonRecord>;
  /** Inserts a person as given (SCIM provisioning before the first sign-in, tests). */
  create(p: PersonRecord): Promise<void>;
  get(id: string): Promise<PersonRecord | undefined>;
  findByIssSub(iss: string, sub: string): Promise<PersonRecord | undefined>;
  /** The oldest person with this email (case-insensitive). */
  findByEmail(email: string): Promise<PersonRecord | undefined>;
  /** By SCIM userName (case-insensitive, unique). */
  findByScimUserName(userName: string): Promise<PersonRecord | undefined>;
  /** The oldest person with this SCIM externalId. */
  findByExternalId(externalId: string): Promise<PersonRecord | undefined>;
  /** Writes the given SCIM fields (absent ones unchanged). False when the person is unknown. */
  updateScim(id: string, fields: ScimFields): Promise<boolean>;
  /**
   * Moves the person to `change.status`; false when unknown or already in that status (so concurrent offboardings
   * record one). Offboarding sets offboardedAt/By/Via; reinstating clears them.
   */
  setStatus(id: string, change: PersonStatusChange): Promise<boolean>;
  /**
   * True when the person exists and is active. Inside a transaction it also holds a share lock on the row until the
   * transaction ends (PostgreSQL `FOR SHARE`; SQLite transactions are serialized anyway), so an offboarding that
   * starts meanwhile waits for it, then finds (and revokes) what it wrote: a grant can never be completed for a person
   * offboarded before the grant's transaction commits.
   */
  lockActive(id: string): Promise<boolean>;
  /** Sets lastSeenAt, never moving it backwards. */
  touch(id: string, at: number): Promise<void>;
  /** Newest first (createdAt, then insertion order), paginated like the other lists (default 50, at most 500). */
  list(filter: PersonFilter): Promise<PersonRecord[]>;
  count(filter: PersonFilter): Promise<number>;
}
