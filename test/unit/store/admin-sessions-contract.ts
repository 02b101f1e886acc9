/**
 * Store contract, admin sessions part (issue 12 §2: shared by every instance). Called from runStoreContract
 * (store-contract.ts) for every store.
 */
import { describe, expect, it } from 'vitest';
import type { AdminSessionRecord, Store } from '../../../src/store/types.js';

const T0 = 1_700_000_000_000;

function session(keyHash: string, over: Partial<AdminSessionRecord> = {}): AdminSessionRecord {
  return { keyHash, createdAtMs: T0, lastSeenAtMs: T0, expiresAtMs: T0 + 8 * 3_600_000, ...over };
}

export function adminSessionsContract(store: () => Store): void {
  describe('adminSessions', () => {
    it('round-trips a session by its key hash; unknown keys are undefined', async () => {
      const s = session('a'.repeat(64));
      await store().adminSessions.create(s);
      expect(await store().adminSessions.find(s.keyHash)).toEqual(s);
      expect(await store().adminSessions.find('b'.repeat(64))).toBeUndefined();
      expect(await store().adminSessions.count()).toBe(1);
    });

    it('refuses a second session with the same key hash', async () => {
      await store().adminSessions.create(session('k1'));
      await expect(store().adminSessions.create(session('k1'))).rejects.toThrow();
    });

    it('touch moves lastSeenAtMs forward only', async () => {
      await store().adminSessions.create(session('k1'));
      await store().adminSessions.touch('k1', T0 + 5_000);
      expect((await store().adminSessions.find('k1'))?.lastSeenAtMs).toBe(T0 + 5_000);
      await store().adminSessions.touch('k1', T0 + 1_000);
      expect((await store().adminSessions.find('k1'))?.lastSeenAtMs).toBe(T0 + 5_000);
      await store().adminSessions.touch('nope', T0); // unknown: nothing happens
    });

    it('delete says whether there was a session', async () => {
      await store().adminSessions.create(session('k1'));
      expect(await store().adminSessions.delete('k1')).toBe(true);
      expect(await store().adminSessions.delete('k1')).toBe(false);
      expect(await store().adminSessions.find('k1')).toBeUndefined();
    });

    it('deleteExpired removes sessions past their end or idle since the given time, and counts them', async () => {
      await store().adminSessions.create(session('ended', { expiresAtMs: T0 + 100 }));
      await store().adminSessions.create(session('idle', { lastSeenAtMs: T0 - 10_000 }));
      await store().adminSessions.create(session('live', { lastSeenAtMs: T0 + 50 }));
      expect(await store().adminSessions.deleteExpired(T0 + 100, T0 - 1)).toBe(2);
      expect(await store().adminSessions.find('live')).toBeDefined();
      expect(await store().adminSessions.count()).toBe(1);
    });

    it('trim keeps the most recently created sessions (ties: the later insert)', async () => {
      await store().adminSessions.create(session('old', { createdAtMs: T0 }));
      await store().adminSessions.create(session('tie1', { createdAtMs: T0 + 1 }));
      await store().adminSessions.create(session('tie2', { createdAtMs: T0 + 1 }));
      await store().adminSessions.create(session('new', { createdAtMs: T0 + 2 }));
      expect(await store().adminSessions.trim(2)).toBe(2);
      expect(await store().adminSessions.find('new')).toBeDefined();
      expect(await store().adminSessions.find('tie2')).toBeDefined();
      expect(await store().adminSessions.find('tie1')).toBeUndefined();
      expect(await store().adminSessions.find('old')).toBeUndefined();
      expect(await store().adminSessions.trim(2)).toBe(0);
    });

    it('is part of transactions: a rolled-back create leaves nothing', async () => {
      await expect(store().transaction(async (tx) => {
        await tx.adminSessions.create(session('k1'));
        throw new Error('roll back');
      })).rejects.toThrow('roll back');
      expect(await store().adminSessions.find('k1')).toBeUndefined();
    });
  });
}
