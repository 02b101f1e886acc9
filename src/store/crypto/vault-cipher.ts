/**
 * Encryption of upstream secrets at rest (refresh/access tokens, PKCE verifiers).
 *
 * Format: compact JWE (RFC 7516) with `alg: "dir"`, `enc: "A256GCM"` and a protected header carrying
 * - `kid`: which key of the keyring sealed it, so keys can rotate (new seals use `keyring.current`, old ones still open);
 * - `ctx`: where the ciphertext is stored (e.g. `upstream-refresh:g_abc`). The protected header is the GCM additional
 *   authenticated data, and `ctx` is listed in `crit`, so a ciphertext copied to another row (another ctx) fails to open.
 *
 * Error messages never contain plaintext, ciphertext or key material.
 * @see https://www.rfc-editor.org/rfc/rfc7516 JWE
 * @see https://www.rfc-editor.org/rfc/rfc7518#section-4.5 Direct Encryption with a Shared Symmetric Key
 */
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { compactDecrypt, decodeProtectedHeader } from 'jose';

export interface Keyring {
  /** kid of the key used to seal. */
  current: string;
  /** kid → 32-byte AES-256-GCM key. */
  keys: Map<string, Uint8Array>;
}

/** The configured key material is missing, malformed, or does not contain the key a ciphertext names. */
export class VaultKeyError extends Error {
  override name = 'VaultKeyError';
}

/** A ciphertext is malformed, was tampered with, or is opened under another `ctx` than it was sealed for. */
export class VaultDecryptError extends Error {
  override name = 'VaultDecryptError';
}

const KEY_BYTES = 32;
const ALG = 'dir';
const ENC = 'A256GCM';
const MAKE_KEY_HINT =
  'KEYHOLE_MASTER_KEY must be 32 random bytes encoded as base64url (43 characters). Make one with: ' +
  `node -e "console.log(require('crypto').randomBytes(32).toString('base64url'))"`;

/** kid = `k_` + first 10 chars of base64url(sha256(key)): stable per key, reveals nothing usable about it. */
export function kidForKey(key: Uint8Array): string {
  return `k_${createHash('sha256').update(key).digest('base64url').slice(0, 10)}`;
}

/** Builds a one-key keyring from a base64url master key (32 bytes). Throws `VaultKeyError` with a how-to otherwise. */
export function keyringFromMasterKey(b64url: string): Keyring {
  if (typeof b64url !== 'string') throw new VaultKeyError(`The master key is missing. ${MAKE_KEY_HINT}`);
  const text = b64url.trim().replace(/=+$/, '');
  if (text.length === 0) throw new VaultKeyError(`The master key is empty. ${MAKE_KEY_HINT}`);
  if (!/^[A-Za-z0-9_-]+$/.test(text)) {
    throw new VaultKeyError(`The master key is not base64url (only A-Z a-z 0-9 - _ are allowed). ${MAKE_KEY_HINT}`);
  }
  const key = new Uint8Array(Buffer.from(text, 'base64url'));
  if (key.length !== KEY_BYTES) {
    throw new VaultKeyError(`The master key decodes to ${key.length} bytes, expected ${KEY_BYTES}. ${MAKE_KEY_HINT}`);
  }
  const kid = kidForKey(key);
  return { current: kid, keys: new Map([[kid, key]]) };
}

function assertKeyring(keyring: Keyring): void {
  if (!keyring.keys.has(keyring.current)) throw new VaultKeyError(`no key for kid ${keyring.current} (keyring.current)`);
  for (const [kid, key] of keyring.keys) {
    if (!(key instanceof Uint8Array) || key.length !== KEY_BYTES) {
      throw new VaultKeyError(`key ${kid} must be ${KEY_BYTES} bytes`);
    }
  }
}

function assertCtx(ctx: string): void {
  if (typeof ctx !== 'string' || ctx.length === 0) throw new TypeError('vault ctx must be a non-empty string');
}

export class VaultCipher {
  readonly #keyring: Keyring;

  constructor(keyring: Keyring) {
    assertKeyring(keyring);
    // Own copy: later changes to the caller's Map do not change what this cipher accepts.
    this.#keyring = { current: keyring.current, keys: new Map(keyring.keys) };
  }

  /** kid of the key new ciphertexts are sealed with. */
  get currentKid(): string {
    return this.#keyring.current;
  }

  /**
   * Seals `plaintext` for storage at `ctx` with the current key.
   * Synchronous work (node:crypto AES-256-GCM, microseconds) behind the Promise: a rotated refresh token is sealed in
   * the same tick its answer was parsed, never queued behind other work on libuv's thread pool (WebCrypto's
   * AES-GCM is a thread-pool job; under load that queue held a refresh answer for up to 200 ms before it could be
   * written, time in which a SIGKILL lost the grant). The output is the compact JWE jose writes and opens
   * (RFC 7516 §7.1: BASE64URL(header) '.' '' '.' BASE64URL(iv) '.' BASE64URL(ciphertext) '.' BASE64URL(tag), the
   * ASCII header as AAD, §5.1).
   */
  async seal(plaintext: string, ctx: string): Promise<string> {
    return this.sealNow(plaintext, ctx);
  }

  /** `seal`, synchronously. */
  sealNow(plaintext: string, ctx: string): string {
    assertCtx(ctx);
    const kid = this.#keyring.current;
    const key = this.#keyring.keys.get(kid) as Uint8Array; // checked in the constructor
    const header = Buffer.from(JSON.stringify({ alg: ALG, enc: ENC, kid, ctx, crit: ['ctx'] })).toString('base64url');
    const iv = randomBytes(12); // 96-bit IV, RFC 7518 §5.3
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(header, 'ascii'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `${header}..${iv.toString('base64url')}.${ciphertext.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}`;
  }

  /** Opens a ciphertext sealed for `ctx`. Unknown kid → `VaultKeyError`; anything else wrong → `VaultDecryptError`. */
  async open(sealed: string, ctx: string): Promise<string> {
    assertCtx(ctx);
    const kid = VaultCipher.kidOf(sealed);
    const key = this.#keyring.keys.get(kid);
    if (!key) throw new VaultKeyError(`no key for kid ${kid}`);
    let result;
    try {
      result = await compactDecrypt(sealed, key, {
        keyManagementAlgorithms: [ALG],
        contentEncryptionAlgorithms: [ENC],
        crit: { ctx: true },
      });
    } catch {
      // jose's messages carry no secrets, but keep ours uniform and free of any input.
      throw new VaultDecryptError(`cannot open sealed value (kid ${kid}): tampered, truncated or not a vault ciphertext`);
    }
    // The header is authenticated now (it is the GCM AAD), so its ctx is the one it was sealed with.
    if (result.protectedHeader.ctx !== ctx) {
      throw new VaultDecryptError('sealed value belongs to another context');
    }
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(result.plaintext);
    } catch {
      throw new VaultDecryptError('sealed value is not UTF-8 text');
    }
  }

  /** The `kid` from a ciphertext's protected header (unauthenticated until `open`). */
  static kidOf(sealed: string): string {
    let kid: unknown;
    try {
      if (typeof sealed !== 'string' || sealed.split('.').length !== 5) throw new Error('not compact JWE');
      kid = decodeProtectedHeader(sealed).kid;
    } catch {
      throw new VaultDecryptError('not a vault ciphertext (malformed compact JWE)');
    }
    if (typeof kid !== 'string' || kid.length === 0) throw new VaultDecryptError('vault ciphertext has no kid');
    return kid;
  }
}
