/** Keys every instance shares (src/vault/shared-keys.ts): created once, sealed, the same for every loader. */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadSharedKey } from '../../../src/vault/shared-keys.js';
import { openSqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import { VaultCipher, keyringFromMasterKey } from '../../../src/store/crypto/vault-cipher.js';

describe('loadSharedKey', () => {
  it('creates one random key, sealed under the master key, and every loader (even racing ones) gets that key', async () => {
    const store = openSqliteStore(':memory:');
    const cipher = new VaultCipher(keyringFromMasterKey(randomBytes(32).toString('base64url')));
    try {
      const keys = await Promise.all([1, 2, 3].map(() => loadSharedKey(store, cipher, 'consent-csrf', 1_700_000_000)));
      expect(keys[0]).toHaveLength(32);
      expect(keys.map((k) => k.toString('hex'))).toEqual(Array(3).fill(keys[0]!.toString('hex')));
      const sealed = await store.sealedSecrets.find('shared-key:consent-csrf');
      expect(sealed).toMatch(/^eyJ[\w-]+\.\.[\w-]+\.[\w-]+\.[\w-]+$/); // a compact JWE (dir): no plaintext
      expect(sealed).not.toContain(keys[0]!.toString('base64url'));
      expect(await cipher.open(sealed!, 'shared-key:consent-csrf')).toBe(keys[0]!.toString('base64url'));
      expect((await loadSharedKey(store, cipher, 'other', 0)).equals(keys[0]!)).toBe(false);
    } finally {
      await store.close();
    }
  });
});
