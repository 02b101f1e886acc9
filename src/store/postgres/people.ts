/**
 * PostgreSQL people and person-sessions repositories (./migrations.ts, migration 8; documented in
 * ../repositories/people.ts and ../repositories/person-sessions.ts). The SQL is shared with SQLite (../rows/person-rows.ts).
 * `upsertAtSignIn` runs atomically; its last step is an INSERT … ON CONFLICT (iss, sub), so two first sign-ins of
 * one person at once make one row.
 */
import type {
  PersonFilter,
  PersonRecord,
  PersonRepository,
  PersonSessionRecord,
  PersonSessionRepository,
  PersonStatusChange,
  ScimFields,
  SignInClaims,
  TokenHash,
} from '../types.js';
import { dynamicStatement, statement, type Executor } from './executor.js';
import { pageOf } from './values.js';
import {
  PERSON_SESSION_SQL,
  PERSON_SQL,
  personFromRow,
  personParams,
  personSessionFromRow,
  personSessionParams,
  personWhere,
  POSTGRES_CLIENT_NAME,
  scimUpdate,
  signInParams,
  type PersonRow,
  type PersonSessionRow,
} from '../rows/person-rows.js';

const bool = (b: boolean): boolean => b;

const S = {
  insert: statement('people.insert', PERSON_SQL.insert),
  get: statement<PersonRow>('people.get', PERSON_SQL.get),
  byIssSub: statement<PersonRow>('people.by-iss-sub', PERSON_SQL.byIssSub),
  byEmail: statement<PersonRow>('people.by-email', PERSON_SQL.byEmail),
  byUserName: statement<PersonRow>('people.by-user-name', PERSON_SQL.byUserName),
  byExternalId: statement<PersonRow>('people.by-external-id', PERSON_SQL.byExternalId),
  updateAtSignIn: statement<PersonRow>('people.update-at-sign-in', PERSON_SQL.updateAtSignIn),
  linkAtSignIn: statement<PersonRow>('people.link-at-sign-in', PERSON_SQL.linkAtSignIn),
  insertAtSignIn: statement<PersonRow>('people.insert-at-sign-in', PERSON_SQL.insertAtSignIn),
  offboard: statement('people.offboard', PERSON_SQL.offboard),
  reinstate: statement('people.reinstate', PERSON_SQL.reinstate),
  touch: statement('people.touch', PERSON_SQL.touch),
  lockActive: statement<{ one: number }>('people.lock-active', `${PERSON_SQL.isActive} FOR SHARE`),
  sessionInsert: statement('person-sessions.insert', PERSON_SESSION_SQL.insert),
  sessionFind: statement<PersonSessionRow>('person-sessions.find-valid', PERSON_SESSION_SQL.findValid),
  sessionRevoke: statement('person-sessions.revoke', PERSON_SESSION_SQL.revoke),
  sessionDeleteByPerson: statement('person-sessions.delete-by-person', PERSON_SESSION_SQL.deleteByPerson),
  sessionDeleteExpired: statement('person-sessions.delete-expired', PERSON_SESSION_SQL.deleteExpired),
};

export class PostgresPeople implements PersonRepository {
  constructor(private readonly ex: Executor) {}

  async upsertAtSignIn(claims: SignInClaims, id: string, now: number): Promise<PersonRecord> {
    const params = signInParams(claims, id, now);
    return this.ex.atomic(async (tx) => {
      const row = (await tx.one(S.updateAtSignIn, params)) ?? (await tx.one(S.linkAtSignIn, params)) ?? (await tx.one(S.insertAtSignIn, params));
      return personFromRow(row!);
    });
  }

  async create(p: PersonRecord): Promise<void> {
    await this.ex.run(S.insert, personParams(p, bool));
  }

  async get(id: string): Promise<PersonRecord | undefined> {
    const row = await this.ex.one(S.get, { id });
    return row && personFromRow(row);
  }

  async findByIssSub(iss: string, sub: string): Promise<PersonRecord | undefined> {
    const row = await this.ex.one(S.byIssSub, { iss, sub });
    return row && personFromRow(row);
  }

  async findByEmail(email: string): Promise<PersonRecord | undefined> {
    const row = await this.ex.one(S.byEmail, { email });
    return row && personFromRow(row);
  }

  async findByScimUserName(userName: string): Promise<PersonRecord | undefined> {
    const row = await this.ex.one(S.byUserName, { userName });
    return row && personFromRow(row);
  }

  async findByExternalId(externalId: string): Promise<PersonRecord | undefined> {
    const row = await this.ex.one(S.byExternalId, { externalId });
    return row && personFromRow(row);
  }

  async updateScim(id: string, fields: ScimFields): Promise<boolean> {
    const update = scimUpdate(id, fields, bool);
    if (!update) return (await this.get(id)) !== undefined;
    return (await this.ex.run(dynamicStatement('people.update-scim', update.sql), update.params)) > 0;
  }

  async setStatus(id: string, change: PersonStatusChange): Promise<boolean> {
    const changed = change.status === 'offboarded'
      ? await this.ex.run(S.offboard, { id, at: change.at, by: change.by, via: change.via })
      : await this.ex.run(S.reinstate, { id });
    return changed > 0;
  }

  async lockActive(id: string): Promise<boolean> {
    return (await this.ex.one(S.lockActive, { id })) !== undefined;
  }

  async touch(id: string, at: number): Promise<void> {
    await this.ex.run(S.touch, { id, at });
  }

  async list(filter: PersonFilter): Promise<PersonRecord[]> {
    const { where, params } = personWhere(filter, POSTGRES_CLIENT_NAME);
    const sql = `SELECT * FROM people ${where} ORDER BY created_at DESC, seq DESC LIMIT @limit OFFSET @offset`;
    return (await this.ex.rows(dynamicStatement<PersonRow>('people.list', sql), { ...params, ...pageOf(filter) })).map(personFromRow);
  }

  async count(filter: PersonFilter): Promise<number> {
    const { where, params } = personWhere(filter, POSTGRES_CLIENT_NAME);
    return (await this.ex.one(dynamicStatement<{ n: number }>('people.count', `SELECT count(*) AS n FROM people ${where}`), params))?.n ?? 0;
  }
}

export class PostgresPersonSessions implements PersonSessionRepository {
  constructor(private readonly ex: Executor) {}

  async create(s: PersonSessionRecord): Promise<void> {
    await this.ex.run(S.sessionInsert, personSessionParams(s));
  }

  async findValid(hash: TokenHash, now: number): Promise<PersonSessionRecord | undefined> {
    const row = await this.ex.one(S.sessionFind, { hash, now });
    return row && personSessionFromRow(row);
  }

  async revoke(hash: TokenHash, at: number): Promise<boolean> {
    return (await this.ex.run(S.sessionRevoke, { hash, at })) > 0;
  }

  async deleteByPerson(personId: string): Promise<number> {
    return this.ex.run(S.sessionDeleteByPerson, { personId });
  }

  async deleteExpired(now: number): Promise<number> {
    return this.ex.run(S.sessionDeleteExpired, { now });
  }
}
