/**
 * GrantService.completeAuthorization: one grant per (client, server, upstream subject), widened by a step-up, and
 * grant + sealed upstream credential + code + events in ONE transaction (a failure leaves none of them).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../../src/store/crypto/hash.js';
import type { UpstreamCredentialWrite } from '../../../src/store/types.js';
import { authorization, createGrantHarness, RESOURCE, T0, upstream, type GrantHarness } from './grant-service-harness.js';

let h: GrantHarness;
afterEach(async () => await h.close());

describe('GrantService.completeAuthorization', () => {
  it('creates the grant, stores the sealed upstream tokens and issues a code, recording the events in order', async () => {
    h = await createGrantHarness();
    const { grant, code, created } = await h.service.completeAuthorization(authorization());
    expect(created).toBe(true);
    expect(grant.id).toMatch(/^g_/);
    expect(await h.store.grants.list({})).toEqual([{
      id: grant.id, clientId: 'c_client', server: 'demo', subject: 'user-1', subjectName: 'User One', scopes: ['mcp:tools'],
      status: 'active', statusReason: null, createdAt: T0, lastUsedAt: null, revokedAt: null, person: null,
    }]);
    const entry = (await h.vault.get(grant.id))!;
    expect(await entry.openAccessToken()).toBe('up-at-1');
    expect(await entry.openRefreshToken()).toBe('up-rt-1');
    expect(entry.credential).toMatchObject({ accessExpiresAt: T0 + 3600, scopes: ['openid', 'offline_access', 'mcp:tools'], refreshInKeychain: false, refreshFailingSince: null });
    expect(entry.credential.accessToken).not.toContain('up-at-1');
    expect(code).toMatch(/^kh_code_/);
    const stored = await h.store.tokens.findCode(sha256Hex(code));
    expect(stored).toMatchObject({ grantId: grant.id, clientId: 'c_client', resource: RESOURCE, scopes: ['mcp:tools'], expiresAt: T0 + 60, usedAt: null });
    expect((await h.events()).map((e) => [e.type, e.grantId])).toEqual([['grant.created', grant.id], ['upstream.authorized', grant.id], ['code.issued', grant.id]]);
    // Every write of the step went through one transaction.
    expect(h.fault.calls.map((c) => `${c.repo}.${c.method}`)).toEqual([
      'grants.create', 'events.append', 'upstreamCredentials.put', 'events.append', 'tokens.createCode', 'events.append',
    ]);
    expect(h.forgotten).toEqual([grant.id]);
  });

  it('a step-up widens the same grant id and replaces its upstream tokens', async () => {
    h = await createGrantHarness();
    const first = await h.service.completeAuthorization(authorization());
    const second = await h.service.completeAuthorization(authorization({
      stepUpGrantId: first.grant.id,
      request: { ...authorization().request, scopes: ['admin'] },
      upstream: upstream({ accessToken: 'up-at-2', refreshToken: undefined }),
    }));
    expect(second.created).toBe(false);
    expect(second.grant.id).toBe(first.grant.id);
    expect((await h.store.grants.list({})).map((g) => [g.id, g.scopes])).toEqual([[first.grant.id, ['mcp:tools', 'admin']]]);
    const entry = (await h.vault.get(first.grant.id))!;
    expect(await entry.openAccessToken()).toBe('up-at-2');
    expect(await entry.openRefreshToken()).toBe('up-rt-1'); // not rotated: kept
    expect(await h.store.tokens.findCode(sha256Hex(second.code))).toMatchObject({ grantId: first.grant.id, scopes: ['admin'] });
    const updated = (await h.events()).filter((e) => e.type === 'grant.updated');
    expect(updated.map((e) => e.detail)).toEqual([{ scopes: ['mcp:tools', 'admin'], added: ['admin'] }]);
  });

  it('the same client and server with another upstream subject gets its own grant, even when named as step-up', async () => {
    h = await createGrantHarness();
    const alice = await h.service.completeAuthorization(authorization());
    const bob = await h.service.completeAuthorization(authorization({ stepUpGrantId: alice.grant.id, upstream: upstream({ subject: 'user-2', subjectName: 'Bob', accessToken: 'up-at-bob' }) }));
    expect(bob.created).toBe(true);
    expect(bob.grant.id).not.toBe(alice.grant.id);
    expect((await h.store.grants.list({})).map((g) => [g.id, g.subject, g.scopes]).sort()).toEqual([[alice.grant.id, 'user-1', ['mcp:tools']], [bob.grant.id, 'user-2', ['mcp:tools']]].sort());
    expect(await (await h.vault.get(alice.grant.id))!.openAccessToken()).toBe('up-at-1');
    expect(await (await h.vault.get(bob.grant.id))!.openAccessToken()).toBe('up-at-bob');
  });

  it('a failure writing the credential after the grant leaves no grant, no credential, no code and no event; a retry succeeds', async () => {
    h = await createGrantHarness();
    h.fault.failOn = { repo: 'upstreamCredentials', method: 'put' };
    await expect(h.service.completeAuthorization(authorization())).rejects.toThrow('injected failure: upstreamCredentials.put');
    const grantId = (h.fault.calls.find((c) => c.method === 'put')!.args[0] as UpstreamCredentialWrite).grantId;
    expect(h.fault.calls[0]).toMatchObject({ repo: 'grants', method: 'create' }); // the grant was written first
    expect(await h.store.grants.list({})).toEqual([]);
    expect(await h.store.grants.find(grantId)).toBeUndefined();
    expect(await h.store.upstreamCredentials.find(grantId)).toBeUndefined();
    expect(h.fault.calls.some((c) => c.method === 'createCode')).toBe(false);
    expect(await h.events()).toEqual([]);

    const retry = await h.service.completeAuthorization(authorization());
    expect((await h.store.grants.list({})).map((g) => g.id)).toEqual([retry.grant.id]);
    expect(await (await h.vault.get(retry.grant.id))!.openRefreshToken()).toBe('up-rt-1');
    expect(await h.store.tokens.findCode(sha256Hex(retry.code))).toMatchObject({ grantId: retry.grant.id });
    expect((await h.events()).map((e) => e.type)).toEqual(['grant.created', 'upstream.authorized', 'code.issued']);
  });

  it('a failure after the code is written rolls the code back with the rest', async () => {
    h = await createGrantHarness();
    h.fault.failOn = { repo: 'events', method: 'append', when: (args) => (args[0] as { type: string }).type === 'code.issued' };
    await expect(h.service.completeAuthorization(authorization())).rejects.toThrow('injected failure');
    const code = h.fault.calls.find((c) => c.method === 'createCode')!.args[0] as { hash: string; grantId: string };
    expect(await h.store.tokens.findCode(code.hash)).toBeUndefined();
    expect(await h.store.grants.find(code.grantId)).toBeUndefined();
    expect(await h.store.upstreamCredentials.find(code.grantId)).toBeUndefined();
    expect(await h.events()).toEqual([]);
  });

  it('a failed step-up leaves the grant, its scopes and its upstream tokens as they were', async () => {
    h = await createGrantHarness();
    const first = await h.service.completeAuthorization(authorization());
    const before = await h.store.upstreamCredentials.find(first.grant.id);
    h.fault.failOn = { repo: 'upstreamCredentials', method: 'put' };
    await expect(h.service.completeAuthorization(authorization({ stepUpGrantId: first.grant.id, request: { ...authorization().request, scopes: ['admin'] }, upstream: upstream({ accessToken: 'up-at-2', refreshToken: 'up-rt-2' }) }))).rejects.toThrow('injected failure');
    expect(await h.store.grants.find(first.grant.id)).toMatchObject({ scopes: ['mcp:tools'], status: 'active' });
    expect(await h.store.upstreamCredentials.find(first.grant.id)).toEqual(before);
    expect((await h.events()).map((e) => e.type)).toEqual(['grant.created', 'upstream.authorized', 'code.issued']);
  });

  it('a grant revoked before the transaction is not widened: a new grant is created', async () => {
    h = await createGrantHarness();
    const first = await h.service.completeAuthorization(authorization());
    await h.service.revoke(first.grant.id, 'admin_revoked', 'admin');
    const again = await h.service.completeAuthorization(authorization({ stepUpGrantId: first.grant.id }));
    expect(again.created).toBe(true);
    expect(again.grant.id).not.toBe(first.grant.id);
    expect(await h.store.grants.find(first.grant.id)).toMatchObject({ status: 'revoked', statusReason: 'admin_revoked' });
  });
});

describe('GrantService.completeAuthorization with the keychain vault', () => {
  it('keeps the refresh token in the keychain, pointed to by the row', async () => {
    h = await createGrantHarness('keychain');
    const { grant } = await h.service.completeAuthorization(authorization());
    expect([...h.keychain.entries]).toEqual([[grant.id, 'up-rt-1']]);
    expect(await h.store.upstreamCredentials.find(grant.id)).toMatchObject({ refreshToken: null, refreshInKeychain: true });
  });

  it('a failed transaction deletes the keychain entry written before it; a retry succeeds', async () => {
    h = await createGrantHarness('keychain');
    h.fault.failOn = { repo: 'upstreamCredentials', method: 'put' };
    await expect(h.service.completeAuthorization(authorization())).rejects.toThrow('injected failure');
    expect([...h.keychain.entries]).toEqual([]);
    expect(await h.store.grants.list({})).toEqual([]);
    const retry = await h.service.completeAuthorization(authorization());
    expect([...h.keychain.entries]).toEqual([[retry.grant.id, 'up-rt-1']]);
  });

  it('a failed step-up restores the keychain entry the grant had', async () => {
    h = await createGrantHarness('keychain');
    const first = await h.service.completeAuthorization(authorization());
    h.fault.failOn = { repo: 'grants', method: 'updateScopes' };
    await expect(h.service.completeAuthorization(authorization({ stepUpGrantId: first.grant.id, upstream: upstream({ refreshToken: 'up-rt-2' }) }))).rejects.toThrow('injected failure');
    expect([...h.keychain.entries]).toEqual([[first.grant.id, 'up-rt-1']]);
    expect(await (await h.vault.get(first.grant.id))!.openRefreshToken()).toBe('up-rt-1');
  });
});
