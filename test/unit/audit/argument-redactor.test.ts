import { describe, expect, it } from 'vitest';
import { createArgumentRedactor, isSecretKey, REDACTED_BY_KEY, TRUNCATED } from '../../../src/audit/argument-redactor.js';

const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlc2lnbmF0dXJl';
const GITHUB = `ghp_${'a1B2'.repeat(9)}`;
const PEM = '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx8gq\nabcdEFGH1234\n-----END RSA PRIVATE KEY-----';

describe('argument-redactor', () => {
  const redact = createArgumentRedactor();

  it('replaces values under secret-named keys, whatever their type, and keeps booleans and null', () => {
    expect(redact({ password: 'hunter2', apiKey: 12345, client_secret: { a: 1 }, token: null, remember_token: true, path: '/tmp' })).toEqual({
      password: REDACTED_BY_KEY, apiKey: REDACTED_BY_KEY, client_secret: REDACTED_BY_KEY, token: null, remember_token: true, path: '/tmp',
    });
  });

  it('keeps counts such as max_tokens and ordinary keys', () => {
    expect(redact({ max_tokens: 100, passenger: 'Ann', keyword: 'x' })).toEqual({ max_tokens: 100, passenger: 'Ann', keyword: 'x' });
    expect(isSecretKey('Authorization')).toBe(true);
    expect(isSecretKey('x-api-key')).toBe(true);
    expect(isSecretKey('passphrase')).toBe(true);
    expect(isSecretKey('tokens_used')).toBe(false);
  });

  it('replaces JWTs, GitHub tokens and PEM private keys inside strings, recursively', () => {
    expect(redact({ query: `auth ${JWT} now`, list: [GITHUB, 'plain'], nested: { deeper: { pem: `key:\n${PEM}\n` } } })).toEqual({
      query: 'auth [REDACTED:jwt] now',
      list: ['[REDACTED:github_token]', 'plain'],
      nested: { deeper: { pem: 'key:\n[REDACTED:private_key]\n' } },
    });
  });

  it('never modifies its input', () => {
    const input = { password: 'p', a: [JWT] };
    redact(input);
    expect(input).toEqual({ password: 'p', a: [JWT] });
  });

  it('bounds depth: containers deeper than maxDepth become [TRUNCATED]', () => {
    const r = createArgumentRedactor({ maxDepth: 2 });
    expect(r({ a: { b: { c: 1 } }, x: 1 })).toEqual({ a: { b: TRUNCATED }, x: 1 });
  });

  it('bounds size: values after maxNodes and string tails are cut', () => {
    const r = createArgumentRedactor({ maxNodes: 4, maxStringLength: 5 });
    expect(r({ a: 'abcdefgh', b: [1, 2, 3, 4, 5] })).toEqual({ a: `abcde…${TRUNCATED}`, b: [1, TRUNCATED] }); // 4 values: the object, a, b, 1
  });

  it('keeps a __proto__ key as data without touching the prototype', () => {
    const out = redact(JSON.parse('{"__proto__":{"password":"x"}}')) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(out, '__proto__')?.value).toEqual({ password: REDACTED_BY_KEY });
  });

  it('checks its options when built', () => {
    expect(() => createArgumentRedactor({ maxDepth: 0 })).toThrow('maxDepth must be a positive integer');
  });
});
