import { describe, expect, it } from 'vitest';
import { formatScope, isSubset, parseScope, union } from '../../../src/oauth/scope.js';
import { InvalidScopeError } from '../../../src/oauth/errors.js';

describe('scope', () => {
  it('parses space-delimited scope tokens, dropping empties and duplicates', () => {
    expect(parseScope('mcp')).toEqual(['mcp']);
    expect(parseScope('  a  b a ')).toEqual(['a', 'b']);
    expect(parseScope('openid email profile offline_access')).toEqual(['openid', 'email', 'profile', 'offline_access']);
    expect(parseScope('mcp:tools repo:read https://x.example/scope')).toEqual(['mcp:tools', 'repo:read', 'https://x.example/scope']);
  });

  it('returns no scopes for an empty, null or undefined value', () => {
    expect(parseScope('')).toEqual([]);
    expect(parseScope(null)).toEqual([]);
    expect(parseScope(undefined)).toEqual([]);
    expect(parseScope('   ')).toEqual([]);
  });

  it('is case-sensitive', () => {
    expect(parseScope('MCP mcp')).toEqual(['MCP', 'mcp']);
  });

  it('rejects characters outside the scope-token grammar with invalid_scope (RFC 6749 §3.3)', () => {
    for (const s of ['a"b', 'a\\b', 'a\tb', 'a\nb', 'é', 'a\u0000', 'a\u007f']) {
      expect(() => parseScope(s), JSON.stringify(s)).toThrow(InvalidScopeError);
    }
  });

  it('formats, unions and compares', () => {
    expect(formatScope(['a', 'b', 'a'])).toBe('a b');
    expect(formatScope([])).toBe('');
    expect(union(['a', 'b'], ['b', 'c'])).toEqual(['a', 'b', 'c']);
    expect(isSubset(['a'], ['a', 'b'])).toBe(true);
    expect(isSubset([], ['a'])).toBe(true);
    expect(isSubset(['a', 'c'], ['a', 'b'])).toBe(false);
  });
});
