import { describe, expect, it } from 'vitest';
import { createSecretRedactor, looksRandom, shannonEntropy, type RedactionCounts } from '../../../src/policy/secret-redactor.js';
import { guardrailsSchema } from '../../../src/config/policy-schema.js';

const redactor = createSecretRedactor(guardrailsSchema.parse({ redactSecrets: true, patterns: [{ name: 'ticket-id', regex: '(?i)\\bsec-\\d{4,}\\b' }] }));
function run(text: string): { out: string; counts: RedactionCounts } {
  const counts: RedactionCounts = {};
  return { out: redactor.redact(text, counts), counts };
}

const PEM = '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MhgHcTz6sE2I2yPB\naFDrBz9vFqU4yZZ3c7OgpgzxB1HfX1ZT2nLBdK5KfZ3sHj3mq3QvZrJmM8E8xmqF\n-----END RSA PRIVATE KEY-----';
const GITHUB = `ghp_${'a1B2'.repeat(9)}`;
const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U';

describe('secret-redactor', () => {
  it('redacts a multi-line PEM private key, and one cut short through its base64 lines', () => {
    expect(run(`key:\n${PEM}\nafter`)).toEqual({ out: 'key:\n[REDACTED:private_key]\nafter', counts: { private_key: 1 } });
    expect(run('-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQC7\n(truncated) the rest').out).toBe('[REDACTED:private_key]\n(truncated) the rest');
    expect(run('-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A\n-----END PUBLIC KEY-----').counts).toEqual({});
  });

  it('redacts cloud and forge tokens by their formats', () => {
    const text = [
      'aws AKIAIOSFODNN7EXAMPLE and ASIAY34FZKBOKMUTVV7A',
      `gh ${GITHUB} gho_${'x'.repeat(36)} github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz`,
      'gl glpat-AbCdEfGhIj0123456789 slack xoxb-123456789012-1234567890123-AbCdEfGh',
      `jwt ${JWT}`,
    ].join('\n');
    expect(run(text)).toEqual({
      out: [
        'aws [REDACTED:aws_access_key] and [REDACTED:aws_access_key]',
        'gh [REDACTED:github_token] [REDACTED:github_token] [REDACTED:github_token]',
        'gl [REDACTED:gitlab_token] slack [REDACTED:slack_token]',
        'jwt [REDACTED:jwt]',
      ].join('\n'),
      counts: { aws_access_key: 2, github_token: 3, gitlab_token: 1, slack_token: 1, jwt: 1 },
    });
  });

  it('leaves near misses alone', () => {
    for (const text of ['AKIA is a prefix', 'AKIAIOSFODNN7EXAMPLEX', `ghp_${'a'.repeat(35)}`, 'glpat-short', 'xoxq-1234567890123', 'eyJhbGciOiJIUzI1NiJ9 alone']) {
      expect(run(text)).toEqual({ out: text, counts: {} });
    }
  });

  it('redacts Bearer values that look like tokens, not prose', () => {
    expect(run('Authorization: Bearer abc123.def-456_ghi')).toEqual({ out: 'Authorization: [REDACTED:bearer]'.replace('[', 'Bearer ['), counts: { bearer: 1 } });
    expect(run('curl -H "authorization: bearer 0123456789abcdef"').out).toBe('curl -H "authorization: bearer [REDACTED:bearer]"');
    for (const prose of ['Bearer tokens are short-lived', 'Bearer authentication is described in RFC 6750']) expect(run(prose)).toEqual({ out: prose, counts: {} });
  });

  it('redacts high-entropy values after password/secret/token-like keys', () => {
    expect(run('api_key=sk_live_4eC39HqLyjWDarjtT1zdp7dc&x=1').out).toBe('api_key=[REDACTED:secret]&x=1');
    expect(run('{"db_password": "Xk9mQ2vL7pW4zR8t", "user": "bob"}').out).toBe('{"db_password": "[REDACTED:secret]", "user": "bob"}');
    expect(run("CLIENT_SECRET='q8ZrT1vY6wP3mK0s'").out).toBe("CLIENT_SECRET='[REDACTED:secret]'");
    expect(run('refresh_token: 1//0gLx7Rz-K9pQwErTyUiOp').counts).toEqual({ secret: 1 });
  });

  it('keeps ordinary words, dates, UUIDs and low-entropy values after such keys', () => {
    const clean = [
      'password: required',
      'password: correcthorsebatterystaple',
      'secret: hunter2hunter2',
      'token: 550e8400-e29b-41d4-a716-446655440000',
      'token_expires_at: 2024-01-01T00:00:00Z',
      'the secret of good tokens is rotation',
      'request id 550e8400-e29b-41d4-a716-446655440000 done',
      'token_type: access_token',
      'max_tokens: 4096',
    ];
    for (const text of clean) expect(run(text)).toEqual({ out: text, counts: {} });
  });

  it('errs on the side of redaction for long letters-and-digits values after a secret-like key (known false positive)', () => {
    expect(run('password_policy = minimum12characters').out).toBe('password_policy = [REDACTED:secret]');
  });

  it('defines the entropy test', () => {
    expect(shannonEntropy('aaaa')).toBe(0);
    expect(shannonEntropy('abcd')).toBe(2);
    expect(looksRandom('Xk9mQ2vL7pW4zR8t')).toBe(true);
    expect(looksRandom('Xk9mQ2vL7pW')).toBe(false); // 11 characters
    expect(looksRandom('abcdefghijklmnop')).toBe(false); // no digit
  });

  it('applies configured patterns with their name as kind, (?i) as the i flag', () => {
    expect(run('see SEC-12345 and sec-9999')).toEqual({ out: 'see [REDACTED:ticket-id] and [REDACTED:ticket-id]', counts: { 'ticket-id': 2 } });
  });

  it('counts kinds, never values', () => {
    const { counts } = run(`${GITHUB} ${JWT} AKIAIOSFODNN7EXAMPLE`);
    expect(JSON.stringify(counts)).toBe('{"aws_access_key":1,"github_token":1,"jwt":1}');
  });

  it('is inactive without detection or patterns, and with redactSecrets false runs only the patterns', () => {
    const off = createSecretRedactor(undefined);
    expect(off.active).toBe(false);
    expect(off.redact(GITHUB)).toBe(GITHUB);
    const patternsOnly = createSecretRedactor({ redactSecrets: false, patterns: [{ name: 'n', regex: 'x+y' }] });
    expect(patternsOnly.redact(`${GITHUB} xxy`)).toBe(`${GITHUB} [REDACTED:n]`);
  });

  it('tells from raw JSON text whether anything can match', () => {
    expect(redactor.mayContain('{"result":{"content":[{"type":"text","text":"hello world"}]}}')).toBe(false);
    expect(redactor.mayContain(JSON.stringify({ t: GITHUB }))).toBe(true);
    expect(redactor.mayContain('{"t":"\\u0041KIAIOSFODNN7EXAMPLE"}')).toBe(true);
    expect(redactor.mayContain('{"t":"line\\nbreak"}')).toBe(true); // a configured pattern may span escapes
    expect(createSecretRedactor({ redactSecrets: true, patterns: [] }).mayContain('{"t":"line\\nbreak"}')).toBe(false);
  });

  it('stays linear on adversarial input (each of these took seconds with quadratic detectors)', () => {
    const inputs = {
      pemWithoutEnd: `-----BEGIN PRIVATE KEY-----${' a'.repeat(100_000)}`,
      manyBegins: '-----BEGIN PRIVATE KEY-----'.repeat(8_000),
      wordsBeforeKeyword: `${'a.'.repeat(100_000)} token`,
      jwtPrefixes: 'eyJa-'.repeat(40_000),
      longBearer: `Bearer ${'x'.repeat(200_000)}`,
      longSecretValue: `password=${'a1'.repeat(100_000)}`,
    };
    for (const [name, text] of Object.entries(inputs)) {
      const t0 = performance.now();
      redactor.redact(text);
      expect([name, performance.now() - t0 < 250]).toEqual([name, true]);
    }
  });

  it('rejects an invalid configured pattern at config validation, with the field path', () => {
    const r = guardrailsSchema.safeParse({ patterns: [{ name: 'ok', regex: 'a' }, { name: 'Bad Name', regex: '[' }] });
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([
      'patterns.1.name: lowercase letters, digits, "_" and "-"',
      'patterns.1.regex: invalid regex: Invalid regular expression: /[/: Unterminated character class',
    ]);
  });
});
