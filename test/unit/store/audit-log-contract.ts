/**
 * Store contract, audit part (issue 14): `store.auditLog` — batch append (all or none, inside a transaction too),
 * filters, cursor pagination both ways, retention purges with exact boundaries, the grant count behind
 * `keyhole_grants`, per-tool stats. Called from runStoreContract (store-contract.ts) for every store.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { InvalidCursorError, type AuditFilter, type AuditLogRecord, type AuditLogRepository } from '../../../src/store/repositories/audit-log.js';
import type { Store } from '../../../src/store/types.js';
import { makeAccess, makeCode, makeEvent, makeGrant, makeRefresh } from './store-contract.js';

const T0 = Date.UTC(2026, 0, 1);

function rec(n: number, over: Partial<AuditLogRecord> = {}): AuditLogRecord {
  return {
    id: `au_${String(n).padStart(32, '0')}`, at: new Date(T0 + n * 1000).toISOString(), person: null, subject: 'alice', clientId: 'c_1',
    server: 'demo', grantId: 'g_1', method: 'tools/call', tool: 'echo', outcome: 'ok', httpStatus: 200, rpcErrorCode: null, denialReason: null,
    durationMsToFirstByte: 3, durationMsTotal: 5, requestBytes: 80, responseBytes: 120, requestId: `t${n}`, ...over,
  };
}

export function auditLogContract(get: () => Store): void {
  describe('audit log (issue 14)', () => {
    let store: Store;
    let log: AuditLogRepository;
    beforeEach(() => {
      store = get();
      log = store.auditLog;
    });

    it('appends a batch and reads it back newest first, with arguments round-tripped', async () => {
      await log.append([rec(1), rec(2, { arguments: { q: '[REDACTED:key]', n: 3 } })]);
      const page = await log.query({}, { limit: 10 });
      expect(page.records.map((r) => r.id)).toEqual([rec(2).id, rec(1).id]);
      expect(page.records[0]).toEqual(rec(2, { arguments: { q: '[REDACTED:key]', n: 3 } }));
      expect(page.records[1]).toEqual(rec(1));
      expect('arguments' in page.records[1]!).toBe(false);
      expect(page.nextCursor).toBeNull();
    });

    it('round-trips the redaction counts per kind, and stores none when there were none', async () => {
      await log.append([rec(1, { redactions: { private_key: 1, aws_access_key: 2, jwt: 1 } }), rec(2)]);
      const [second, first] = (await log.query({}, { limit: 10 })).records;
      expect(first).toEqual(rec(1, { redactions: { private_key: 1, aws_access_key: 2, jwt: 1 } }));
      expect('redactions' in second!).toBe(false);
      expect((await log.scan({}, null, 10)).records[0]!.redactions).toEqual({ private_key: 1, aws_access_key: 2, jwt: 1 });
    });

    it('appends a batch of 285 records (SQLite: several multi-row INSERTs) in order, every field intact', async () => {
      const batch = Array.from({ length: 285 }, (_, i) =>
        rec(i + 1, i % 7 === 0 ? { arguments: { i }, redactions: { jwt: i } } : { tool: null, durationMsToFirstByte: null }));
      await log.append(batch);
      expect((await log.scan({}, null, 500)).records).toEqual(batch);
    });

    it('appends all or nothing: a duplicate id rolls the whole batch back', async () => {
      await log.append([rec(1)]);
      await expect(log.append([rec(2), rec(1)])).rejects.toThrow(/unique/i);
      expect((await log.query({}, { limit: 10 })).records.map((r) => r.id)).toEqual([rec(1).id]);
    });

    it('appends all or nothing when the duplicate is deep in a large batch (SQLite: in a later multi-row INSERT), and a later batch still goes in', async () => {
      await log.append([rec(150)]);
      // 200 rows: chunks 64, 64, 64, 4, 4 on SQLite; the duplicate (rec(150)) sits in the third chunk, after 128
      // rows of the same batch were written.
      const batch = Array.from({ length: 200 }, (_, i) => rec(i + 1));
      await expect(log.append(batch)).rejects.toThrow(/unique/i);
      expect((await log.scan({}, null, 500)).records.map((r) => r.id)).toEqual([rec(150).id]);
      await log.append([rec(201), rec(202)]);
      expect((await log.scan({}, null, 500)).records.map((r) => r.id)).toEqual([rec(150).id, rec(201).id, rec(202).id]);
    });

    it('appends through a transaction-scoped store, and a rolled-back transaction leaves no record', async () => {
      await store.transaction(async (tx) => tx.auditLog.append([rec(1)]));
      await expect(store.transaction(async (tx) => {
        await tx.auditLog.append([rec(2)]);
        throw new Error('abort');
      })).rejects.toThrow('abort');
      expect((await log.query({}, { limit: 10 })).records.map((r) => r.id)).toEqual([rec(1).id]);
    });

    it('filters by person, subject, client, server, tool, outcome and a half-open time range', async () => {
      await log.append([
        rec(1), rec(2, { subject: 'bob' }), rec(3, { clientId: 'c_2' }), rec(4, { server: 'other' }), rec(5, { tool: 'delete' }),
        rec(6, { outcome: 'denied' }), rec(7, { person: 'p_1' }),
      ]);
      const ids = async (f: AuditFilter) => (await log.query(f, { limit: 50 })).records.map((r) => r.requestId);
      expect(await ids({ subject: 'bob' })).toEqual(['t2']);
      expect(await ids({ clientId: 'c_2' })).toEqual(['t3']);
      expect(await ids({ server: 'other' })).toEqual(['t4']);
      expect(await ids({ tool: 'delete' })).toEqual(['t5']);
      expect(await ids({ outcome: 'denied' })).toEqual(['t6']);
      expect(await ids({ person: 'p_1' })).toEqual(['t7']);
      expect(await ids({ since: T0 + 2000, until: T0 + 4000 })).toEqual(['t3', 't2']);
      expect(await ids({ subject: 'alice', server: 'demo', tool: 'echo', outcome: 'ok', since: T0 + 5000 })).toEqual(['t7']);
    });

    it('pages with an opaque cursor until the last page, and refuses a forged cursor', async () => {
      await log.append([1, 2, 3, 4, 5].map((n) => rec(n)));
      const p1 = await log.query({}, { limit: 2 });
      expect(p1.records.map((r) => r.requestId)).toEqual(['t5', 't4']);
      const p2 = await log.query({}, { limit: 2, cursor: p1.nextCursor });
      expect(p2.records.map((r) => r.requestId)).toEqual(['t3', 't2']);
      const p3 = await log.query({}, { limit: 2, cursor: p2.nextCursor });
      expect(p3.records.map((r) => r.requestId)).toEqual(['t1']);
      expect(p3.nextCursor).toBeNull();
      await expect(log.query({}, { limit: 2, cursor: "c1 OR 1=1" })).rejects.toBeInstanceOf(InvalidCursorError);
      await expect(log.query({}, { limit: 2, cursor: '2' })).rejects.toBeInstanceOf(InvalidCursorError);
    });

    it('scans oldest first for exports', async () => {
      await log.append([1, 2, 3].map((n) => rec(n)));
      const a = await log.scan({}, null, 2);
      expect(a.records.map((r) => r.requestId)).toEqual(['t1', 't2']);
      const b = await log.scan({}, a.nextCursor, 2);
      expect(b.records.map((r) => r.requestId)).toEqual(['t3']);
      expect(b.nextCursor).toBeNull();
    });

    it('purges exactly the records before the cut, at most `limit` per call', async () => {
      await log.append([1, 2, 3, 4].map((n) => rec(n)));
      expect(await log.purgeBefore(T0 + 3000, 1)).toBe(1);
      expect(await log.purgeBefore(T0 + 3000, 10)).toBe(1);
      expect(await log.purgeBefore(T0 + 3000, 10)).toBe(0);
      expect((await log.query({}, { limit: 10 })).records.map((r) => r.requestId)).toEqual(['t4', 't3']);
    });

    it('purges events older than the cut (epoch seconds against epoch ms)', async () => {
      const at = 1_700_000_000;
      for (const s of [at - 1, at, at + 1]) await store.events.append(makeEvent({ at: s }));
      expect(await log.purgeEventsBefore(at * 1000, 100)).toBe(1);
      expect(await log.purgeEventsBefore(at * 1000 + 1, 100)).toBe(1);
      expect((await store.events.list({ limit: 10, offset: 0 })).map((e) => e.at)).toEqual([at + 1]);
    });

    it('purges expired codes and tokens only, up to `limit` rows in all', async () => {
      const g = makeGrant();
      await store.grants.create(g);
      const cut = 1_700_000_000;
      const code = makeCode(g, { familyId: 'f1', expiresAt: cut - 1 });
      const atOld = makeAccess(g, 'f1', { expiresAt: cut - 10 });
      const atNew = makeAccess(g, 'f1', { expiresAt: cut });
      const rtOld = makeRefresh(g, 'f1', { expiresAt: cut - 5 });
      await store.tokens.createCode(code);
      await store.tokens.createAccess(atOld);
      await store.tokens.createAccess(atNew);
      await store.tokens.createRefresh(rtOld);
      const left = async () => [
        (await store.tokens.findCode(code.hash)) !== undefined,
        (await store.tokens.findAccess(atOld.hash)) !== undefined,
        (await store.tokens.findAccess(atNew.hash)) !== undefined,
        (await store.tokens.findRefresh(rtOld.hash)) !== undefined,
      ];
      expect(await log.purgeExpiredTokens(cut * 1000, 2)).toBe(2);
      expect(await left()).toEqual([false, false, true, true]);
      expect(await log.purgeExpiredTokens(cut * 1000, 10)).toBe(1);
      expect(await left()).toEqual([false, false, true, false]);
      expect(await log.purgeExpiredTokens(cut * 1000, 10)).toBe(0);
    });

    it('counts grants by server and status', async () => {
      await store.grants.create(makeGrant({ server: 'demo' }));
      await store.grants.create(makeGrant({ server: 'demo' }));
      await store.grants.create(makeGrant({ server: 'demo', status: 'revoked', revokedAt: 1 }));
      await store.grants.create(makeGrant({ server: 'other' }));
      expect(await log.countByServerAndStatus()).toEqual([
        { server: 'demo', status: 'active', count: 2 },
        { server: 'demo', status: 'revoked', count: 1 },
        { server: 'other', status: 'active', count: 1 },
      ]);
    });

    it('computes per-tool calls, errors and nearest-rank p50/p95 of tools/call records since a time, busiest first', async () => {
      const durations = [5, 1, 9, 3, 7, 2, 8, 4, 6, 10]; // 1…10 ms for "a"
      await log.append([
        ...durations.map((d, i) => rec(10 + i, { tool: 'a', durationMsTotal: d, outcome: i < 2 ? 'error' : 'ok' })),
        rec(30, { tool: 'b', durationMsTotal: 42 }),
        rec(31, { tool: 'b', durationMsTotal: 40, server: 'other' }),
        rec(32, { tool: 'b', durationMsTotal: 99, method: 'resources/read' }),
        rec(1, { tool: 'b', durationMsTotal: 1 }), // before `since`
      ]);
      expect(await log.toolStats('demo', T0 + 5000)).toEqual([
        { tool: 'a', calls: 10, errors: 2, p50Ms: 5, p95Ms: 10 },
        { tool: 'b', calls: 1, errors: 0, p50Ms: 42, p95Ms: 42 },
      ]);
      expect(await log.toolStats('demo', T0 + 100_000)).toEqual([]);
    });
  });
}
