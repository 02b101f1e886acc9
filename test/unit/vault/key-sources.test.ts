import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { keyringFromMasterKey, kidForKey } from '../../../src/store/crypto/vault-cipher.js';
import { KeySourceError, MissingMasterKeyError } from '../../../src/vault/errors.js';
import { keyringFromEnvVars, keySourceFor, loadKeyring } from '../../../src/vault/key-sources.js';
import { generateKey, parseKeyring, serializeKeyring, withNewCurrentKey } from '../../../src/vault/keyring-format.js';

const b64 = () => randomBytes(32).toString('base64url');

describe('env key source', () => {
  it('uses KEYHOLE_MASTER_KEY as the current key', () => {
    const key = b64();
    const ring = keyringFromEnvVars({ KEYHOLE_MASTER_KEY: key });
    expect(ring).toEqual(keyringFromMasterKey(key));
  });

  it('adds the older keys of KEYHOLE_MASTER_KEYS_OLD (comma-separated, spaces and empties ignored)', () => {
    const [cur, old1, old2] = [b64(), b64(), b64()];
    const ring = keyringFromEnvVars({ KEYHOLE_MASTER_KEY: cur, KEYHOLE_MASTER_KEYS_OLD: ` ${old1}, ,${old2},` });
    expect(ring.current).toBe(keyringFromMasterKey(cur).current);
    expect([...ring.keys.keys()].sort()).toEqual([cur, old1, old2].map((k) => keyringFromMasterKey(k).current).sort());
  });

  it('says what is missing, and which variable is malformed', () => {
    expect(() => keyringFromEnvVars({})).toThrow(MissingMasterKeyError);
    expect(() => keyringFromEnvVars({})).toThrow(/KEYHOLE_MASTER_KEY is not set.*randomBytes\(32\)/s);
    expect(() => keyringFromEnvVars({ KEYHOLE_MASTER_KEY: 'short' })).toThrow(/^KEYHOLE_MASTER_KEY: .*decodes to 3 bytes/);
    expect(() => keyringFromEnvVars({ KEYHOLE_MASTER_KEY: b64(), KEYHOLE_MASTER_KEYS_OLD: `${b64()},not base64!` })).toThrow(/KEYHOLE_MASTER_KEYS_OLD, key #2: .*base64url/);
  });

  it('cannot be written: keys init/rotate are told so', async () => {
    const source = keySourceFor({ instanceName: 'default', keys: { source: 'env', file: 'x' } }, { env: {} });
    expect(source.writable).toBe(false);
    expect(await source.exists()).toBe(false);
    await expect(source.create(keyringFromMasterKey(b64()))).rejects.toBeInstanceOf(KeySourceError);
  });
});

describe('keyring format', () => {
  it('round-trips a keyring through JSON, and reads a bare base64url key as a one-key keyring', () => {
    const a = generateKey();
    const b = generateKey();
    const ring = withNewCurrentKey({ current: a.kid, keys: new Map([[a.kid, a.key]]) }, b.key);
    expect(ring.current).toBe(b.kid);
    expect(parseKeyring(serializeKeyring(ring), 'test')).toEqual(ring);
    expect(parseKeyring(`${a.base64url}\n`, 'test')).toEqual({ current: a.kid, keys: new Map([[a.kid, a.key]]) });
    expect(kidForKey(a.key)).toBe(a.kid);
  });

  it('refuses a keyring whose kid does not match its key, or whose current key is absent', () => {
    const a = generateKey();
    const tampered = JSON.stringify({ format: 'keyhole-keyring', version: 1, current: 'k_AAAAAAAAAA', keys: { k_AAAAAAAAAA: a.base64url } });
    expect(() => parseKeyring(tampered, 'f')).toThrow(/key labelled k_AAAAAAAAAA is not that key/);
    const noCurrent = JSON.stringify({ format: 'keyhole-keyring', version: 1, current: 'k_BBBBBBBBBB', keys: { [a.kid]: a.base64url } });
    expect(() => parseKeyring(noCurrent, 'f')).toThrow(/"current" names k_BBBBBBBBBB, which is not in "keys"/);
    expect(() => parseKeyring('{"x":1}', 'f')).toThrow(/not a keyhole keyring/);
    expect(() => parseKeyring('{nope', 'f')).toThrow(KeySourceError);
  });

  it('never puts key material into an error message', () => {
    const a = generateKey();
    const bad = JSON.stringify({ format: 'keyhole-keyring', version: 1, current: 'k_AAAAAAAAAA', keys: { k_AAAAAAAAAA: a.base64url } });
    try {
      parseKeyring(bad, 'f');
    } catch (e) {
      expect((e as Error).message).not.toContain(a.base64url);
    }
  });
});

describe('file key source', () => {
  let dir: string;
  let file: string;
  const config = () => ({ instanceName: 'default', keys: { source: 'file' as const, file } });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'keyhole-keys-'));
    file = join(dir, 'keyhole.key');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates the key file with mode 0600 and refuses to overwrite it', async () => {
    const source = keySourceFor(config());
    expect(await source.exists()).toBe(false);
    await expect(loadKeyring(config())).rejects.toThrow(/does not exist\. Create it with: keyhole keys init/);
    const ring = keyringFromMasterKey(b64());
    await source.create(ring);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(await loadKeyring(config())).toEqual(ring);
    const before = readFileSync(file, 'utf8');
    await expect(source.create(keyringFromMasterKey(b64()))).rejects.toThrow(/already exists; keyhole keys init refuses to overwrite/);
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it.each([0o644, 0o640, 0o604, 0o660, 0o700, 0o666])('refuses a key file of mode 0%o, naming the mode and chmod 600', async (mode) => {
    writeFileSync(file, b64(), { mode: 0o600 });
    chmodSync(file, mode);
    const err = (await loadKeyring(config()).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(KeySourceError);
    expect(err.message).toContain(`has mode 0${mode.toString(8)}, which is wider than 0600`);
    expect(err.message).toContain(`chmod 600 ${file}`);
  });

  it.each([0o600, 0o400])('accepts mode 0%o', async (mode) => {
    const key = b64();
    writeFileSync(file, `${key}\n`, { mode: 0o600 });
    chmodSync(file, mode);
    expect(await loadKeyring(config())).toEqual(keyringFromMasterKey(key));
  });

  it('replaces the keyring atomically and keeps the mode 0600', async () => {
    const source = keySourceFor(config());
    const a = generateKey();
    await source.create({ current: a.kid, keys: new Map([[a.kid, a.key]]) });
    const next = withNewCurrentKey(await source.load(), generateKey().key);
    await source.replace(next);
    expect(await source.load()).toEqual(next);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });
});
