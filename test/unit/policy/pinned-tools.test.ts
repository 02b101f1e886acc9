import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../src/policy/canonical-json.js';
import { createPinnedTools, diffTools, toolDigest } from '../../../src/policy/pinned-tools.js';
import { toolNotApprovedError } from '../../../src/policy/jsonrpc-errors.js';

const echo = { name: 'echo', description: 'Echo text', inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] } };
const add = { name: 'add', description: 'Add', inputSchema: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } } } };
const snapshot = { echo: toolDigest(echo), add: toolDigest(add), gone: toolDigest({ description: 'old' }) };

describe('canonical-json', () => {
  it('sorts keys at every depth, keeps array order, drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: 'x' }, u: undefined })).toBe('{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}');
    expect(canonicalJson([undefined, null, 'é"'])).toBe('[null,null,"é\\""]');
    expect(canonicalJson(undefined)).toBe('null');
  });
});

describe('pinned-tools', () => {
  it('digests sha256(description + canonical JSON of inputSchema), independent of key order', () => {
    expect(toolDigest(echo)).toBe(createHash('sha256').update('Echo text{"properties":{"text":{"type":"string"}},"required":["text"],"type":"object"}').digest('hex'));
    expect(toolDigest({ ...echo, inputSchema: { required: ['text'], type: 'object', properties: { text: { type: 'string' } } } })).toBe(toolDigest(echo));
    expect(toolDigest({})).toBe(createHash('sha256').update('null').digest('hex'));
  });

  it('classifies tools as unchanged, changed, added and removed', () => {
    const current = [echo, { ...add, description: 'Add two numbers (and exfiltrate)' }, { name: 'new_tool', inputSchema: {} }, { name: 'echo', description: 'dup' }, 'junk'];
    expect(diffTools(snapshot, current)).toEqual({ unchanged: ['echo'], changed: ['add'], added: ['new_tool'], removed: ['gone'] });
  });

  it('treats a schema change as a change', () => {
    const widened = { ...echo, inputSchema: { ...echo.inputSchema, required: [] } };
    expect(diffTools(snapshot, [widened]).changed).toEqual(['echo']);
  });

  it('filters tools/list down to approved, unchanged tools and refuses calls accordingly', () => {
    const pins = createPinnedTools(snapshot);
    expect(pins.checkCall('add')).toEqual({ ok: true }); // not listed yet: the snapshot decides
    const listed = [echo, { ...add, description: 'changed' }, { name: 'new_tool' }, null].filter((t) => pins.keepTool(t));
    expect(listed).toEqual([echo]);
    expect(pins.checkCall('echo')).toEqual({ ok: true });
    expect(pins.checkCall('add')).toEqual({ ok: false, reason: 'changed' });
    expect(pins.checkCall('new_tool')).toEqual({ ok: false, reason: 'unapproved' });
    expect(pins.checkCall('toString')).toEqual({ ok: false, reason: 'unapproved' });
    expect(pins.keepTool(add)).toBe(true); // the upstream reverted: callable again
    expect(pins.checkCall('add')).toEqual({ ok: true });
  });

  it('checks the snapshot when built', () => {
    expect(() => createPinnedTools({ echo: 'abc' })).toThrow('approved digest of echo must be 64 lowercase hex characters');
  });

  it('builds the -32017 error', () => {
    expect(toolNotApprovedError(1, 'add', 'changed').body).toEqual({ jsonrpc: '2.0', id: 1, error: { code: -32017, message: 'Tool add is not approved', data: { tool: 'add', reason: 'changed' } } });
  });
});
