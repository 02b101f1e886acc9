/** Group policy (issue 13 §2): allowedGroups, a server's access.groups, a scope's groups, admins. */
import { describe, expect, it } from 'vitest';
import { decideAccess, isAdmin, mayUseKeyhole, mayUseServer, permittedScopes } from '../../../src/people/group-policy.js';
import type { ServerConfig } from '../../../src/config/schema.js';

const scoped = {
  access: { groups: ['engineering', 'support'] },
  scopes: {
    read: { description: 'Read', upstreamScopes: [], tools: [] },
    write: { description: 'Write', upstreamScopes: [], tools: [], groups: ['engineering'] },
    admin: { description: 'Admin', upstreamScopes: [], tools: [], groups: ['ops'] },
  },
} as unknown as ServerConfig;
const open = {} as ServerConfig;

describe('group policy', () => {
  it('allowedGroups: absent allows everyone; present needs one shared group (exact, case-sensitive)', () => {
    expect(mayUseKeyhole({}, [])).toBe(true);
    expect(mayUseKeyhole({ allowedGroups: ['engineering'] }, ['sales', 'engineering'])).toBe(true);
    expect(mayUseKeyhole({ allowedGroups: ['engineering'] }, ['Engineering'])).toBe(false);
    expect(mayUseKeyhole({ allowedGroups: ['engineering'] }, [])).toBe(false);
  });

  it('server access.groups: absent allows everyone', () => {
    expect(mayUseServer(open, [])).toBe(true);
    expect(mayUseServer(scoped, ['support'])).toBe(true);
    expect(mayUseServer(scoped, ['sales'])).toBe(false);
  });

  it('scope groups: only the scopes the person may have, in the given order', () => {
    expect(permittedScopes(scoped, ['support'], ['read', 'write', 'admin'])).toEqual(['read']);
    expect(permittedScopes(scoped, ['engineering', 'ops'], ['admin', 'read', 'write'])).toEqual(['admin', 'read', 'write']);
    expect(permittedScopes(open, [], ['mcp'])).toEqual(['mcp']);
  });

  it('decideAccess: keyhole first, then the server, then the scopes; none left is a refusal', () => {
    expect(decideAccess({ allowedGroups: ['staff'] }, scoped, ['engineering'], ['read'])).toEqual({ ok: false, reason: 'not_in_allowed_groups' });
    expect(decideAccess({}, scoped, ['sales'], ['read'])).toEqual({ ok: false, reason: 'not_in_server_groups' });
    expect(decideAccess({}, scoped, ['support'], ['write', 'admin'])).toEqual({ ok: false, reason: 'no_permitted_scope' });
    expect(decideAccess({}, scoped, ['support'], ['read', 'write'])).toEqual({ ok: true, scopes: ['read'] });
    // No known scope requested: every server scope, filtered by the person's groups.
    expect(decideAccess({}, scoped, ['engineering'], ['openid'])).toEqual({ ok: true, scopes: ['read', 'write'] });
    expect(decideAccess({}, open, [], [])).toEqual({ ok: true, scopes: ['mcp'] });
  });

  it('isAdmin: an admin group or a listed email (case-insensitive); no admins block: nobody', () => {
    expect(isAdmin({}, { groups: ['keyhole-admins'], email: 'a@x' })).toBe(false);
    const identity = { admins: { groups: ['keyhole-admins'], emails: ['Boss@Acme.example'] } };
    expect(isAdmin(identity, { groups: ['keyhole-admins'], email: null })).toBe(true);
    expect(isAdmin(identity, { groups: [], email: 'boss@acme.example' })).toBe(true);
    expect(isAdmin(identity, { groups: ['engineering'], email: 'eve@acme.example' })).toBe(false);
  });
});
