import { describe, expect, it } from 'vitest';
import { judgeAuthorizationResponse } from '../../../src/connect/authorization-response.js';

const pending = new Set(['s1']);
const expected = { isPendingState: (s: string) => pending.has(s) };
const q = (params: Record<string, string>) => new URLSearchParams(params);

describe('judgeAuthorizationResponse', () => {
  it('accepts a code with a pending state', () => {
    expect(judgeAuthorizationResponse(q({ code: 'c', state: 's1' }), expected)).toEqual({ kind: 'code', code: 'c', state: 's1' });
  });

  it('ignores a missing or unknown state, even with an error (a forged request cannot end the sign-in)', () => {
    expect(judgeAuthorizationResponse(q({ code: 'c' }), expected).kind).toBe('ignore');
    expect(judgeAuthorizationResponse(q({ code: 'c', state: 'other' }), expected).kind).toBe('ignore');
    expect(judgeAuthorizationResponse(q({ error: 'access_denied', state: 'other' }), expected).kind).toBe('ignore');
  });

  it('fails on an error response with the error code and description', () => {
    expect(judgeAuthorizationResponse(q({ error: 'access_denied', error_description: 'the user said no', state: 's1' }), expected)).toEqual({
      kind: 'fail', reason: 'the authorization server answered access_denied: the user said no',
    });
  });

  it('fails without code or error', () => {
    expect(judgeAuthorizationResponse(q({ state: 's1' }), expected).kind).toBe('fail');
  });

  it('checks iss when the server announced RFC 9207: missing or different fails, equal passes', () => {
    const withIss = { ...expected, issuer: 'https://kh.example.com' };
    expect(judgeAuthorizationResponse(q({ code: 'c', state: 's1' }), withIss)).toMatchObject({ kind: 'fail', reason: expect.stringContaining('no iss') });
    expect(judgeAuthorizationResponse(q({ code: 'c', state: 's1', iss: 'https://evil.example.com' }), withIss)).toMatchObject({ kind: 'fail', reason: expect.stringContaining('evil.example.com') });
    expect(judgeAuthorizationResponse(q({ code: 'c', state: 's1', iss: 'https://kh.example.com' }), withIss).kind).toBe('code');
  });

  it('does not require iss from a server that did not announce it', () => {
    expect(judgeAuthorizationResponse(q({ code: 'c', state: 's1', iss: 'anything' }), expected).kind).toBe('code');
  });
});
