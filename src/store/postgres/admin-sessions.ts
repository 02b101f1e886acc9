/** PostgreSQL admin-sessions repository over `admin_sessions` (./migrations.ts; ../repositories/admin-sessions.ts). */
import type { AdminSessionRecord, AdminSessionRepository } from '../types.js';
import { statement, type Executor } from './executor.js';

interface Row {
  key_hash: string;
  created_at_ms: number;
  last_seen_at_ms: number;
  expires_at_ms: number;
}

const S = {
  create: statement('admin-sessions.create', `INSERT INTO admin_sessions (key_hash, created_at_ms, last_seen_at_ms, expires_at_ms)
    VALUES (@keyHash, @createdAtMs, @lastSeenAtMs, @expiresAtMs)`),
  find: statement<Row>('admin-sessions.find', 'SELECT key_hash, created_at_ms, last_seen_at_ms, expires_at_ms FROM admin_sessions WHERE key_hash = @keyHash'),
  touch: statement('admin-sessions.touch', 'UPDATE admin_sessions SET last_seen_at_ms = greatest(last_seen_at_ms, @at) WHERE key_hash = @keyHash'),
  delete: statement('admin-sessions.delete', 'DELETE FROM admin_sessions WHERE key_hash = @keyHash'),
  expired: statement('admin-sessions.expired', 'DELETE FROM admin_sessions WHERE expires_at_ms <= @now OR last_seen_at_ms <= @idleBefore'),
  trim: statement('admin-sessions.trim', `DELETE FROM admin_sessions WHERE key_hash NOT IN (
    SELECT key_hash FROM admin_sessions ORDER BY created_at_ms DESC, seq DESC LIMIT @max)`),
  count: statement<{ n: number }>('admin-sessions.count', 'SELECT count(*)::bigint AS n FROM admin_sessions'),
};

export class PostgresAdminSessions implements AdminSessionRepository {
  constructor(private readonly ex: Executor) {}

  async create(s: AdminSessionRecord): Promise<void> {
    await this.ex.run(S.create, { ...s });
  }

  async find(keyHash: string): Promise<AdminSessionRecord | undefined> {
    const r = await this.ex.one(S.find, { keyHash });
    return r ? { keyHash: r.key_hash, createdAtMs: r.created_at_ms, lastSeenAtMs: r.last_seen_at_ms, expiresAtMs: r.expires_at_ms } : undefined;
  }

  async touch(keyHash: string, lastSeenAtMs: number): Promise<void> {
    await this.ex.run(S.touch, { keyHash, at: lastSeenAtMs });
  }

  async delete(keyHash: string): Promise<boolean> {
    return (await this.ex.run(S.delete, { keyHash })) > 0;
  }

  async deleteExpired(nowMs: number, idleBeforeMs: number): Promise<number> {
    return this.ex.run(S.expired, { now: nowMs, idleBefore: idleBeforeMs });
  }

  async trim(max: number): Promise<number> {
    return this.ex.run(S.trim, { max });
  }

  async count(): Promise<number> {
    return (await this.ex.one(S.count))?.n ?? 0;
  }
}
