/**
 * The access-token lookup cache (src/store/sqlite/cached-token-lookup.ts) must never outlive a revocation: not after a
 * revoking write on its own connection, and not after one on another connection of this process on the same file
 * (a second store, e.g. a `keyhole grants revoke --config` run in-process). Other processes cannot write while a
 * server holds the file (src/store/sqlite/process-lock.ts), so no per-request `PRAGMA data_version` check.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore, type SqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import { makeAccess, makeClient, makeGrant } from './store-contract.js';

describe('access-token lookup cache (tokens.findAccess)', () => {
  let dir: string;
  let a: SqliteStore;
  let b: SqliteStore;
  const grant = makeGrant({ id: 'g_1', clientId: 'c_1' });
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'keyhole-cache-'));
    a = openSqliteStore(join(dir, 'k.db'));
    b = openSqliteStore(join(dir, 'k.db'));
    await a.clients.create(makeClient({ clientId: 'c_1' }));
    await a.grants.create(grant);
    await a.tokens.createAccess(makeAccess(grant, 'f_1', { hash: 'a'.repeat(64) }));
    await a.tokens.createAccess(makeAccess(grant, 'f_2', { hash: 'b'.repeat(64) }));
  });
  afterEach(async () => {
    await a.close();
    await b.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('returns the same (frozen) result on a repeated lookup', async () => {
    const first = (await a.tokens.findAccess('a'.repeat(64)))!;
    expect(await a.tokens.findAccess('a'.repeat(64))).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
  });

  it('sees tokens.revokeAccess at once', async () => {
    expect((await a.tokens.findAccess('a'.repeat(64)))!.revokedAt).toBeNull();
    await a.tokens.revokeAccess('a'.repeat(64), 100);
    expect((await a.tokens.findAccess('a'.repeat(64)))!.revokedAt).toBe(100);
  });

  it('sees grants.revoke at once', async () => {
    expect((await a.tokens.findAccess('b'.repeat(64)))!.grantStatus).toBe('active');
    await a.grants.revoke('g_1', 'admin_revoked', 100);
    const after = (await a.tokens.findAccess('b'.repeat(64)))!;
    expect(after.grantStatus).toBe('revoked');
    expect(after.revokedAt).toBe(100);
  });

  it('sees tokens.revokeFamily at once', async () => {
    expect((await a.tokens.findAccess('b'.repeat(64)))!.revokedAt).toBeNull();
    await a.tokens.revokeFamily('f_2', 100);
    expect((await a.tokens.findAccess('b'.repeat(64)))!.revokedAt).toBe(100);
    expect((await a.tokens.findAccess('a'.repeat(64)))!.revokedAt).toBeNull();
  });

  it('sees a revocation committed by another connection on the same file', async () => {
    expect((await a.tokens.findAccess('a'.repeat(64)))!.grantStatus).toBe('active');
    await b.grants.revoke('g_1', 'admin_revoked', 100);
    expect((await a.tokens.findAccess('a'.repeat(64)))!.grantStatus).toBe('revoked');
  });

  it('sees a revocation committed inside another connection\'s transaction on the very next lookup', async () => {
    expect((await a.tokens.findAccess('b'.repeat(64)))!.revokedAt).toBeNull();
    await b.transaction(async (tx) => { await tx.tokens.revokeAccess('b'.repeat(64), 200); });
    expect((await a.tokens.findAccess('b'.repeat(64)))!.revokedAt).toBe(200);
    expect((await a.tokens.findAccess('a'.repeat(64)))!.revokedAt).toBeNull();
  });

  it('does not keep what it read while another connection\'s revoking transaction was still open', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    let revoked!: () => void;
    const inside = new Promise<void>((r) => { revoked = r; });
    const tx = b.transaction(async (t) => { await t.grants.revoke('g_1', 'admin_revoked', 300); revoked(); await gate; });
    await inside;
    expect((await a.tokens.findAccess('a'.repeat(64)))!.grantStatus).toBe('active'); // not committed yet
    release();
    await tx;
    expect((await a.tokens.findAccess('a'.repeat(64)))!.grantStatus).toBe('revoked');
  });

  it('keeps its entries across non-revoking writes of other connections', async () => {
    const first = (await a.tokens.findAccess('a'.repeat(64)))!;
    await b.tokens.createAccess(makeAccess(grant, 'f_4', { hash: 'd'.repeat(64) }));
    expect(await a.tokens.findAccess('a'.repeat(64))).toBe(first);
  });

  it('holds at most 10,000 entries, evicts the oldest first, and still sees a revocation once it has wrapped around', async () => {
    const hashes = Array.from({ length: 10_002 }, (_, i) => i.toString(16).padStart(64, '0'));
    await a.transaction(async (tx) => {
      for (const hash of hashes) await tx.tokens.createAccess(makeAccess(grant, 'f_9', { hash }));
    });
    const first = new Map<string, unknown>();
    for (const hash of hashes.slice(0, 10_001)) first.set(hash, await a.tokens.findAccess(hash)); // the 10,001st evicts the 1st
    expect(await a.tokens.findAccess(hashes[1]!)).toBe(first.get(hashes[1]!)); // kept
    expect(await a.tokens.findAccess(hashes[10_000]!)).toBe(first.get(hashes[10_000]!)); // kept
    const again = await a.tokens.findAccess(hashes[0]!); // evicted: read again (and evicts the 2nd)
    expect(again).not.toBe(first.get(hashes[0]!));
    expect(again).toEqual(first.get(hashes[0]!));
    expect(await a.tokens.findAccess(hashes[2]!)).toBe(first.get(hashes[2]!));
    expect(await a.tokens.findAccess(hashes[1]!)).not.toBe(first.get(hashes[1]!));
    await a.tokens.revokeAccess(hashes[5_000]!, 100);
    expect((await a.tokens.findAccess(hashes[5_000]!))!.revokedAt).toBe(100);
    expect((await a.tokens.findAccess(hashes[5_001]!))!.revokedAt).toBeNull();
  });

  it('does not cache misses: a token created after a failed lookup is found', async () => {
    expect(await a.tokens.findAccess('c'.repeat(64))).toBeUndefined();
    await a.tokens.createAccess(makeAccess(grant, 'f_3', { hash: 'c'.repeat(64) }));
    expect(await a.tokens.findAccess('c'.repeat(64))).toBeDefined();
  });
});
