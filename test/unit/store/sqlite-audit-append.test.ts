/**
 * SQLite audit append (src/store/sqlite/audit-log.ts): its multi-row INSERTs are `INSERT OR FAIL` (no statement
 * journal), so a failing row leaves the earlier rows of its statement in place and the enclosing transaction or
 * savepoint is what makes the batch all or nothing. Inside a transaction-scoped store (a savepoint), a failed append
 * must leave none of its batch while the transaction's other writes commit. (PostgreSQL aborts the whole transaction
 * on a failed statement, so this is not part of the engine-neutral contract.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AuditLogRecord } from '../../../src/store/repositories/audit-log.js';
import { openSqliteStore, type SqliteStore } from '../../../src/store/sqlite/sqlite-store.js';

const T0 = Date.UTC(2026, 0, 1);
const rec = (n: number, over: Partial<AuditLogRecord> = {}): AuditLogRecord => ({
  id: `au_${String(n).padStart(32, '0')}`, at: new Date(T0 + n * 1000).toISOString(), person: null, subject: 'alice', clientId: 'c_1',
  server: 'demo', grantId: 'g_1', method: 'tools/call', tool: 'echo', outcome: 'ok', httpStatus: 200, rpcErrorCode: null, denialReason: null,
  durationMsToFirstByte: 3, durationMsTotal: 5, requestBytes: 80, responseBytes: 120, requestId: `t${n}`, ...over,
});

describe('SQLite audit append (INSERT OR FAIL)', () => {
  let store: SqliteStore;
  afterEach(async () => { await store.close(); });

  it('a failed append inside a transaction leaves nothing of its batch; the transaction\'s other writes commit', async () => {
    store = openSqliteStore(':memory:');
    await store.auditLog.append([rec(99)]);
    await store.transaction(async (tx) => {
      await tx.auditLog.append([rec(1)]);
      // 100 rows: chunks 64, 16, 16, 4; rec(99) (a duplicate id) sits in the second chunk, after 64 + 34 rows went in.
      await expect(tx.auditLog.append(Array.from({ length: 100 }, (_, i) => rec(i + 2)))).rejects.toThrow(/unique/i);
      await tx.auditLog.append([rec(200)]);
    });
    expect((await store.auditLog.scan({}, null, 500)).records.map((r) => r.id)).toEqual([rec(99).id, rec(1).id, rec(200).id]);
  });

  it('a NOT NULL violation mid-batch rolls the whole batch back too', async () => {
    store = openSqliteStore(':memory:');
    const batch = Array.from({ length: 70 }, (_, i) => rec(i + 1));
    batch[66] = rec(67, { server: null as unknown as string });
    await expect(store.auditLog.append(batch)).rejects.toThrow(/NOT NULL/i);
    expect((await store.auditLog.scan({}, null, 500)).records).toEqual([]);
  });
});
