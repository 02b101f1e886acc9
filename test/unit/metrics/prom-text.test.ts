import { describe, expect, it } from 'vitest';
import { parsePrometheusText, sampleValue } from './prom-text.js';

describe('prom-text (test helper)', () => {
  it('parses families, labels with escapes and special values', () => {
    const f = parsePrometheusText('# HELP a_total help text\n# TYPE a_total counter\na_total{x="q\\"uo\\\\te\\n",y="2"} 3\n# TYPE h histogram\nh_bucket{le="+Inf"} 1\nh_sum 0.5\nh_count 1\n# TYPE g gauge\ng Nan\n# TYPE i gauge\ni +Inf\n');
    expect(f.get('a_total')).toEqual({ name: 'a_total', type: 'counter', help: 'help text', samples: [{ name: 'a_total', labels: { x: 'q"uo\\te\n', y: '2' }, value: 3 }] });
    expect(sampleValue(f, 'h_bucket', { le: '+Inf' })).toBe(1);
    expect(sampleValue(f, 'h_count')).toBe(1);
    expect(sampleValue(f, 'i')).toBe(Infinity);
    expect(Number.isNaN(sampleValue(f, 'g'))).toBe(true);
    expect(sampleValue(f, 'a_total', { x: 'nope', y: '2' })).toBeUndefined();
  });

  it.each([
    ['a sample before its TYPE', 'a 1\n'],
    ['a duplicated series', '# TYPE a gauge\na{x="1"} 1\na{x="1"} 2\n'],
    ['a bad escape', '# TYPE a gauge\na{x="\\t"} 1\n'],
    ['an unquoted label value', '# TYPE a gauge\na{x=1} 1\n'],
    ['a bad value', '# TYPE a gauge\na 1,5\n'],
    ['a word for a value', '# TYPE a gauge\na NaNa\n'],
    ['a foreign histogram suffix', '# TYPE h histogram\nh_total 1\n'],
    ['a repeated TYPE', '# TYPE a gauge\n# TYPE a gauge\n'],
    ['a bad type', '# TYPE a meter\n'],
  ])('rejects %s', (_n, text) => {
    expect(() => parsePrometheusText(text)).toThrow(/^line \d+: /);
  });
});
