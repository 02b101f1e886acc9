/**
 * `keyhole vault migrate --to keychain|database` (or its older name `sqlite`): moves every upstream refresh token between the SQLite vault (sealed
 * in the upstream_credentials row) and the OS keychain (service `mcp-keyhole/<instance>`, account = grant id).
 *
 * The row says where each token is, and every step is ordered so that a crash at any point leaves a state keyhole
 * reads correctly (whatever `storage.vault` says), and a new run finishes the job (idempotent per entry):
 * - to keychain: write the keychain entry, read it back, then clear the sealed copy in the row (compare-and-set).
 *   A crash in between leaves the row pointing to its own sealed token plus an unused keychain copy.
 * - to sqlite: read the keychain entry, write it sealed into the row (compare-and-set on "row says keychain"), then
 *   delete the keychain entry. A crash in between leaves the row pointing to its sealed token plus an unused copy.
 * Unused keychain entries (no row points to them: interrupted moves, revocations that crashed) are swept at the
 * end of every run. Run it with keyhole stopped.
 */
import type { VaultCipher } from '../store/crypto/vault-cipher.js';
import type { Store } from '../store/types.js';
import { sealContext } from './seal-contexts.js';
import type { SecretStore } from './secret-store.js';
import { UpstreamVault } from './upstream-vault.js';

/** Grant ids as keyhole makes them (`g_` + 22 base64url); only such accounts are ever swept. */
const GRANT_ACCOUNT = /^g_[A-Za-z0-9_-]{22}$/;

export interface MigrationResult {
  to: 'sqlite' | 'keychain';
  moved: number;
  /** Changed by another writer meanwhile (left as they were). */
  skipped: number;
  failed: Array<{ grantId: string; error: string }>;
  /** Keychain entries no row pointed to, deleted. */
  orphansRemoved: number;
}

export interface MigrationOptions {
  store: Store;
  cipher: VaultCipher;
  keychain: SecretStore;
  to: 'sqlite' | 'keychain';
  batchSize?: number;
  onProgress?: (p: { moved: number; skipped: number; failed: number; remaining: number }) => void | Promise<void>;
}

export async function migrateVault(opts: MigrationOptions): Promise<MigrationResult> {
  const { store, cipher, keychain, to } = opts;
  const batchSize = Math.max(1, Math.min(1000, Math.floor(opts.batchSize ?? 200)));
  await keychain.probe();
  const result: MigrationResult = { to, moved: 0, skipped: 0, failed: [], orphansRemoved: 0 };
  const vault = new UpstreamVault({ store, cipher, backend: 'keychain', keychain });
  const from = to === 'keychain' ? 'sqlite' : 'keychain';
  let after: string | null = null;
  for (;;) {
    const ids = await store.upstreamCredentials.listRefreshIdsIn(from, after, batchSize);
    if (ids.length === 0) break;
    after = ids[ids.length - 1]!;
    for (const grantId of ids) {
      try {
        const moved = to === 'keychain' ? await toKeychain(store, cipher, vault, grantId) : await toSqlite(store, cipher, keychain, grantId);
        if (moved) result.moved++;
        else result.skipped++;
      } catch (e) {
        result.failed.push({ grantId, error: (e as Error).message });
      }
    }
    const counts = await store.upstreamCredentials.countRefreshLocations();
    await opts.onProgress?.({ moved: result.moved, skipped: result.skipped, failed: result.failed.length, remaining: from === 'sqlite' ? counts.sqlite : counts.keychain });
  }
  result.orphansRemoved = await sweepOrphans(store, keychain);
  return result;
}

async function toKeychain(store: Store, cipher: VaultCipher, vault: UpstreamVault, grantId: string): Promise<boolean> {
  const row = await store.upstreamCredentials.find(grantId);
  if (!row || row.refreshToken === null) return false;
  const refresh = await cipher.open(row.refreshToken, sealContext.refresh(grantId));
  return vault.moveRefreshToKeychain(grantId, refresh, row.refreshToken);
}

async function toSqlite(store: Store, cipher: VaultCipher, keychain: SecretStore, grantId: string): Promise<boolean> {
  const row = await store.upstreamCredentials.find(grantId);
  if (!row?.refreshInKeychain) return false;
  const refresh = await keychain.get(grantId);
  if (refresh === null) throw new Error(`the keychain has no entry for ${grantId} (deleted outside keyhole?); the grant cannot refresh and will end when its access token expires`);
  const moved = await store.upstreamCredentials.markRefreshInStore(grantId, await cipher.seal(refresh, sealContext.refresh(grantId)));
  if (moved) await keychain.delete(grantId);
  return moved;
}

/** Deletes keychain entries of grants whose row does not point to the keychain (or is gone). */
export async function sweepOrphans(store: Store, keychain: SecretStore): Promise<number> {
  let removed = 0;
  for (const account of await keychain.accounts()) {
    if (!GRANT_ACCOUNT.test(account)) continue;
    if ((await store.upstreamCredentials.find(account))?.refreshInKeychain) continue;
    if (await keychain.delete(account)) removed++;
  }
  return removed;
}

/** Keychain entries no row points to (for `vault status`). */
export async function countOrphans(store: Store, keychain: SecretStore): Promise<number> {
  let n = 0;
  for (const account of await keychain.accounts()) {
    if (GRANT_ACCOUNT.test(account) && !(await store.upstreamCredentials.find(account))?.refreshInKeychain) n++;
  }
  return n;
}
