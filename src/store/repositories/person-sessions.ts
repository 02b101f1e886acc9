/**
 * Person sessions (issue 13): keyhole's own session after an organization sign-in, behind the person-session cookie
 * (src/people/person-session.ts).
 *
 * Table `person_sessions` (SQLite: ../sqlite/person-sessions.ts), keyed by `hash` = SHA-256 hex of the session id
 * (the cookie value is never stored). `personId` references `people` (deleted with the person). A session is valid
 * while `revokedAt` is NULL and `now < expiresAt`.
 */
import type { TokenHash } from './values.js';

export interface PersonSessionRecord {
  hash: TokenHash;
  personId: string;
  createdAt: number;
  expiresAt: number;
  revokedAt: number | null;
}

export interface PersonSessionRepository {
  create(s: PersonSessionRecord): Promise<void>;
  /** The session if it is neither revoked nor expired (`expiresAt <= now` is expired). */
  findValid(hash: TokenHash, now: number): Promise<PersonSessionRecord | undefined>;
  /** Marks one session revoked (sign-out); false when unknown or already revoked. */
  revoke(hash: TokenHash, at: number): Promise<boolean>;
  /** Deletes every session of the person (offboarding); returns how many. */
  deleteByPerson(personId: string): Promise<number>;
  /** Deletes sessions with `expiresAt <= now` or revoked; returns how many. */
  deleteExpired(now: number): Promise<number>;
}
