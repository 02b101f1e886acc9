/** SQLite admin-sessions repository over `admin_sessions` (migration 8, ./migrations.ts; ../repositories/admin-sessions.ts). */
import type { AdminSessionRecord, AdminSessionRepository } from '../types.js';
import type { Synchronous } from './async-repositories.js';
import { preparer, type SqliteContext } from './shared.js';

interface Row {
  key_hash: string;
  created_at_ms: number;
  last_seen_at_ms: number;
  expires_at_ms: number;
}

const fromRow = (r: Row): AdminSessionRecord => ({ keyHash: r.key_hash, createdAtMs: r.created_at_ms, lastSeenAtMs: r.last_seen_at_ms, expiresAtMs: r.expires_at_ms });

export class SqliteAdminSessions implements Synchronous<AdminSessionRepository> {
  readonly #s;

  constructor(ctx: SqliteContext) {
    const p = preparer(ctx.db);
    this.#s = {
      create: p(`INSERT INTO admin_sessions (key_hash, created_at_ms, last_seen_at_ms, expires_at_ms)
        VALUES (@keyHash, @createdAtMs, @lastSeenAtMs, @expiresAtMs)`),
      find: p<Row>('SELECT * FROM admin_sessions WHERE key_hash = @keyHash'),
      touch: p('UPDATE admin_sessions SET last_seen_at_ms = max(last_seen_at_ms, @at) WHERE key_hash = @keyHash'),
      delete: p('DELETE FROM admin_sessions WHERE key_hash = @keyHash'),
      expired: p('DELETE FROM admin_sessions WHERE expires_at_ms <= @now OR last_seen_at_ms <= @idleBefore'),
      trim: p(`DELETE FROM admin_sessions WHERE key_hash NOT IN (
        SELECT key_hash FROM admin_sessions ORDER BY created_at_ms DESC, rowid DESC LIMIT @max)`),
      count: p<{ n: number }>('SELECT count(*) AS n FROM admin_sessions'),
    };
  }

  create(s: AdminSessionRecord): void {
    this.#s.create.run({ ...s });
  }

  find(keyHash: string): AdminSessionRecord | undefined {
    const row = this.#s.find.get({ keyHash });
    return row ? fromRow(row) : undefined;
  }

  touch(keyHash: string, lastSeenAtMs: number): void {
    this.#s.touch.run({ keyHash, at: lastSeenAtMs });
  }

  delete(keyHash: string): boolean {
    return this.#s.delete.run({ keyHash }).changes > 0;
  }

  deleteExpired(nowMs: number, idleBeforeMs: number): number {
    return this.#s.expired.run({ now: nowMs, idleBefore: idleBeforeMs }).changes;
  }

  trim(max: number): number {
    return this.#s.trim.run({ max }).changes;
  }

  count(): number {
    return this.#s.count.get({})!.n;
  }
}
