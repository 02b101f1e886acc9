/**
 * The keyring as keys and as text: a new key, a copy with a key added or removed, and the JSON form the file and
 * keychain sources store (`{"format": "keyhole-keyring", "version": 1, "current": "k_…", "keys": {…}}`, or a single
 * base64url key). Every kid is checked against its key on parse.
 */
import { randomBytes } from 'node:crypto';
import { kidForKey, keyringFromMasterKey, type Keyring } from '../store/crypto/vault-cipher.js';
import { KeySourceError } from './errors.js';

const FORMAT = 'keyhole-keyring';

/** A new random 32-byte key. */
export function generateKey(): { kid: string; key: Uint8Array; base64url: string } {
  const key = new Uint8Array(randomBytes(32));
  return { kid: kidForKey(key), key, base64url: Buffer.from(key).toString('base64url') };
}

/** A copy of `keyring` with `key` added and made current. */
export function withNewCurrentKey(keyring: Keyring, key: Uint8Array): Keyring {
  const kid = kidForKey(key);
  const keys = new Map(keyring.keys);
  keys.set(kid, key);
  return { current: kid, keys };
}

/** A copy of `keyring` without `kid`. */
export function withoutKey(keyring: Keyring, kid: string): Keyring {
  const keys = new Map(keyring.keys);
  keys.delete(kid);
  return { current: keyring.current, keys };
}

export function serializeKeyring(keyring: Keyring): string {
  const keys: Record<string, string> = {};
  for (const [kid, key] of keyring.keys) keys[kid] = Buffer.from(key).toString('base64url');
  return `${JSON.stringify({ format: FORMAT, version: 1, current: keyring.current, keys }, null, 2)}\n`;
}

/** Parses a JSON keyring or a single base64url key. `where` names the source in errors (never the content). */
export function parseKeyring(text: string, where: string): Keyring {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{')) {
    try {
      return keyringFromMasterKey(trimmed);
    } catch (e) {
      throw new KeySourceError(`${where}: ${(e as Error).message}`);
    }
  }
  let raw: unknown;
  try {
    raw = JSON.parse(trimmed);
  } catch {
    throw new KeySourceError(`${where}: is neither a keyring (JSON) nor a base64url key`);
  }
  const obj = raw as { format?: unknown; version?: unknown; current?: unknown; keys?: unknown };
  if (obj === null || typeof obj !== 'object' || obj.format !== FORMAT || obj.version !== 1) {
    throw new KeySourceError(`${where}: not a keyhole keyring (expected "format": "${FORMAT}", "version": 1)`);
  }
  if (typeof obj.current !== 'string' || obj.keys === null || typeof obj.keys !== 'object' || Array.isArray(obj.keys)) {
    throw new KeySourceError(`${where}: a keyring needs "current" (a kid) and "keys" (kid → base64url key)`);
  }
  const keys = new Map<string, Uint8Array>();
  for (const [label, value] of Object.entries(obj.keys as Record<string, unknown>)) {
    let one: Keyring;
    try {
      one = keyringFromMasterKey(value as string);
    } catch (e) {
      throw new KeySourceError(`${where}: key ${label}: ${(e as Error).message}`);
    }
    if (one.current !== label) throw new KeySourceError(`${where}: key labelled ${label} is not that key (its kid is ${one.current}); the keyring was edited by hand?`);
    keys.set(label, one.keys.get(label)!);
  }
  if (!keys.has(obj.current)) throw new KeySourceError(`${where}: "current" names ${obj.current}, which is not in "keys"`);
  return { current: obj.current, keys };
}
