import { describe, expect, it } from 'vitest';
import { validateHeaderValue } from 'node:http';
import { bearerChallenge } from '../../../src/oauth/www-authenticate.js';

const PRM = 'https://kh.example.com/.well-known/oauth-protected-resource/mcp/github';

describe('www-authenticate', () => {
  it('builds a challenge without error for a request that carried no token (RFC 6750 §3.1)', () => {
    expect(bearerChallenge({ resourceMetadata: PRM, scope: 'mcp' })).toBe(`Bearer resource_metadata="${PRM}", scope="mcp"`);
  });

  it('puts error first, then the description, resource_metadata and scope', () => {
    expect(bearerChallenge({ error: 'invalid_token', errorDescription: 'expired', resourceMetadata: PRM, scope: 'a b' })).toBe(
      `Bearer error="invalid_token", error_description="expired", resource_metadata="${PRM}", scope="a b"`,
    );
  });

  it('builds an insufficient_scope challenge with the full scope set', () => {
    expect(bearerChallenge({ error: 'insufficient_scope', resourceMetadata: PRM, scope: 'read write' })).toBe(
      `Bearer error="insufficient_scope", resource_metadata="${PRM}", scope="read write"`,
    );
  });

  it('omits an empty scope', () => {
    expect(bearerChallenge({ resourceMetadata: PRM, scope: '' })).toBe(`Bearer resource_metadata="${PRM}"`);
  });

  it('escapes quotes and backslashes in other quoted-strings (RFC 9110 §5.6.4)', () => {
    const header = bearerChallenge({ error: 'invalid_token', resourceMetadata: 'https://x.example/a"b\\c' });
    expect(header).toBe('Bearer error="invalid_token", resource_metadata="https://x.example/a\\"b\\\\c"');
  });

  it('replaces quotes and backslashes in error_description, which RFC 6750 §3 does not allow', () => {
    const header = bearerChallenge({ error: 'invalid_token', errorDescription: 'say "hi" \\ bye', resourceMetadata: PRM });
    expect(header).toBe(`Bearer error="invalid_token", error_description="say ?hi? ? bye", resource_metadata="${PRM}"`);
  });

  it('cannot be broken out of by a hostile description', () => {
    const header = bearerChallenge({ error: 'invalid_token', errorDescription: '", scope="admin', resourceMetadata: PRM });
    // The only unescaped quotes delimit the three values.
    expect(header.replace(/\\./g, '').match(/"/g)).toHaveLength(6);
    expect(header).not.toContain('scope="admin"');
  });

  /** RFC 6750 §3 error_description = *( %x20-21 / %x23-5B / %x5D-7E ); the whole header must be one Node accepts. */
  const DESCRIPTION = /error_description="([\x20\x21\x23-\x5B\x5D-\x7E]*)"/;
  it.each([
    ['C0 controls', 'a\u0000b\u0001c\nd\re\tf', 'a?b?c?d?e?f'],
    ['DEL', 'a\u007fb', 'a?b'],
    ['C1 controls', 'a\u0080b\u0085c\u009fd', 'a?b?c?d'],
    ['a quote', 'a"b', 'a?b'],
    ['a backslash', 'a\\b', 'a?b'],
    ['non-Latin-1', 'a\u0100b中c', 'a?b?c'],
    ['Latin-1 letters (obs-text)', 'caf\u00e9', 'caf?'],
    ['an emoji (one code point, one ?)', 'a😀b', 'a?b'],
    ['a lone surrogate', 'a\ud800b\udc00c', 'a?b?c'],
  ])('rejects %s in error_description: replaced, header valid', (_what, name, expected) => {
    const header = bearerChallenge({ error: 'insufficient_scope', errorDescription: `the tool ${name} needs the scope x`, resourceMetadata: PRM, scope: 'x' });
    expect(() => validateHeaderValue('WWW-Authenticate', header)).not.toThrow();
    expect(DESCRIPTION.exec(header)?.[1]).toBe(`the tool ${expected} needs the scope x`);
  });

  it('rejects controls and non-ASCII in other parameters too: replaced, header valid', () => {
    const header = bearerChallenge({ error: 'invalid_token', resourceMetadata: 'https://x.example/\u0000😀', scope: 'a\u007fb é' });
    expect(() => validateHeaderValue('WWW-Authenticate', header)).not.toThrow();
    expect(header).toBe('Bearer error="invalid_token", resource_metadata="https://x.example/??", scope="a?b ?"');
  });
});
