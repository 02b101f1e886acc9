import { describe, expect, it } from 'vitest';
import { createArgumentRules, MAX_REGEX_INPUT } from '../../../src/policy/argument-rules.js';
import { evaluateJsonPointer, parseJsonPointer } from '../../../src/policy/json-pointer.js';
import { argumentRefusedError } from '../../../src/policy/jsonrpc-errors.js';
import { argumentRulesSchema } from '../../../src/config/policy-schema.js';

const rules = createArgumentRules(argumentRulesSchema.parse([
  { tool: 'create_issue', pointer: '/repo', allow: ['acme/*'] },
  { tool: 'run_query', pointer: '/sql', deny: ['(?i)\\bdrop\\b'], match: 'regex' },
  { tool: 'files_*', pointer: '/paths/0', deny: ['/etc/*', '*..*'] },
  { tool: 'set_flag', pointer: '/a~1b/~0c', allow: ['true', '42'] },
]));

describe('json-pointer', () => {
  it('parses tokens with ~0 and ~1 escapes (~01 is ~1, not /)', () => {
    expect(parseJsonPointer('')).toEqual([]);
    expect(parseJsonPointer('/a~1b/~0c/~01')).toEqual(['a/b', '~c', '~1']);
    expect(parseJsonPointer('/')).toEqual(['']);
  });

  it('rejects malformed pointers', () => {
    expect(() => parseJsonPointer('repo')).toThrow('invalid JSON Pointer "repo"');
    expect(() => parseJsonPointer('/a~2')).toThrow('invalid JSON Pointer');
    expect(() => parseJsonPointer('/a~')).toThrow('invalid JSON Pointer');
  });

  it('evaluates objects (own properties only) and arrays by index', () => {
    const doc = { a: [{ b: 'x' }, 'y'], '': 1, 'm~n': 2 };
    expect(evaluateJsonPointer(doc, parseJsonPointer('/a/0/b'))).toBe('x');
    expect(evaluateJsonPointer(doc, parseJsonPointer('/a/1'))).toBe('y');
    expect(evaluateJsonPointer(doc, parseJsonPointer('/'))).toBe(1);
    expect(evaluateJsonPointer(doc, parseJsonPointer('/m~0n'))).toBe(2);
    expect(evaluateJsonPointer(doc, parseJsonPointer('/a/2'))).toBe(undefined);
    expect(evaluateJsonPointer(doc, parseJsonPointer('/a/-'))).toBe(undefined);
    expect(evaluateJsonPointer(doc, parseJsonPointer('/a/01'))).toBe(undefined);
    expect(evaluateJsonPointer(doc, parseJsonPointer('/a/length'))).toBe(undefined);
    expect(evaluateJsonPointer(doc, parseJsonPointer('/toString'))).toBe(undefined);
    expect(evaluateJsonPointer(doc, parseJsonPointer('/a/0/b/c'))).toBe(undefined);
  });
});

describe('argument-rules', () => {
  it('is inactive without rules', () => {
    expect(createArgumentRules(undefined)).toMatchObject({ active: false });
    expect(createArgumentRules([]).check('x', {})).toEqual({ ok: true });
  });

  it('allows a value matching an allow glob and refuses one that does not', () => {
    expect(rules.check('create_issue', { repo: 'acme/widgets' })).toEqual({ ok: true });
    expect(rules.check('create_issue', { repo: 'evil/widgets' })).toEqual({ ok: false, rule: { index: 0, tool: 'create_issue', pointer: '/repo' }, reason: 'not_allowed', tool: 'create_issue' });
    expect(rules.check('create_issue', { repo: 'ACME/widgets' }).ok).toBe(false); // globs are case-sensitive
  });

  it('refuses a missing or mistyped constrained argument', () => {
    expect(rules.check('create_issue', {})).toMatchObject({ ok: false, reason: 'missing' });
    expect(rules.check('create_issue', undefined)).toMatchObject({ ok: false, reason: 'missing' });
    expect(rules.check('create_issue', { repo: ['acme/x'] })).toMatchObject({ ok: false, reason: 'wrong_type' });
    expect(rules.check('create_issue', { repo: null })).toMatchObject({ ok: false, reason: 'wrong_type' });
    expect(rules.check('create_issue', { repo: { toString: 'acme/x' } })).toMatchObject({ ok: false, reason: 'wrong_type' });
  });

  it('applies a case-insensitive regex deny rule, searched anywhere in the value', () => {
    expect(rules.check('run_query', { sql: 'select * from t' })).toEqual({ ok: true });
    expect(rules.check('run_query', { sql: 'select 1; DROP table t' })).toEqual({ ok: false, rule: { index: 1, tool: 'run_query', pointer: '/sql' }, reason: 'denied', tool: 'run_query' });
    expect(rules.check('run_query', { sql: 'select dropped from t' })).toEqual({ ok: true });
  });

  it('refuses a value longer than a regex may see', () => {
    expect(rules.check('run_query', { sql: 'a'.repeat(MAX_REGEX_INPUT) })).toEqual({ ok: true });
    expect(rules.check('run_query', { sql: 'a'.repeat(MAX_REGEX_INPUT + 1) })).toMatchObject({ ok: false, reason: 'too_long' });
  });

  it('matches tool globs and array elements', () => {
    expect(rules.check('files_read', { paths: ['/home/a'] })).toEqual({ ok: true });
    expect(rules.check('files_read', { paths: ['/etc/passwd'] })).toMatchObject({ ok: false, reason: 'denied', rule: { index: 2 } });
    expect(rules.check('files_write', { paths: ['a/../b'] })).toMatchObject({ ok: false, reason: 'denied' });
    expect(rules.check('other_tool', { paths: ['/etc/passwd'] })).toEqual({ ok: true });
  });

  it('matches numbers and booleans by their JSON text, through escaped pointer tokens', () => {
    expect(rules.check('set_flag', { 'a/b': { '~c': true } })).toEqual({ ok: true });
    expect(rules.check('set_flag', { 'a/b': { '~c': 42 } })).toEqual({ ok: true });
    expect(rules.check('set_flag', { 'a/b': { '~c': 43 } })).toMatchObject({ ok: false, reason: 'not_allowed', rule: { pointer: '/a~1b/~0c' } });
  });

  it('builds distinct JSON-RPC errors naming the rule, without a scope challenge', () => {
    const refused = rules.check('create_issue', { repo: 'evil/x' });
    if (refused.ok) throw new Error('expected a refusal');
    expect(argumentRefusedError(3, refused)).toEqual({
      status: 403,
      headers: {},
      body: { jsonrpc: '2.0', id: 3, error: { code: -32014, message: 'Argument /repo of create_issue refused by policy', data: { rule: { index: 0, tool: 'create_issue', pointer: '/repo' }, reason: 'not_allowed' } } },
    });
    const missing = rules.check('create_issue', {});
    if (missing.ok) throw new Error('expected a refusal');
    expect(argumentRefusedError(4, missing).body.error.code).toBe(-32015);
  });

  it('rejects invalid regexes and pointers at config validation, with the field path', () => {
    const r = argumentRulesSchema.safeParse([
      { tool: 't', pointer: 'repo', allow: ['x'] },
      { tool: 't', pointer: '/q', match: 'regex', deny: ['ok', '(unclosed'] },
      { tool: 't', pointer: '/q', match: 'regex', deny: ['(a+)+$'] },
      { tool: 't', pointer: '/q' },
      { tool: 't', pointer: '/q', allow: ['(unclosed'] }, // a glob: no regex check
    ]);
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([
      '0.pointer: must be an RFC 6901 JSON Pointer ("" or "/a/b", "~" only as ~0 or ~1)',
      '1.deny.1: invalid regex: Invalid regular expression: /(unclosed/: Unterminated group',
      '2.deny.0: nested quantifiers such as (a+)+ are not allowed (catastrophic backtracking)',
      '3: needs "allow" or "deny"',
    ]);
  });
});
