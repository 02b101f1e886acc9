import { describe, expect, it } from 'vitest';
import { formatTraceparent, parseTraceparent, requestIdOf, traceContextFrom } from '../../../src/audit/trace-context.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';
const VALID = `00-${TRACE}-${PARENT}-01`;

describe('trace-context', () => {
  it('parses the spec example', () => {
    expect(parseTraceparent(VALID)).toEqual({ traceId: TRACE, parentId: PARENT, flags: '01' });
  });

  it.each([
    ['all-zero trace id', `00-${'0'.repeat(32)}-${PARENT}-01`],
    ['all-zero parent id', `00-${TRACE}-${'0'.repeat(16)}-01`],
    ['upper-case hex', `00-${TRACE.toUpperCase()}-${PARENT}-01`],
    ['version ff', `ff-${TRACE}-${PARENT}-01`],
    ['short trace id', `00-${TRACE.slice(1)}-${PARENT}-01`],
    ['version 00 with extra field', `${VALID}-extra`],
    ['non-hex flags', `00-${TRACE}-${PARENT}-0g`],
    ['wrong separator', `00_${TRACE}-${PARENT}-01`],
    ['empty', ''],
  ])('rejects %s', (_name, header) => {
    expect(parseTraceparent(header)).toBeNull();
  });

  it('accepts a future version with extra fields, keeping the first four', () => {
    expect(parseTraceparent(`01-${TRACE}-${PARENT}-03-what-ever`)).toEqual({ traceId: TRACE, parentId: PARENT, flags: '03' });
  });

  it('continues a valid trace with a new span of its own', () => {
    const ctx = traceContextFrom(VALID, (n) => 'ab'.repeat(n));
    expect(ctx).toEqual({ traceId: TRACE, parentId: PARENT, spanId: 'abababababababab', flags: '01' });
    expect(formatTraceparent(ctx)).toBe(`00-${TRACE}-abababababababab-01`);
    expect(requestIdOf(ctx)).toBe(`${TRACE}-abababababababab`);
  });

  it('starts a new, unsampled trace when the header is absent or malformed', () => {
    const ctx = traceContextFrom(`00-${'0'.repeat(32)}-${PARENT}-01`, (n) => 'cd'.repeat(n));
    expect(ctx).toEqual({ traceId: 'cd'.repeat(16), parentId: null, spanId: 'cd'.repeat(8), flags: '00' });
    const fresh = traceContextFrom(undefined);
    expect(formatTraceparent(fresh)).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
    expect(parseTraceparent(formatTraceparent(fresh))).not.toBeNull();
  });

  it('never issues an all-zero id even when the random source returns one', () => {
    let calls = 0;
    const ctx = traceContextFrom(undefined, (n) => (calls++ === 0 ? '00'.repeat(n) : '11'.repeat(n)));
    expect(ctx.spanId).toBe('1111111111111111');
  });
});
