import { describe, expect, it } from 'vitest';
import { limitHeapGrowth } from '../../../src/http/heap-growth.js';
import { parseConfig } from '../../../src/config/load-config.js';

const minimal = { publicUrl: 'https://kh.example.com', storage: { sqlite: ':memory:' }, servers: { demo: { upstream: 'https://mcp.example.com/mcp', oauth: { discovery: 'mcp', clientId: 'x' } } } };

describe('limitHeapGrowth (issue 17)', () => {
  it('leaves a --heap-growing-percent given on the command line alone', () => {
    expect(limitHeapGrowth(25, ['--heap-growing-percent=50'])).toBe('command-line');
    expect(limitHeapGrowth(25, ['--heap-growing-percent', '50'])).toBe('command-line');
    expect(limitHeapGrowth(25, ['--heap_growing_percent=50'])).toBe('command-line');
  });

  it('applies the percentage otherwise (0: V8\'s default)', () => {
    expect(limitHeapGrowth(0, [])).toBe(0);
  });

  it('refuses a negative or fractional percentage', () => {
    expect(() => limitHeapGrowth(-1, [])).toThrow(/percent/);
    expect(() => limitHeapGrowth(1.5, [])).toThrow(/percent/);
  });

  it('config memory.heapGrowthPercent: 0 (V8\'s own factor) by default, 0..300', () => {
    expect(parseConfig(minimal).memory).toEqual({ heapGrowthPercent: 0 });
    expect(parseConfig({ ...minimal, memory: { heapGrowthPercent: 25 } }).memory.heapGrowthPercent).toBe(25);
    expect(parseConfig({ ...minimal, memory: { heapGrowthPercent: 0 } }).memory.heapGrowthPercent).toBe(0);
    expect(() => parseConfig({ ...minimal, memory: { heapGrowthPercent: -1 } })).toThrow();
    expect(() => parseConfig({ ...minimal, memory: { heapGrowthPercent: 301 } })).toThrow();
    expect(() => parseConfig({ ...minimal, memory: { other: 1 } })).toThrow();
  });
});
