/**
 * The access-token lookup cache (src/store/sqlite/cached-token-lookup.ts) must never outlive a revocation: not after a
 * revoking write in this process, and not after a commit by another connection (another keyhole process or a
 * `keyhole` CLI command on the same database).
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

  it('does not cache misses: a token created after a failed lookup is found', async () => {
    expect(await a.tokens.findAccess('c'.repeat(64))).toBeUndefined();
    await a.tokens.createAccess(makeAccess(grant, 'f_3', { hash: 'c'.repeat(64) }));
    expect(await a.tokens.findAccess('c'.repeat(64))).toBeDefined();
  });
});
