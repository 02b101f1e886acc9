/**
 * Hashing and random-value helpers. keyhole stores its own codes and tokens only as `sha256Hex(value)`, and the only
 * token-derived value allowed in logs and events is `fingerprint(value)`.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Lowercase hex SHA-256 of a UTF-8 string: how keyhole stores its own codes, tokens and client secrets. */
export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/**
 * A short, non-reversible label for a token: `fp_` + the first 12 hex chars of its SHA-256 (48 bits).
 * The only token-derived value that may appear in a log line or an event.
 */
export function fingerprint(value: string): string {
  return fingerprintOfHash(sha256Hex(value));
}

/** `fingerprint(value)` from `sha256Hex(value)` already computed (the stored hash): the same label, one hash fewer. */
export function fingerprintOfHash(hash: string): string {
  return `fp_${hash.slice(0, 12)}`;
}

/** `prefix` + base64url of `bytes` random bytes (default 32 = 256 bits), e.g. `kh_at_…`, `kh_rt_…`, `kh_code_…`. */
export function randomToken(prefix: string, bytes = 32): string {
  if (!Number.isInteger(bytes) || bytes < 16) throw new RangeError('randomToken needs at least 16 random bytes');
  return prefix + randomBytes(bytes).toString('base64url');
}

/** `${prefix}_` + 22 base64url chars (16 random bytes), e.g. `g_…` grants, `f_…` families, `p_…` pending, `c_…` clients. */
export function randomId(prefix: string): string {
  return `${prefix}_${randomBytes(16).toString('base64url')}`;
}

/**
 * Constant-time string comparison. Both sides are hashed first so that neither the content nor the length of the
 * expected value leaks through timing.
 */
export function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a, 'utf8').digest();
  const hb = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(ha, hb);
}
