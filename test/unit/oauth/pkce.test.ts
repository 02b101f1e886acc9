import { describe, expect, it } from 'vitest';
import { assertCodeChallenge, assertCodeVerifier, s256 } from '../../../src/oauth/pkce.js';
import { InvalidGrantError, InvalidRequestError, type OAuthError } from '../../../src/oauth/errors.js';

/** RFC 7636 Appendix B. */
const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

function codeOf(fn: () => void): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    return (e as OAuthError).errorCode;
  }
}

describe('pkce', () => {
  it('computes the RFC 7636 Appendix B challenge', () => {
    expect(s256(VERIFIER)).toBe(CHALLENGE);
  });

  describe('assertCodeChallenge', () => {
    it('accepts an S256 challenge', () => {
      expect(() => assertCodeChallenge(CHALLENGE, 'S256')).not.toThrow();
    });

    it('rejects a missing challenge with invalid_request', () => {
      expect(() => assertCodeChallenge(undefined, 'S256')).toThrow(InvalidRequestError);
      expect(codeOf(() => assertCodeChallenge('', 'S256'))).toBe('invalid_request');
    });

    it('rejects plain and a missing method with invalid_request', () => {
      expect(codeOf(() => assertCodeChallenge(CHALLENGE, 'plain'))).toBe('invalid_request');
      expect(codeOf(() => assertCodeChallenge(CHALLENGE, undefined))).toBe('invalid_request');
      expect(codeOf(() => assertCodeChallenge(CHALLENGE, 's256'))).toBe('invalid_request');
    });

    it('rejects a challenge that is not 43 base64url characters with invalid_request', () => {
      for (const c of ['', 'a'.repeat(42), 'a'.repeat(44), `${'a'.repeat(42)}=`, `${'a'.repeat(42)}+`, `${'a'.repeat(42)}.`, `${'a'.repeat(42)}~`, VERIFIER + 'x']) {
        expect(codeOf(() => assertCodeChallenge(c, 'S256')), c).toBe('invalid_request');
      }
    });
  });

  describe('assertCodeVerifier', () => {
    it('accepts the matching verifier', () => {
      expect(() => assertCodeVerifier(VERIFIER, CHALLENGE)).not.toThrow();
    });

    it('accepts 43 and 128 characters of the unreserved set', () => {
      for (const v of ['a'.repeat(43), '-._~'.repeat(32)]) expect(() => assertCodeVerifier(v, s256(v))).not.toThrow();
    });

    it('rejects a missing verifier with invalid_request', () => {
      expect(codeOf(() => assertCodeVerifier(undefined, CHALLENGE))).toBe('invalid_request');
      expect(codeOf(() => assertCodeVerifier('', CHALLENGE))).toBe('invalid_request');
    });

    it('rejects a wrong verifier with invalid_grant', () => {
      expect(() => assertCodeVerifier('a'.repeat(43), CHALLENGE)).toThrow(InvalidGrantError);
    });

    it('rejects a malformed verifier with invalid_grant, even when its hash would match', () => {
      for (const v of ['a'.repeat(42), 'a'.repeat(129), `${'a'.repeat(42)}+`, `${'a'.repeat(42)} `, `${'a'.repeat(42)}é`]) {
        expect(codeOf(() => assertCodeVerifier(v, s256(v))), v).toBe('invalid_grant');
      }
    });

    it('does not accept the challenge itself as verifier (no plain fallback)', () => {
      expect(codeOf(() => assertCodeVerifier(CHALLENGE, CHALLENGE))).toBe('invalid_grant');
    });
  });
});
