import { describe, expect, it } from 'vitest';
import { parseJsonObject } from '../../../src/http/json-object.js';

describe('parseJsonObject', () => {
  it('returns the object', () => {
    expect(parseJsonObject('{"a":1,"b":[true]}')).toEqual({ ok: true, value: { a: 1, b: [true] } });
    expect(parseJsonObject(' {} ')).toEqual({ ok: true, value: {} });
  });

  it.each(['', '{', 'nope', '{"a":1,}'])('says %j is not JSON', (text) => {
    expect(parseJsonObject(text)).toEqual({ ok: false, reason: 'not-json' });
  });

  it.each(['null', '[]', '[{}]', '"x"', '42', 'true'])('says %s is not an object', (text) => {
    expect(parseJsonObject(text)).toEqual({ ok: false, reason: 'not-an-object' });
  });
});
