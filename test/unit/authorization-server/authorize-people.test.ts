/**
 * /authorize and /consent with organization sign-in (issue 13): no person session → to /identity/login and back;
 * the group policy before any pending row (allowedGroups, the server's access.groups, the scopes' groups); consent
 * offers only the permitted scopes and names the person; the pending authorization carries the person; an offboarded
 * or expired session counts as none; a consent POST from another person is refused. Without `identity` the consent
 * page points to the admin.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CHALLENGE, CLIENT_REDIRECT, createHarness, RESOURCE_A, RESOURCE_B, T0, type Harness } from './harness.js';
import { randomId, randomToken, sha256Hex } from '../../../src/store/crypto/hash.js';
import type { ClientRecord, PersonRecord } from '../../../src/store/types.js';

let h: Harness;
afterEach(async () => await h?.close());

function withIdentity(raw: Record<string, any>) {
  raw.identity = { issuer: 'http://127.0.0.1:9/org', clientId: 'keyhole', clientSecret: 'org-secret', allowedGroups: ['engineering', 'ops'] };
  raw.servers.a.access = { groups: ['ops'] };
  raw.servers.b.scopes['b:read'].groups = ['engineering'];
  raw.servers.b.scopes['b:write'].groups = ['ops'];
}

async function setup(): Promise<ClientRecord> {
  h = await createHarness({ edit: withIdentity });
  return h.seedClient({ metadata: { client_name: 'Good Client', redirect_uris: [CLIENT_REDIRECT] } });
}

async function signedIn(over: Partial<PersonRecord> = {}, expiresAt = T0 + 3600): Promise<{ person: PersonRecord; cookie: string }> {
  const person: PersonRecord = {
    id: randomId('u'), iss: 'http://127.0.0.1:9/org', sub: randomId('s'), email: 'eng@acme.example', name: 'Eng One', groups: ['engineering'],
    status: 'active', offboardedAt: null, offboardedBy: null, offboardedVia: null, externalId: null, userName: null, scimActive: null,
    createdAt: T0, lastSeenAt: T0, ...over,
  };
  await h.store.people.create(person);
  const value = randomToken('kh_ps_');
  await h.store.personSessions.create({ hash: sha256Hex(value), personId: person.id, createdAt: T0, expiresAt, revokedAt: null });
  return { person, cookie: `keyhole-person=${value}` };
}

function query(client: ClientRecord, resource: string, scope: string, redirectUri = CLIENT_REDIRECT): string {
  return new URLSearchParams({
    response_type: 'code', client_id: client.clientId, redirect_uri: redirectUri, code_challenge: CHALLENGE, code_challenge_method: 'S256',
    state: 'st', resource, scope,
  }).toString();
}

describe('authorize with organization sign-in', () => {
  it('without a person session: 302 to /identity/login, returning to this very request; nothing stored', async () => {
    const client = await setup();
    const q = query(client, RESOURCE_B, 'b:read');
    const res = await h.request(`/authorize?${q}`);
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get('location')!, h.publicUrl);
    expect(location.pathname).toBe('/identity/login');
    expect(location.searchParams.get('return')).toBe(`/authorize?${q}`);
    expect(h.count('pending_authorizations')).toBe(0);
  });

  it('an invalid request is still refused as before, signed in or not (phase 1 page)', async () => {
    const client = await setup();
    const res = await h.request(`/authorize?${query(client, RESOURCE_B, 'b:read', 'https://evil.example/cb')}`);
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
  });

  it('offers only the scopes the person may have, names them, and the pending authorization carries them', async () => {
    const client = await setup();
    const { person, cookie } = await signedIn();
    const res = await h.request(`/authorize?${query(client, RESOURCE_B, 'b:read b:write')}`, { headers: { cookie } });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('Signed in as <strong>Eng One (eng@acme.example)</strong>');
    expect(html).toContain('<code>b:read</code>');
    expect(html).not.toContain('b:write');
    expect(html).toContain('<a href="/account">You can revoke this access at any time</a>');
    const pendingId = /name="pending" value="([^"]+)"/.exec(html)![1]!;
    expect(await h.store.pending.find(pendingId)).toMatchObject({ personId: person.id, request: { scopes: ['b:read'] } });
  });

  it('refuses before any pending row: no permitted scope, outside the server\'s groups; each refusal recorded', async () => {
    const client = await setup();
    const { person, cookie } = await signedIn();
    const scopes = await h.request(`/authorize?${query(client, RESOURCE_B, 'b:write')}`, { headers: { cookie } });
    expect(scopes.status).toBe(403);
    expect(scopes.headers.get('location')).toBeNull();
    expect(await scopes.text()).toContain('You cannot grant this access');
    const server = await h.request(`/authorize?${query(client, RESOURCE_A, 'mcp')}`, { headers: { cookie } });
    expect(server.status).toBe(403);
    expect(await server.text()).toContain('not in a group allowed to use Server A');
    expect(h.count('pending_authorizations')).toBe(0);
    const refused = await h.store.events.list({ type: 'person.refused', personId: person.id });
    expect(refused.map((e) => [e.server, e.clientId, e.detail.reason]).sort()).toEqual([
      ['a', client.clientId, 'not_in_server_groups'],
      ['b', client.clientId, 'no_permitted_scope'],
    ]);
  });

  it('a session of an offboarded person, an expired or unknown session count as none', async () => {
    const client = await setup();
    const offboarded = await signedIn({ status: 'offboarded', offboardedAt: T0, offboardedBy: 'admin:token', offboardedVia: 'admin' });
    const expired = await signedIn({}, T0);
    for (const cookie of [offboarded.cookie, expired.cookie, `keyhole-person=${randomToken('kh_ps_')}`, 'keyhole-person=garbage']) {
      const res = await h.request(`/authorize?${query(client, RESOURCE_B, 'b:read')}`, { headers: { cookie } });
      expect(res.status).toBe(302);
      expect(res.headers.get('location')).toMatch(/^\/identity\/login\?return=/);
    }
  });

  it('a consent POST by another signed-in person (or none) is refused and nothing goes upstream', async () => {
    const client = await setup();
    const alice = await signedIn();
    const res = await h.request(`/authorize?${query(client, RESOURCE_B, 'b:read')}`, { headers: { cookie: alice.cookie } });
    const html = await res.text();
    const pending = /name="pending" value="([^"]+)"/.exec(html)![1]!;
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
    const csrfCookie = res.headers.getSetCookie().find((c) => c.startsWith('keyhole-consent-'))!.split(';')[0]!;
    const other = await signedIn({ email: 'other@acme.example' });
    const post = await h.postForm('/consent', { pending, csrf, decision: 'approve' }, { cookie: `${csrfCookie}; ${other.cookie}`, origin: h.publicUrl });
    expect(post.status).toBe(403);
    expect(post.headers.get('location')).toBeNull();
    expect(await h.store.pending.find(pending)).toBeUndefined();
    expect(await h.store.events.count({ type: 'consent.approved' })).toBe(0);
  });
});

describe('authorize without organization sign-in', () => {
  it('is unchanged and the consent page points to the admin for revocation', async () => {
    h = await createHarness();
    const client = await h.seedClient({ metadata: { client_name: 'Good Client', redirect_uris: [CLIENT_REDIRECT] } });
    const res = await h.request(`/authorize?${query(client, RESOURCE_A, 'mcp')}`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).not.toContain('Signed in as');
    // It points to /account, which (without identity) says the admin manages access (issue 13 §6).
    expect(html).toContain('<a href="/account">To revoke this access later, ask your keyhole administrator</a>');
    const pendingId = /name="pending" value="([^"]+)"/.exec(html)![1]!;
    expect((await h.store.pending.find(pendingId))?.personId).toBeNull();
  });
});
