/** The `identity` block and the group fields (src/config/identity-schema.ts, issue 13). */
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../src/config/load-config.js';

const server = { upstream: 'http://127.0.0.1:3/mcp', oauth: { issuer: 'http://127.0.0.1:2', clientId: 'k', clientSecret: 'x' } };
const base = { publicUrl: 'http://127.0.0.1:1', servers: { demo: server } };
const identity = { issuer: 'https://login.acme.example', clientId: 'keyhole', clientSecret: '${ORG_CLIENT_SECRET}' };

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('config identity', () => {
  it('is off by default, and fills the defaults when set (secret from the environment)', () => {
    expect(parseConfig(base, {}).identity).toBeUndefined();
    expect(parseConfig({ ...base, identity }, { ORG_CLIENT_SECRET: 's3cret' }).identity).toEqual({
      issuer: 'https://login.acme.example', clientId: 'keyhole', clientSecret: 's3cret', scopes: ['openid', 'email', 'profile'],
      groupsClaim: 'groups', revalidateSeconds: 900, sessionSeconds: 28_800,
    });
  });

  it('takes the issue\'s example as written, with server access groups and scope groups', () => {
    const config = parseConfig({
      ...base,
      identity: { ...identity, scopes: ['openid', 'email', 'profile'], groupsClaim: 'groups', allowedGroups: ['engineering'], admins: { groups: ['keyhole-admins'] }, revalidateSeconds: 2, scim: { token: '${KEYHOLE_SCIM_TOKEN}' } },
      servers: { demo: { ...server, access: { groups: ['engineering'] }, scopes: { read: { description: 'Read', groups: ['engineering'] } } } },
    }, { ORG_CLIENT_SECRET: 's', KEYHOLE_SCIM_TOKEN: 'x'.repeat(32) });
    expect(config.identity).toMatchObject({ allowedGroups: ['engineering'], admins: { groups: ['keyhole-admins'] }, revalidateSeconds: 2, scim: { token: 'x'.repeat(32) } });
    expect(config.servers.demo!.access).toEqual({ groups: ['engineering'] });
    expect(config.servers.demo!.scopes!.read!.groups).toEqual(['engineering']);
  });

  it('refuses group rules without identity, a scope list without openid, bounds and an empty admins block', () => {
    expect(problems(() => parseConfig({ ...base, servers: { demo: { ...server, access: { groups: ['a'] }, scopes: { r: { description: 'R', groups: ['a'] } } } } }, {}))).toEqual([
      expect.stringMatching(/^servers\.demo\.access: .*needs the top-level "identity" block/),
      expect.stringMatching(/^servers\.demo\.scopes\.r\.groups: .*needs the top-level "identity" block/),
    ]);
    const bad = (extra: Record<string, unknown>) => problems(() => parseConfig({ ...base, identity: { ...identity, clientSecret: 's', ...extra } }, {}));
    expect(bad({ scopes: ['email'] })).toEqual([expect.stringMatching(/^identity\.scopes: .*must include "openid"/)]);
    expect(bad({ revalidateSeconds: 0 })).toEqual([expect.stringMatching(/^identity\.revalidateSeconds/)]);
    expect(bad({ sessionSeconds: 30 })).toEqual([expect.stringMatching(/^identity\.sessionSeconds/)]);
    expect(bad({ admins: {} })).toEqual([expect.stringMatching(/^identity\.admins: .*name "groups" or "emails"/)]);
    expect(bad({ allowedGroups: [] })).toEqual([expect.stringMatching(/^identity\.allowedGroups/)]);
    expect(bad({ scim: { token: 'short' } })).toEqual([expect.stringMatching(/^identity\.scim\.token/)]);
  });
});
