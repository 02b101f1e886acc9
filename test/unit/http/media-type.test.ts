import { describe, expect, it } from 'vitest';
import { mediaType } from '../../../src/http/media-type.js';

describe('mediaType', () => {
  it.each([
    ['application/x-www-form-urlencoded', 'application/x-www-form-urlencoded'],
    ['application/json; charset=utf-8', 'application/json'],
    ['  Application/JSON ;charset=UTF-8', 'application/json'],
    ['text/event-stream;', 'text/event-stream'],
  ])('reads %j as %j', (header, type) => {
    expect(mediaType(header)).toBe(type);
  });

  it('is empty without a header', () => {
    expect(mediaType(undefined)).toBe('');
    expect(mediaType(null)).toBe('');
    expect(mediaType('')).toBe('');
  });

  it('does not read a parameter as the type', () => {
    expect(mediaType('; application/json')).toBe('');
  });
});
