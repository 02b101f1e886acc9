import { createHash, randomBytes } from 'node:crypto';
import { decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';
import { fingerprint, randomId, randomToken, safeEqual, sha256Hex } from '../../../src/store/crypto/hash.js';
import {
  type Keyring,
  VaultCipher,
  VaultDecryptError,
  VaultKeyError,
  keyringFromMasterKey,
} from '../../../src/store/crypto/vault-cipher.js';

const masterKey = () => randomBytes(32).toString('base64url');
const CTX = 'upstream-refresh:g_abc';
const SECRET = 'upstream-refresh-token-VALUE-1234567890';

/** Flips one base64url character in a part of a compact JWE. */
function tamper(sealed: string, part: number): string {
  const parts = sealed.split('.');
  const p = parts[part] as string;
  const i = Math.floor(p.length / 2);
  parts[part] = p.slice(0, i) + (p[i] === 'A' ? 'B' : 'A') + p.slice(i + 1);
  return parts.join('.');
}

describe('hash helpers', () => {
  it('sha256Hex is lowercase hex of 64 chars', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex('')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('fingerprint is fp_ + 12 hex chars and never equals or contains the token', () => {
    const token = randomToken('kh_at_');
    const fp = fingerprint(token);
    expect(fp).toMatch(/^fp_[0-9a-f]{12}$/);
    expect(fp).toBe(`fp_${sha256Hex(token).slice(0, 12)}`);
    expect(fp).not.toBe(token);
    expect(fp).not.toContain(token);
    expect(token).not.toContain(fp.slice(3));
    expect(fingerprint(token)).toBe(fp);
    expect(fingerprint(token + 'x')).not.toBe(fp);
  });

  it('randomToken is prefix + base64url of the requested bytes, and unique', () => {
    const t = randomToken('kh_rt_');
    expect(t).toMatch(/^kh_rt_[A-Za-z0-9_-]{43}$/);
    expect(randomToken('kh_code_', 16)).toMatch(/^kh_code_[A-Za-z0-9_-]{22}$/);
    expect(randomToken('kh_rt_')).not.toBe(t);
    expect(() => randomToken('x_', 8)).toThrow(RangeError);
  });

  it('randomId is prefix_ + 22 base64url chars', () => {
    expect(randomId('g')).toMatch(/^g_[A-Za-z0-9_-]{22}$/);
    expect(randomId('f')).not.toBe(randomId('f'));
  });

  it('safeEqual compares in constant time, across lengths', () => {
    expect(safeEqual('admin-token', 'admin-token')).toBe(true);
    expect(safeEqual('admin-token', 'admin-tokeN')).toBe(false);
    expect(safeEqual('admin-token', 'admin-token-longer')).toBe(false);
    expect(safeEqual('', '')).toBe(true);
    expect(safeEqual('', 'x')).toBe(false);
  });
});

describe('keyringFromMasterKey', () => {
  it('builds a one-key keyring with kid k_ + 10 chars of base64url(sha256(key))', () => {
    const mk = masterKey();
    const ring = keyringFromMasterKey(mk);
    const key = Buffer.from(mk, 'base64url');
    const expected = `k_${createHash('sha256').update(key).digest('base64url').slice(0, 10)}`;
    expect(ring.current).toBe(expected);
    expect(ring.current).toMatch(/^k_[A-Za-z0-9_-]{10}$/);
    expect([...ring.keys.keys()]).toEqual([expected]);
    expect(Buffer.from(ring.keys.get(expected) as Uint8Array).equals(key)).toBe(true);
    expect(keyringFromMasterKey(mk).current).toBe(ring.current); // stable
  });

  it('accepts surrounding whitespace and trailing padding', () => {
    const mk = masterKey();
    expect(keyringFromMasterKey(`  ${mk}=\n`).current).toBe(keyringFromMasterKey(mk).current);
  });

  it.each([
    ['too short', randomBytes(16).toString('base64url')],
    ['too long', randomBytes(48).toString('base64url')],
    ['empty', ''],
    ['not base64url', `${masterKey().slice(0, 40)}+/!`],
    ['standard base64 with + and /', Buffer.from(Array.from({ length: 32 }, () => 0xfb)).toString('base64')],
  ])('refuses a bad master key (%s) with how to make one', (_label, bad) => {
    let err: unknown;
    try {
      keyringFromMasterKey(bad);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(VaultKeyError);
    const message = (err as Error).message;
    expect(message).toContain(`node -e "console.log(require('crypto').randomBytes(32).toString('base64url'))"`);
    expect(message).toMatch(/32/);
    if (bad.length > 8) expect(message).not.toContain(bad); // never echo key material
  });
});

describe('VaultCipher', () => {
  const ring = keyringFromMasterKey(masterKey());
  const cipher = new VaultCipher(ring);

  it('round-trips seal/open', async () => {
    const sealed = await cipher.seal(SECRET, CTX);
    expect(await cipher.open(sealed, CTX)).toBe(SECRET);
    expect(await cipher.open(await cipher.seal('', CTX), CTX)).toBe('');
    const unicode = 'tøken ✓ 🔑';
    expect(await cipher.open(await cipher.seal(unicode, CTX), CTX)).toBe(unicode);
  });

  it('produces a compact JWE dir/A256GCM with kid and ctx in the protected header', async () => {
    const sealed = await cipher.seal(SECRET, CTX);
    expect(sealed.split('.')).toHaveLength(5);
    expect(sealed.split('.')[1]).toBe(''); // dir: no encrypted key
    expect(decodeProtectedHeader(sealed)).toEqual({ alg: 'dir', enc: 'A256GCM', kid: ring.current, ctx: CTX, crit: ['ctx'] });
    expect(VaultCipher.kidOf(sealed)).toBe(ring.current);
    expect(cipher.currentKid).toBe(ring.current);
  });

  it('does not put the plaintext in the ciphertext, and never repeats a ciphertext', async () => {
    const a = await cipher.seal(SECRET, CTX);
    const b = await cipher.seal(SECRET, CTX);
    expect(a).not.toContain(SECRET);
    expect(a).not.toContain(Buffer.from(SECRET).toString('base64url'));
    expect(a).not.toBe(b);
  });

  it('refuses to open under another ctx (a ciphertext copied to another row)', async () => {
    const sealed = await cipher.seal(SECRET, 'upstream-refresh:g_abc');
    await expect(cipher.open(sealed, 'upstream-refresh:g_other')).rejects.toBeInstanceOf(VaultDecryptError);
    await expect(cipher.open(sealed, 'upstream-access:g_abc')).rejects.toBeInstanceOf(VaultDecryptError);
  });

  it('refuses a ctx rewritten in the header (the header is authenticated)', async () => {
    const sealed = await cipher.seal(SECRET, 'upstream-refresh:g_abc');
    const [, ...rest] = sealed.split('.');
    const header = Buffer.from(
      JSON.stringify({ alg: 'dir', enc: 'A256GCM', kid: ring.current, ctx: 'upstream-refresh:g_evil', crit: ['ctx'] }),
    ).toString('base64url');
    await expect(cipher.open([header, ...rest].join('.'), 'upstream-refresh:g_evil')).rejects.toBeInstanceOf(
      VaultDecryptError,
    );
  });

  it.each([
    ['ciphertext', 3],
    ['tag', 4],
    ['iv', 2],
  ])('refuses a tampered %s', async (_label, part) => {
    const sealed = await cipher.seal(SECRET, CTX);
    await expect(cipher.open(tamper(sealed, part), CTX)).rejects.toBeInstanceOf(VaultDecryptError);
  });

  it('refuses garbage with VaultDecryptError and never echoes the input', async () => {
    for (const junk of ['', 'not-a-jwe', 'a.b.c', 'x.y.z.w.v', SECRET]) {
      const err = await cipher.open(junk, CTX).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(VaultDecryptError);
      if (junk.length > 5) expect((err as Error).message).not.toContain(junk);
    }
  });

  it('refuses an unknown kid with VaultKeyError', async () => {
    const other = new VaultCipher(keyringFromMasterKey(masterKey()));
    const sealed = await other.seal(SECRET, CTX);
    const err = await cipher.open(sealed, CTX).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VaultKeyError);
    expect((err as Error).message).toBe(`no key for kid ${VaultCipher.kidOf(sealed)}`);
  });

  it('refuses a known kid with the wrong key material', async () => {
    const stolenKid: Keyring = { current: ring.current, keys: new Map([[ring.current, randomBytes(32)]]) };
    const sealed = await new VaultCipher(stolenKid).seal(SECRET, CTX);
    await expect(cipher.open(sealed, CTX)).rejects.toBeInstanceOf(VaultDecryptError);
  });

  it('error messages never contain the plaintext', async () => {
    const sealed = await cipher.seal(SECRET, CTX);
    for (const attempt of [cipher.open(sealed, 'other'), cipher.open(tamper(sealed, 3), CTX)]) {
      const err = (await attempt.catch((e: unknown) => e)) as Error;
      expect(String(err.message)).not.toContain(SECRET);
      expect(String(err.stack)).not.toContain(SECRET);
    }
  });

  it('rotates: a keyring with two keys opens ciphertexts of both and seals with the current one', async () => {
    const oldRing = keyringFromMasterKey(masterKey());
    const newRing = keyringFromMasterKey(masterKey());
    const oldSealed = await new VaultCipher(oldRing).seal('old secret', CTX);
    const newSealed = await new VaultCipher(newRing).seal('new secret', CTX);
    const both = new VaultCipher({
      current: newRing.current,
      keys: new Map([...oldRing.keys, ...newRing.keys]),
    });
    expect(await both.open(oldSealed, CTX)).toBe('old secret');
    expect(await both.open(newSealed, CTX)).toBe('new secret');
    expect(VaultCipher.kidOf(await both.seal('x', CTX))).toBe(newRing.current);
  });

  it('refuses a keyring whose current kid has no key, or with a key of the wrong size', () => {
    expect(() => new VaultCipher({ current: 'k_missing', keys: new Map() })).toThrow(VaultKeyError);
    expect(() => new VaultCipher({ current: 'k_a', keys: new Map([['k_a', new Uint8Array(16)]]) })).toThrow(
      VaultKeyError,
    );
  });

  it('refuses an empty ctx', async () => {
    await expect(cipher.seal(SECRET, '')).rejects.toThrow(TypeError);
  });
});

describe('VaultCipher.seal writes the compact JWE jose reads (sealed synchronously with node:crypto)', () => {
  it('opens with jose compactDecrypt under the same key, header and crit; a changed header fails', async () => {
    const { compactDecrypt } = await import('jose');
    const { randomBytes } = await import('node:crypto');
    const { VaultCipher: Cipher, keyringFromMasterKey } = await import('../../../src/store/crypto/vault-cipher.js');
    const masterKey = randomBytes(32).toString('base64url');
    const keyring = keyringFromMasterKey(masterKey);
    const cipher = new Cipher(keyring);
    const sealed = cipher.sealNow('refresh-token-é-✓', 'upstream-refresh:g_x');
    expect(sealed.split('.')).toHaveLength(5);
    expect(sealed.split('.')[1]).toBe(''); // dir: no encrypted key
    const { plaintext, protectedHeader } = await compactDecrypt(sealed, keyring.keys.get(keyring.current)!, { crit: { ctx: true } });
    expect(new TextDecoder().decode(plaintext)).toBe('refresh-token-é-✓');
    expect(protectedHeader).toEqual({ alg: 'dir', enc: 'A256GCM', kid: keyring.current, ctx: 'upstream-refresh:g_x', crit: ['ctx'] });
    expect(await cipher.open(await cipher.seal('x', 'c'), 'c')).toBe('x');
    const [, ...rest] = sealed.split('.');
    const forged = [Buffer.from(JSON.stringify({ ...protectedHeader, ctx: 'upstream-refresh:g_y' })).toString('base64url'), ...rest].join('.');
    await expect(cipher.open(forged, 'upstream-refresh:g_y')).rejects.toThrow(/cannot open/);
    expect(cipher.sealNow('x', 'c')).not.toBe(cipher.sealNow('x', 'c')); // a fresh IV each time
  });
});
