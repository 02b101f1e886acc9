/**
 * SQLite people and person-sessions repositories over `people` and `person_sessions` (./migrations.ts, migration 8;
 * documented in ../repositories/people.ts and ../repositories/person-sessions.ts). The SQL is shared with PostgreSQL
 * (../rows/person-rows.ts).
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
import type { Synchronous } from './async-repositories.js';
import { pageOf, preparer, type Params, type SqliteContext } from './shared.js';
import {
  PERSON_SESSION_SQL,
  PERSON_SQL,
  personFromRow,
  personParams,
  personSessionFromRow,
  personSessionParams,
  personWhere,
  SQLITE_CLIENT_NAME,
  scimUpdate,
  signInParams,
  type PersonRow,
  type PersonSessionRow,
} from '../rows/person-rows.js';

const bool = (b: boolean): number => (b ? 1 : 0);

export class SqlitePeople implements Synchronous<PersonRepository> {
  readonly #s;

  constructor(private readonly ctx: SqliteContext) {
    const p = preparer(ctx.db);
    this.#s = {
      insert: p(PERSON_SQL.insert),
      get: p<PersonRow>(PERSON_SQL.get),
      byIssSub: p<PersonRow>(PERSON_SQL.byIssSub),
      byEmail: p<PersonRow>(PERSON_SQL.byEmail),
      byUserName: p<PersonRow>(PERSON_SQL.byUserName),
      byExternalId: p<PersonRow>(PERSON_SQL.byExternalId),
      updateAtSignIn: p<PersonRow>(PERSON_SQL.updateAtSignIn),
      linkAtSignIn: p<PersonRow>(PERSON_SQL.linkAtSignIn),
      insertAtSignIn: p<PersonRow>(PERSON_SQL.insertAtSignIn),
      offboard: p(PERSON_SQL.offboard),
      reinstate: p(PERSON_SQL.reinstate),
      touch: p(PERSON_SQL.touch),
      isActive: p<{ one: number }>(PERSON_SQL.isActive),
    };
  }

  upsertAtSignIn(claims: SignInClaims, id: string, now: number): PersonRecord {
    const params = signInParams(claims, id, now);
    return this.ctx.db.transaction(() => {
      const row = this.#s.updateAtSignIn.get(params) ?? this.#s.linkAtSignIn.get(params) ?? this.#s.insertAtSignIn.get(params);
      return personFromRow(row!);
    })();
  }

  create(p: PersonRecord): void {
    this.#s.insert.run(personParams(p, bool) as Params);
  }

  get(id: string): PersonRecord | undefined {
    const row = this.#s.get.get({ id });
    return row && personFromRow(row);
  }

  findByIssSub(iss: string, sub: string): PersonRecord | undefined {
    const row = this.#s.byIssSub.get({ iss, sub });
    return row && personFromRow(row);
  }

  findByEmail(email: string): PersonRecord | undefined {
    const row = this.#s.byEmail.get({ email });
    return row && personFromRow(row);
  }

  findByScimUserName(userName: string): PersonRecord | undefined {
    const row = this.#s.byUserName.get({ userName });
    return row && personFromRow(row);
  }

  findByExternalId(externalId: string): PersonRecord | undefined {
    const row = this.#s.byExternalId.get({ externalId });
    return row && personFromRow(row);
  }

  updateScim(id: string, fields: ScimFields): boolean {
    const update = scimUpdate(id, fields, bool);
    if (!update) return this.get(id) !== undefined;
    return this.ctx.pages.get(update.sql).run(update.params as Params).changes > 0;
  }

  setStatus(id: string, change: PersonStatusChange): boolean {
    const result = change.status === 'offboarded'
      ? this.#s.offboard.run({ id, at: change.at, by: change.by, via: change.via })
      : this.#s.reinstate.run({ id });
    return result.changes > 0;
  }

  /** SQLite: transactions hold the one writer lock from BEGIN IMMEDIATE, so a plain read is enough. */
  lockActive(id: string): boolean {
    return this.#s.isActive.get({ id }) !== undefined;
  }

  touch(id: string, at: number): void {
    this.#s.touch.run({ id, at });
  }

  list(filter: PersonFilter): PersonRecord[] {
    const { where, params } = personWhere(filter, SQLITE_CLIENT_NAME);
    const sql = `SELECT * FROM people ${where} ORDER BY created_at DESC, rowid DESC LIMIT @limit OFFSET @offset`;
    return (this.ctx.pages.get(sql).all({ ...params, ...pageOf(filter) }) as PersonRow[]).map(personFromRow);
  }

  count(filter: PersonFilter): number {
    const { where, params } = personWhere(filter, SQLITE_CLIENT_NAME);
    return (this.ctx.pages.get(`SELECT count(*) AS n FROM people ${where}`).get(params) as { n: number }).n;
  }
}

export class SqlitePersonSessions implements Synchronous<PersonSessionRepository> {
  readonly #s;

  constructor(ctx: SqliteContext) {
    const p = preparer(ctx.db);
    this.#s = {
      insert: p(PERSON_SESSION_SQL.insert),
      findValid: p<PersonSessionRow>(PERSON_SESSION_SQL.findValid),
      revoke: p(PERSON_SESSION_SQL.revoke),
      deleteByPerson: p(PERSON_SESSION_SQL.deleteByPerson),
      deleteExpired: p(PERSON_SESSION_SQL.deleteExpired),
    };
  }

  create(s: PersonSessionRecord): void {
    this.#s.insert.run(personSessionParams(s));
  }

  findValid(hash: TokenHash, now: number): PersonSessionRecord | undefined {
    const row = this.#s.findValid.get({ hash, now });
    return row && personSessionFromRow(row);
  }

  revoke(hash: TokenHash, at: number): boolean {
    return this.#s.revoke.run({ hash, at }).changes > 0;
  }

  deleteByPerson(personId: string): number {
    return this.#s.deleteByPerson.run({ personId }).changes;
  }

  deleteExpired(now: number): number {
    return this.#s.deleteExpired.run({ now }).changes;
  }
}
