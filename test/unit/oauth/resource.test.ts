import { describe, expect, it } from 'vitest';
import { buildResourceIndex, resolveResource, resourceUrl } from '../../../src/oauth/resource.js';
import { InvalidTargetError } from '../../../src/oauth/errors.js';

const BASE = 'https://kh.example.com';
const two = buildResourceIndex(BASE, ['github', 'linear']);
const one = buildResourceIndex(BASE, ['github']);

describe('resource', () => {
  it('builds canonical resource URLs', () => {
    expect(resourceUrl(BASE, 'github')).toBe('https://kh.example.com/mcp/github');
  });

  it('resolves the exact resource', () => {
    expect(resolveResource(two, `${BASE}/mcp/linear`)).toEqual({ resource: `${BASE}/mcp/linear`, server: 'linear' });
  });

  it('normalises a trailing slash, host case and the default port', () => {
    for (const r of [`${BASE}/mcp/github/`, `${BASE}/mcp/github//`, 'https://KH.Example.COM/mcp/github', 'https://kh.example.com:443/mcp/github']) {
      expect(resolveResource(two, r), r).toEqual({ resource: `${BASE}/mcp/github`, server: 'github' });
    }
  });

  it('keeps the path case-sensitive', () => {
    expect(() => resolveResource(two, `${BASE}/mcp/GitHub`)).toThrow(InvalidTargetError);
  });

  it('resolves the origin alone or no resource when one server is served', () => {
    for (const r of [BASE, `${BASE}/`, undefined, '']) expect(resolveResource(one, r), String(r)).toEqual({ resource: `${BASE}/mcp/github`, server: 'github' });
  });

  it('resolves the origin alone or no resource with a hint when several servers are served', () => {
    expect(resolveResource(two, BASE, 'linear')).toEqual({ resource: `${BASE}/mcp/linear`, server: 'linear' });
    expect(resolveResource(two, undefined, 'linear')).toEqual({ resource: `${BASE}/mcp/linear`, server: 'linear' });
  });

  it('rejects the origin alone or no resource without a hint when several servers are served', () => {
    expect(() => resolveResource(two, BASE)).toThrow(InvalidTargetError);
    expect(() => resolveResource(two, undefined)).toThrow(InvalidTargetError);
  });

  it('rejects unknown, malformed, fragment, query, other-origin and other-scheme resources with invalid_target', () => {
    for (const r of [
      `${BASE}/mcp/nope`, `${BASE}/mcp`, `${BASE}/mcp/github/x`, `${BASE}/mcp/github#f`, `${BASE}/mcp/github#`, `${BASE}/mcp/github?x=1`,
      'http://kh.example.com/mcp/github', 'https://kh.example.com:8443/mcp/github', 'https://evil.example/mcp/github', 'github', '/mcp/github', 'urn:x',
    ]) {
      try {
        resolveResource(two, r);
        throw new Error(`accepted ${r}`);
      } catch (e) {
        expect(e, r).toBeInstanceOf(InvalidTargetError);
        expect((e as InvalidTargetError).errorCode).toBe('invalid_target');
      }
    }
  });

  it('does not let a hint override an explicit resource', () => {
    expect(resolveResource(two, `${BASE}/mcp/github`, 'linear').server).toBe('github');
  });
});

describe('resolveResource with user information', () => {
  it('rejects a resource carrying userinfo with invalid_target', async () => {
    const { buildResourceIndex, resolveResource } = await import('../../../src/oauth/resource.js');
    const index = buildResourceIndex('https://kh.example.com', ['a']);
    expect(() => resolveResource(index, 'https://u:p@kh.example.com/mcp/a')).toThrowError(expect.objectContaining({ errorCode: 'invalid_target' }));
  });
});
