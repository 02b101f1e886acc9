/**
 * Store contract, MCP session bindings part (issue 12 §2: shared by every instance; src/proxy/session-binding.ts).
 * Called from runStoreContract (store-contract.ts) for every store.
 */
import { describe, expect, it } from 'vitest';
import type { Store } from '../../../src/store/types.js';

const T0 = 1_700_000_000_000;
const H1 = 'a'.repeat(64);
const H2 = 'b'.repeat(64);
const H3 = 'c'.repeat(64);
const SERVER = 'https://mcp.example/mcp';

export function mcpSessionsContract(store: () => Store): void {
  describe('mcpSessions', () => {
    it('binds an id hash to a grant and finds it; unknown hashes are undefined', async () => {
      expect(await store().mcpSessions.bind(H1, 'g_1', SERVER, T0)).toBe('g_1');
      expect(await store().mcpSessions.find(H1)).toEqual({ keyHash: H1, grantId: 'g_1', server: SERVER, createdAtMs: T0, lastUsedAtMs: T0 });
      expect(await store().mcpSessions.find(H2)).toBeUndefined();
    });

    it('insert if absent: an id bound to another grant stays theirs; a re-bind by the owner marks it used', async () => {
      await store().mcpSessions.bind(H1, 'g_1', SERVER, T0);
      expect(await store().mcpSessions.bind(H1, 'g_2', SERVER, T0 + 10)).toBe('g_1');
      expect(await store().mcpSessions.find(H1)).toMatchObject({ grantId: 'g_1', lastUsedAtMs: T0, createdAtMs: T0 });
      expect(await store().mcpSessions.bind(H1, 'g_1', SERVER, T0 + 20)).toBe('g_1');
      expect(await store().mcpSessions.find(H1)).toMatchObject({ grantId: 'g_1', lastUsedAtMs: T0 + 20, createdAtMs: T0 });
    });

    it('touch moves lastUsedAtMs forward only; unknown hashes are ignored', async () => {
      await store().mcpSessions.bind(H1, 'g_1', SERVER, T0);
      await store().mcpSessions.touch(H1, T0 + 5_000);
      expect((await store().mcpSessions.find(H1))?.lastUsedAtMs).toBe(T0 + 5_000);
      await store().mcpSessions.touch(H1, T0 + 1_000);
      expect((await store().mcpSessions.find(H1))?.lastUsedAtMs).toBe(T0 + 5_000);
      await store().mcpSessions.touch(H2, T0);
      expect(await store().mcpSessions.find(H2)).toBeUndefined();
    });

    it('forget deletes one binding and says whether there was one', async () => {
      await store().mcpSessions.bind(H1, 'g_1', SERVER, T0);
      expect(await store().mcpSessions.forget(H1)).toBe(true);
      expect(await store().mcpSessions.forget(H1)).toBe(false);
      expect(await store().mcpSessions.find(H1)).toBeUndefined();
    });

    it('retireGrant retires that grant\'s bindings only; a retired id stays refused to every grant', async () => {
      await store().mcpSessions.bind(H1, 'g_1', SERVER, T0);
      await store().mcpSessions.bind(H2, 'g_1', SERVER, T0);
      await store().mcpSessions.bind(H3, 'g_2', SERVER, T0);
      expect(await store().mcpSessions.retireGrant('g_1', T0 + 100)).toBe(2);
      expect(await store().mcpSessions.retireGrant('g_1', T0 + 200)).toBe(0);
      expect(await store().mcpSessions.find(H1)).toMatchObject({ grantId: null, lastUsedAtMs: T0 + 100 });
      expect(await store().mcpSessions.find(H3)).toMatchObject({ grantId: 'g_2' });
      // Nobody can claim a retired id, not even the grant it belonged to.
      expect(await store().mcpSessions.bind(H1, 'g_3', SERVER, T0 + 300)).toBeNull();
      expect(await store().mcpSessions.bind(H1, 'g_1', SERVER, T0 + 300)).toBeNull();
      expect((await store().mcpSessions.find(H1))?.grantId).toBeNull();
    });

    it('purge deletes owned and retired bindings unused since the given time, and counts them', async () => {
      await store().mcpSessions.bind(H1, 'g_1', SERVER, T0 - 10_000);
      await store().mcpSessions.bind(H2, 'g_2', SERVER, T0 - 10_000);
      await store().mcpSessions.retireGrant('g_2', T0 - 5_000);
      await store().mcpSessions.bind(H3, 'g_3', SERVER, T0);
      expect(await store().mcpSessions.purge(T0 - 1)).toBe(2);
      expect(await store().mcpSessions.find(H1)).toBeUndefined();
      expect(await store().mcpSessions.find(H2)).toBeUndefined();
      expect(await store().mcpSessions.find(H3)).toBeDefined();
      expect(await store().mcpSessions.purge(T0)).toBe(0); // strictly before
    });

    it('works inside a transaction', async () => {
      await store().transaction(async (tx) => {
        await tx.mcpSessions.bind(H1, 'g_1', SERVER, T0);
        expect((await tx.mcpSessions.find(H1))?.grantId).toBe('g_1');
      });
      expect((await store().mcpSessions.find(H1))?.grantId).toBe('g_1');
    });
  });
}
