/**
 * Scope strings (RFC 6749 §3.3): space-delimited, case-sensitive scope-tokens.
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-3.3
 */
import { InvalidScopeError } from './errors.js';

const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

export function parseScope(value: string | undefined | null): string[] {
  if (!value) return [];
  const parts = value.split(' ').filter((s) => s.length > 0);
  for (const p of parts) if (!SCOPE_TOKEN.test(p)) throw new InvalidScopeError('scope contains an invalid character');
  return [...new Set(parts)];
}

export function formatScope(scopes: readonly string[]): string {
  return [...new Set(scopes)].join(' ');
}

export function union(a: readonly string[], b: readonly string[]): string[] {
  return [...new Set([...a, ...b])];
}

export function isSubset(sub: readonly string[], of: readonly string[]): boolean {
  const set = new Set(of);
  return sub.every((s) => set.has(s));
}
