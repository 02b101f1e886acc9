import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { diff, fingerprintToolList, hasDrift } from '../../../src/audit/tool-list-drift.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

describe('tool-list-drift', () => {
  it('digests description + canonical JSON of the inputSchema (sorted keys)', () => {
    const fp = fingerprintToolList([{ name: 'echo', description: 'Echo', inputSchema: { type: 'object', properties: { b: {}, a: {} } } }]);
    expect(fp.get('echo')).toBe(sha('Echo{"properties":{"a":{},"b":{}},"type":"object"}'));
    expect(fingerprintToolList([{ name: 'x' }]).get('x')).toBe(sha('null'));
  });

  it('ignores key order, skips malformed entries and keeps the first of a duplicated name', () => {
    const a = fingerprintToolList([{ name: 't', inputSchema: { a: 1, b: 2 } }, { name: 't', description: 'other' }, null, { name: 3 }, 'x']);
    const b = fingerprintToolList([{ name: 't', inputSchema: { b: 2, a: 1 } }]);
    expect([...a.keys()]).toEqual(['t']);
    expect(diff(a, b)).toEqual({ added: [], removed: [], changed: [] });
    expect(hasDrift(diff(a, b))).toBe(false);
  });

  it('reports added, removed and changed tools, sorted', () => {
    const before = fingerprintToolList([{ name: 'keep' }, { name: 'gone' }, { name: 'edit', description: 'v1' }, { name: 'also_gone' }]);
    const after = fingerprintToolList([{ name: 'new_b' }, { name: 'keep' }, { name: 'edit', description: 'v2' }, { name: 'new_a' }]);
    const d = diff(before, after);
    expect(d).toEqual({ added: ['new_a', 'new_b'], removed: ['also_gone', 'gone'], changed: ['edit'] });
    expect(hasDrift(d)).toBe(true);
  });

  it('treats a schema change as a change', () => {
    const before = fingerprintToolList([{ name: 'q', inputSchema: { required: ['a'] } }]);
    const after = fingerprintToolList([{ name: 'q', inputSchema: { required: ['a', 'b'] } }]);
    expect(diff(before, after).changed).toEqual(['q']);
  });
});
