/**
 * The access-token lookup cache (src/store/sqlite/sqlite-store.ts) must never outlive a revocation: not after a
 * revoking write in this process, and not after a commit by another connection (another keyhole process or a
 * `keyhole` CLI command on the same database).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore, type SqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import { makeAccess, makeClient, makeGrant } from './store-contract.js';

describe('lookupAccessToken cache', () => {
  let dir: string;
  let a: SqliteStore;
  let b: SqliteStore;
  const grant = makeGrant({ id: 'g_1', clientId: 'c_1' });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'keyhole-cache-'));
    a = openSqliteStore(join(dir, 'k.db'));
    b = openSqliteStore(join(dir, 'k.db'));
    a.createClient(makeClient({ clientId: 'c_1' }));
    a.createGrant(grant);
    a.createAccessToken(makeAccess(grant, 'f_1', { hash: 'a'.repeat(64) }));
    a.createAccessToken(makeAccess(grant, 'f_2', { hash: 'b'.repeat(64) }));
  });
  afterEach(() => {
    a.close();
    b.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('returns the same (frozen) result on a repeated lookup', () => {
    const first = a.lookupAccessToken('a'.repeat(64))!;
    expect(a.lookupAccessToken('a'.repeat(64))).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
  });

  it('sees revokeAccessToken at once', () => {
    expect(a.lookupAccessToken('a'.repeat(64))!.revokedAt).toBeNull();
    a.revokeAccessToken('a'.repeat(64), 100);
    expect(a.lookupAccessToken('a'.repeat(64))!.revokedAt).toBe(100);
  });

  it('sees revokeGrant at once', () => {
    expect(a.lookupAccessToken('b'.repeat(64))!.grantStatus).toBe('active');
    a.revokeGrant('g_1', 'admin_revoked', 100);
    const after = a.lookupAccessToken('b'.repeat(64))!;
    expect(after.grantStatus).toBe('revoked');
    expect(after.revokedAt).toBe(100);
  });

  it('sees revokeFamily at once', () => {
    expect(a.lookupAccessToken('b'.repeat(64))!.revokedAt).toBeNull();
    a.revokeFamily('f_2', 100);
    expect(a.lookupAccessToken('b'.repeat(64))!.revokedAt).toBe(100);
    expect(a.lookupAccessToken('a'.repeat(64))!.revokedAt).toBeNull();
  });

  it('sees a revocation committed by another connection on the same file', () => {
    expect(a.lookupAccessToken('a'.repeat(64))!.grantStatus).toBe('active');
    b.revokeGrant('g_1', 'admin_revoked', 100);
    expect(a.lookupAccessToken('a'.repeat(64))!.grantStatus).toBe('revoked');
  });

  it('does not cache misses: a token created after a failed lookup is found', () => {
    expect(a.lookupAccessToken('c'.repeat(64))).toBeUndefined();
    a.createAccessToken(makeAccess(grant, 'f_3', { hash: 'c'.repeat(64) }));
    expect(a.lookupAccessToken('c'.repeat(64))).toBeDefined();
  });
});
