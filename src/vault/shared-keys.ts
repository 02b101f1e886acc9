/**
 * Random keys that every keyhole instance must share, kept sealed in the database (`sealed_secrets`, ctx
 * `shared-key:<name>`): created once by whichever instance starts first (insert-if-absent, so instances starting at
 * once agree on one key), then read by every instance at startup. Sealed under the master keyring like any vault
 * entry, so `keyhole keys rotate` re-seals it and the key itself survives a master-key rotation: a consent page
 * rendered by an instance still on the old master key is accepted by one already on the new key (rolling deploys).
 */
import { randomBytes } from 'node:crypto';
import type { VaultCipher } from '../store/crypto/vault-cipher.js';
import type { Store } from '../store/types.js';
import { sharedKeySealContext } from './seal-contexts.js';

export async function loadSharedKey(store: Store, cipher: VaultCipher, name: string, now: number, bytes = 32): Promise<Buffer> {
  const ctx = sharedKeySealContext(name);
  let sealed = await store.sealedSecrets.find(ctx);
  if (sealed === undefined) {
    await store.sealedSecrets.putIfAbsent(ctx, await cipher.seal(randomBytes(bytes).toString('base64url'), ctx), now);
    sealed = await store.sealedSecrets.find(ctx); // ours, or the one another instance inserted first
    if (sealed === undefined) throw new Error(`shared key ${name} could not be stored`);
  }
  return Buffer.from(await cipher.open(sealed, ctx), 'base64url');
}
