import { describe, expect, it } from 'vitest';
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

  it('escapes quotes and backslashes in quoted-strings (RFC 9110 §5.6.4)', () => {
    const header = bearerChallenge({ error: 'invalid_token', errorDescription: 'say "hi" \\ bye', resourceMetadata: PRM });
    expect(header).toBe(`Bearer error="invalid_token", error_description="say \\"hi\\" \\\\ bye", resource_metadata="${PRM}"`);
  });

  it('cannot be broken out of by a hostile description', () => {
    const header = bearerChallenge({ error: 'invalid_token', errorDescription: '", scope="admin', resourceMetadata: PRM });
    // The only unescaped quotes delimit the three values.
    expect(header.replace(/\\./g, '').match(/"/g)).toHaveLength(6);
    expect(header).not.toContain('scope="admin"');
  });
});
