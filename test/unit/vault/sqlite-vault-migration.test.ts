import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS, migrate } from '../../../src/store/sqlite/migrations.js';
import { openSqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import { VaultCipher, keyringFromMasterKey } from '../../../src/store/crypto/vault-cipher.js';
import { sealContext } from '../../../src/upstream/seal-context.js';
import { sqliteConnection } from '../../helpers/sqlite-engine.js';

describe('SQLite schema migration 2 (vault key ids, refresh-token location)', () => {
  it('backfills the kid of every existing ciphertext and marks every refresh token as in SQLite', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyhole-mig2-'));
    const file = join(dir, 'keyhole.db');
    const keyring = keyringFromMasterKey(randomBytes(32).toString('base64url'));
    const cipher = new VaultCipher(keyring);
    const db = new Database(file);
    migrate(db, MIGRATIONS.slice(0, 1)); // a database written by the first release
    db.prepare(`INSERT INTO grants (id, client_id, server, subject, scopes, status, created_at) VALUES ('g_1', 'c', 'demo', 'u', '', 'active', 1)`).run();
    db.prepare(`INSERT INTO upstream_credentials (grant_id, access_token, access_expires_at, refresh_token, scopes, updated_at)
      VALUES ('g_1', ?, 100, ?, '', 1)`).run(await cipher.seal('a', sealContext.access('g_1')), await cipher.seal('r', sealContext.refresh('g_1')));
    db.prepare(`INSERT INTO pending_authorizations (id, client_id, request, upstream_state_hash, upstream_verifier, created_at, expires_at)
      VALUES ('p_1', 'c', '{}', 'h', ?, 1, 2)`).run(await cipher.seal('v', sealContext.pendingVerifier('p_1')));
    db.close();

    const store = openSqliteStore(file);
    expect(sqliteConnection(store).pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    expect(await store.vaultEntries.countByKid()).toEqual([
      { field: 'pending_verifier', kid: keyring.current, count: 1 },
      { field: 'upstream_access', kid: keyring.current, count: 1 },
      { field: 'upstream_refresh', kid: keyring.current, count: 1 },
    ]);
    expect(await store.upstreamCredentials.countRefreshLocations()).toEqual({ sqlite: 1, keychain: 0, none: 0 });
    expect((await store.upstreamCredentials.find('g_1'))?.refreshInKeychain).toBe(false);
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
