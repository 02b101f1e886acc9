import { describe, expect, it } from 'vitest';
import { createLabelBounds } from '../../../src/metrics/label-bounds.js';

describe('label-bounds', () => {
  const bounds = () => createLabelBounds({ servers: ['demo', 'github'], configTools: { demo: ['echo', 'delete_*'] }, maxToolsPerServer: 3 });

  it('keeps configured servers and maps others to other', () => {
    const b = bounds();
    expect([b.server('demo'), b.server('nope'), b.server(null)]).toEqual(['demo', 'other', 'other']);
  });

  it('keeps MCP methods, maps absent to none and unknown to other', () => {
    const b = bounds();
    expect([b.method('tools/call'), b.method('notifications/initialized'), b.method(undefined), b.method('x/evil')]).toEqual(['tools/call', 'notifications/initialized', 'none', 'other']);
  });

  it('accepts exact config tools and listed upstream tools only, never a glob match', () => {
    const b = bounds();
    expect([b.tool('demo', 'echo'), b.tool('demo', 'delete_repo'), b.tool('demo', 'delete_*'), b.tool('demo', null)]).toEqual(['echo', 'other', 'other', 'none']);
    b.setUpstreamTools('demo', ['search', 'fetch', 'third']);
    expect([b.tool('demo', 'search'), b.tool('demo', 'fetch'), b.tool('demo', 'third')]).toEqual(['search', 'fetch', 'other']);
    expect(b.tool('github', 'search')).toBe('other');
  });

  it('replaces the listed tools on each tools/list and ignores unknown servers', () => {
    const b = bounds();
    b.setUpstreamTools('github', ['a']);
    b.setUpstreamTools('github', ['b']);
    b.setUpstreamTools('ghost', ['a']);
    expect([b.tool('github', 'a'), b.tool('github', 'b'), b.tool('ghost', 'a')]).toEqual(['other', 'b', 'other']);
  });

  it('checks its options when built', () => {
    expect(() => createLabelBounds({ servers: [] })).toThrow('servers must be a non-empty array');
  });
});
