import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { VaultCipher, keyringFromMasterKey, type Keyring } from '../../../src/store/crypto/vault-cipher.js';
import { openSqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import type { Store } from '../../../src/store/types.js';
import { sealContext } from '../../../src/upstream/seal-context.js';
import { UndecryptableEntriesError, VaultCommandError } from '../../../src/vault/errors.js';
import {
  assertKeyringCovers,
  countNotUnder,
  keyringWithout,
  reencryptToCurrentKey,
  sealedUsageByKid,
} from '../../../src/vault/key-rotation.js';
import { generateKey, withNewCurrentKey } from '../../../src/vault/keyring-format.js';
import { UpstreamVault } from '../../../src/vault/upstream-vault.js';
import { sha256Hex } from '../../../src/store/crypto/hash.js';
import { makeGrant, makePending } from '../store/store-contract.js';
import { secrets, UntouchableSecretStore } from './vault-contract.js';

const ringA = (): Keyring => keyringFromMasterKey(randomBytes(32).toString('base64url'));

/** n grants with access + refresh sealed under `keyring`, plus one pending verifier; returns the plaintexts. */
async function seed(store: Store, keyring: Keyring, n: number) {
  const vault = new UpstreamVault({ store, cipher: new VaultCipher(keyring), backend: 'sqlite', keychain: new UntouchableSecretStore() });
  const plain = new Map<string, { access: string; refresh: string }>();
  for (let i = 0; i < n; i++) {
    const g = makeGrant({ subject: `u${i}` });
    await store.grants.create(g);
    const s = secrets();
    await vault.put(g.id, s);
    plain.set(g.id, { access: s.accessToken, refresh: s.refreshToken! });
  }
  const p = makePending();
  await store.pending.create(p);
  const verifier = 'pkce-verifier-' + randomBytes(8).toString('hex');
  await store.pending.attachUpstream(p.id, sha256Hex('state'), await new VaultCipher(keyring).seal(verifier, sealContext.pendingVerifier(p.id)), ['openid']);
  return { plain, pending: { id: p.id, verifier } };
}

async function expectAllOpen(store: Store, keyring: Keyring, seeded: Awaited<ReturnType<typeof seed>>) {
  const cipher = new VaultCipher(keyring);
  const vault = new UpstreamVault({ store, cipher, backend: 'sqlite', keychain: new UntouchableSecretStore() });
  for (const [grantId, v] of seeded.plain) {
    const entry = await vault.get(grantId);
    expect(await entry!.openAccessToken()).toBe(v.access);
    expect(await entry!.openRefreshToken()).toBe(v.refresh);
  }
  const p = (await store.pending.find(seeded.pending.id))!;
  expect(await cipher.open(p.upstreamVerifier!, sealContext.pendingVerifier(p.id))).toBe(seeded.pending.verifier);
}

describe('key rotation', () => {
  it('re-encrypts every entry under the new key, in batches; old entries stay readable meanwhile', async () => {
    const store = openSqliteStore(':memory:');
    const a = ringA();
    const seeded = await seed(store, a, 30);
    const ab = withNewCurrentKey(a, generateKey().key);
    expect(await countNotUnder(store, ab.current)).toBe(61);
    const batches: number[] = [];
    const result = await reencryptToCurrentKey(store, new VaultCipher(ab), {
      batchSize: 16,
      onBatch: async (b) => {
        batches.push(b.remaining);
        await expectAllOpen(store, ab, seeded); // mixed kids: still every entry opens with the keyring A+B
      },
    });
    expect(result).toMatchObject({ currentKid: ab.current, batches: 4, reencrypted: 61, skipped: 0, failed: [], remaining: 0 });
    expect(batches).toEqual([45, 29, 13, 0]);
    expect((await sealedUsageByKid(store)).map((u) => [u.kid, u.total])).toEqual([[ab.current, 61]]);
    // Old key gone: everything still opens with B alone.
    const bOnly = await keyringWithout(store, ab, a.current);
    expect([...bOnly.keys.keys()]).toEqual([ab.current]);
    await expectAllOpen(store, bOnly, seeded);
    await store.close();
  });

  it('is resumable: an interrupted run committed whole batches, a new run finishes', async () => {
    const store = openSqliteStore(':memory:');
    const a = ringA();
    const seeded = await seed(store, a, 20);
    const ab = withNewCurrentKey(a, generateKey().key);
    await expect(
      reencryptToCurrentKey(store, new VaultCipher(ab), {
        batchSize: 10,
        onBatch: () => {
          throw new Error('killed');
        },
      }),
    ).rejects.toThrow('killed');
    expect(await countNotUnder(store, ab.current)).toBe(31);
    const again = await reencryptToCurrentKey(store, new VaultCipher(ab), { batchSize: 10 });
    expect(again).toMatchObject({ reencrypted: 31, remaining: 0 });
    await expectAllOpen(store, ab, seeded);
    await store.close();
  });

  it('leaves an entry that changed meanwhile to its writer (compare-and-set), and does not loop on broken entries', async () => {
    const store = openSqliteStore(':memory:');
    const a = ringA();
    const seeded = await seed(store, a, 3);
    const [g1, g2] = [...seeded.plain.keys()] as [string, string];
    const ab = withNewCurrentKey(a, generateKey().key);
    // A broken ciphertext under a known kid (tampered): reported, left alone, the run ends.
    const row = (await store.upstreamCredentials.find(g2))!;
    const parts = row.accessToken.split('.');
    parts[3] = parts[3]!.startsWith('A') ? `B${parts[3]!.slice(1)}` : `A${parts[3]!.slice(1)}`;
    await store.upstreamCredentials.put({ ...row, accessToken: parts.join('.') });
    let raced = false;
    const cipher = new VaultCipher(ab);
    const original = cipher.seal.bind(cipher);
    cipher.seal = async (plaintext: string, ctx: string) => {
      if (!raced && ctx === sealContext.refresh(g1)) {
        raced = true; // a "running keyhole" rotates g1's refresh token between the read and the write
        const r = (await store.upstreamCredentials.find(g1))!;
        await store.upstreamCredentials.put({ ...r, refreshToken: await new VaultCipher(a).seal('rotated-upstream', sealContext.refresh(g1)) });
      }
      return original(plaintext, ctx);
    };
    const result = await reencryptToCurrentKey(store, cipher, { batchSize: 100 });
    expect(result.skipped).toBe(1);
    expect(result.failed).toEqual([{ field: 'upstream_access', id: g2, kid: a.current, error: 'VaultDecryptError' }]);
    expect(result.remaining).toBe(2);
    const r1 = (await store.upstreamCredentials.find(g1))!;
    expect(await new VaultCipher(ab).open(r1.refreshToken!, sealContext.refresh(g1))).toBe('rotated-upstream');
    await store.close();
  });

  it('refuses to retire the current key or a key that entries still use', async () => {
    const store = openSqliteStore(':memory:');
    const a = ringA();
    await seed(store, a, 2);
    const ab = withNewCurrentKey(a, generateKey().key);
    await expect(keyringWithout(store, ab, ab.current)).rejects.toThrow(/is the current key/);
    await expect(keyringWithout(store, ab, a.current)).rejects.toThrow(VaultCommandError);
    await expect(keyringWithout(store, ab, a.current)).rejects.toThrow(`5 entries still use ${a.current} (2 upstream access tokens, 2 upstream refresh tokens, 1 pending PKCE verifier)`);
    await expect(keyringWithout(store, ab, 'k_nonexistent')).rejects.toThrow(/has no key k_nonexistent/);
    await store.close();
  });
});

describe('startup check: the keyring must open every stored entry', () => {
  it('names each missing kid with its counts', async () => {
    const store = openSqliteStore(':memory:');
    const a = ringA();
    await seed(store, a, 4);
    const wrong = ringA();
    const err = await (async () => {
      try {
        await assertKeyringCovers(store, wrong, 'KEYHOLE_MASTER_KEY');
      } catch (e) {
        return e as UndecryptableEntriesError;
      }
      throw new Error('expected a failure');
    })();
    expect(err).toBeInstanceOf(UndecryptableEntriesError);
    expect(err.missing).toEqual(new Map([[a.current, 9]]));
    expect(err.message).toContain('cannot decrypt 9 stored vault entries');
    expect(err.message).toContain(`${a.current}: 9 entries (4 upstream access tokens, 4 upstream refresh tokens, 1 pending PKCE verifier)`);
    expect(err.message).toContain(`it holds ${wrong.current}`);
    await expect(assertKeyringCovers(store, withNewCurrentKey(a, generateKey().key))).resolves.toBeUndefined();
    await expect(assertKeyringCovers(openSqliteStore(':memory:'), wrong)).resolves.toBeUndefined();
    await store.close();
  });
});

describe('key rotation covers every sealed value the store holds', () => {
  it('re-encrypts upstream registrations, signing keys and sealed secrets too, under their own ctx', async () => {
    const { registrationSealContext } = await import('../../../src/upstream/auto-registration.js');
    const { signingKeySealContext } = await import('../../../src/upstream/signing-keys.js');
    const store = openSqliteStore(':memory:');
    const a = ringA();
    const ca = new VaultCipher(a);
    const issuer = 'https://as.example.com';
    await store.upstreamRegistrations.put({
      server: 'demo', issuer, kind: 'dcr', clientId: 'kh', clientSecret: await ca.seal('client-secret', registrationSealContext.clientSecret('demo', issuer)),
      clientSecretExpiresAt: null, tokenEndpointAuthMethod: 'client_secret_basic',
      registrationAccessToken: await ca.seal('rat', registrationSealContext.registrationToken('demo', issuer)), registrationClientUri: null, metadata: {}, createdAt: 1,
    });
    await store.signingKeys.create({ kid: 'sig1', alg: 'ES256', publicJwk: {}, privateKey: await ca.seal('{"d":"x"}', signingKeySealContext('sig1')), createdAt: 1, activatedAt: 1, retiredAt: null });
    await store.sealedSecrets.put('static-credential:demo', await ca.seal('api-key', 'static-credential:demo'), 1);

    const ab = withNewCurrentKey(a, generateKey().key);
    const result = await reencryptToCurrentKey(store, new VaultCipher(ab));
    expect(result).toMatchObject({ reencrypted: 4, failed: [], remaining: 0 });
    const b = await keyringWithout(store, ab, a.current);
    const cb = new VaultCipher(b);
    const reg = (await store.upstreamRegistrations.find('demo', issuer))!;
    expect(await cb.open(reg.clientSecret!, registrationSealContext.clientSecret('demo', issuer))).toBe('client-secret');
    expect(await cb.open(reg.registrationAccessToken!, registrationSealContext.registrationToken('demo', issuer))).toBe('rat');
    expect(await cb.open((await store.signingKeys.list())[0]!.privateKey, signingKeySealContext('sig1'))).toBe('{"d":"x"}');
    expect(await cb.open((await store.sealedSecrets.find('static-credential:demo'))!, 'static-credential:demo')).toBe('api-key');
    await expect(assertKeyringCovers(store, a)).rejects.toThrow(/4 entries \(1 upstream client secret, 1 upstream registration access token, 1 identity-JWT signing key, 1 sealed static secret\)/);
    await store.close();
  });
});
