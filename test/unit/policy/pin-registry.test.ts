import { describe, expect, it } from 'vitest';
import { createPinRegistry, MAX_LISTED } from '../../../src/policy/pin-registry.js';
import { toolDigest } from '../../../src/policy/pinned-tools.js';

const tool = (name: string, description = name) => ({ name, description });

describe('createPinRegistry', () => {
  it('gives null for a server without pinTools, and approves nothing until a snapshot is set', () => {
    const r = createPinRegistry(['demo']);
    expect(r.pins('open')).toBeNull();
    expect(r.pinned('open')).toBe(false);
    expect(r.pins('demo')!.keepTool(tool('a'))).toBe(false);
    expect(r.pins('demo')!.checkCall('a')).toEqual({ ok: false, reason: 'unapproved' });
    expect(() => r.approved('open')).toThrow('pin registry: server "open" does not pin its tools');
  });

  it('replaces the pins when a snapshot is set, remembering the last listed form of each tool', () => {
    const r = createPinRegistry(['demo']);
    r.pins('demo')!.keepTool(tool('b'));
    r.pins('demo')!.keepTool(tool('a', 'old'));
    r.pins('demo')!.keepTool(tool('a', 'new'));
    expect(r.listed('demo')).toEqual([tool('a', 'new'), tool('b')]);
    const { snapshot, unknown, diff } = r.snapshotOf('demo', ['a', 'zz']);
    expect(snapshot).toEqual({ a: toolDigest(tool('a', 'new')) });
    expect(unknown).toEqual(['zz']);
    expect(diff).toEqual({ unchanged: [], changed: [], added: ['a', 'b'], removed: [] });
    r.setApproved('demo', snapshot);
    expect(r.pins('demo')!.keepTool(tool('a', 'new'))).toBe(true);
    expect(r.pins('demo')!.keepTool(tool('a', 'evil'))).toBe(false);
    expect(r.pins('demo')!.checkCall('a')).toEqual({ ok: false, reason: 'changed' });
    expect(r.snapshotOf('demo').diff.changed).toEqual(['a']);
    expect(() => r.setApproved('demo', { a: 'not-a-digest' })).toThrow('approved digest of a must be 64 lowercase hex characters');
    expect(r.approved('demo')).toEqual(snapshot); // a refused snapshot changed nothing
  });

  it('remembers at most MAX_LISTED tools per server', () => {
    const r = createPinRegistry(['demo']);
    const pins = r.pins('demo')!;
    for (let i = 0; i <= MAX_LISTED; i++) pins.keepTool(tool(`t${i}`));
    expect(r.listed('demo')).toHaveLength(MAX_LISTED);
  });
});
