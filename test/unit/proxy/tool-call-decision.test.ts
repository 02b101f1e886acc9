import { describe, expect, it } from 'vitest';
import { decideToolCalls } from '../../../src/proxy/tool-call-decision.js';
import { createToolPolicy } from '../../../src/proxy/tool-policy.js';
import type { ServerConfig } from '../../../src/config/schema.js';

const server = {
  scopes: {
    read: { description: 'r', upstreamScopes: [], tools: ['get_*', 'echo'] },
    write: { description: 'w', upstreamScopes: [], tools: ['write_*'] },
    admin: { description: 'a', upstreamScopes: [], tools: ['purge_*', 'write_all'] },
  },
  defaultPolicy: 'deny',
} as unknown as ServerConfig;
const policy = createToolPolicy(server);

describe('decideToolCalls', () => {
  it('allows a request whose every call the held scopes name', () => {
    expect(decideToolCalls(policy, ['read'], [{ id: 1, name: 'echo' }, { id: 2, name: 'get_a' }])).toEqual({ kind: 'allowed' });
  });

  it('asks in one challenge for every scope a batch needs, plus the held ones', () => {
    expect(decideToolCalls(policy, ['read'], [{ id: 1, name: 'echo' }, { id: 2, name: 'write_x' }, { id: 3, name: 'purge_all' }])).toEqual({
      kind: 'step_up', id: 2, tools: ['write_x', 'purge_all'], needed: ['write', 'admin'], scopes: ['read', 'write', 'admin'],
    });
  });

  it('refuses a tool that no scope names without a step-up, even beside a call a step-up would fix', () => {
    expect(decideToolCalls(policy, ['read'], [{ id: 1, name: 'write_x' }, { id: 7, name: 'debug_dump' }])).toEqual({ kind: 'unavailable', id: 7, tool: 'debug_dump' });
  });

  it('refuses a call without a tool name', () => {
    expect(decideToolCalls(policy, ['read'], [{ id: 4, name: 42 }])).toEqual({ kind: 'missing_name', id: 4 });
  });
});
