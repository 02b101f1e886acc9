/**
 * GrantService: refresh rotation (grace window, replay beyond it revokes the family — invariant 5), code redemption
 * (single use, a replay revokes the family — invariant 4) and revocation everywhere.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { InvalidGrantError, InvalidScopeError } from '../../../src/oauth/errors.js';
import { sha256Hex } from '../../../src/store/crypto/hash.js';
import { authorization, createGrantHarness, RESOURCE, T0, type GrantHarness } from './grant-service-harness.js';

const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'; // RFC 7636 appendix B: its S256 is the harness challenge

let h: GrantHarness;
afterEach(async () => await h.close());

/** A completed authorization redeemed for a first token pair. */
async function firstPair() {
  const done = await h.service.completeAuthorization(authorization());
  const pair = await h.service.redeemCode({ code: done.code, clientId: 'c_client', redirectUri: null, codeVerifier: VERIFIER, resourceFor: () => undefined });
  return { ...done, pair };
}

const refresh = (token: string, requested: string[] = []) => h.service.rotateRefreshToken({ token, clientId: 'c_client', requested, resourceFor: () => undefined });

describe('GrantService.redeemCode', () => {
  it('redeems a code once; a replay revokes the tokens it issued', async () => {
    h = await createGrantHarness();
    const { code, grant, pair } = await firstPair();
    expect(pair).toMatchObject({ token_type: 'Bearer', expires_in: 900, scope: 'mcp:tools' });
    const access = await h.store.tokens.findAccess(sha256Hex(pair.access_token));
    expect(access).toMatchObject({ grantId: grant.id, resource: RESOURCE, revokedAt: null });
    await expect(h.service.redeemCode({ code, clientId: 'c_client', redirectUri: null, codeVerifier: VERIFIER, resourceFor: () => undefined })).rejects.toThrow(InvalidGrantError);
    expect(await h.store.tokens.findRefresh(sha256Hex(pair.refresh_token))).toMatchObject({ revokedAt: T0 });
    expect((await h.events()).map((e) => e.type)).toEqual(['grant.created', 'upstream.authorized', 'code.issued', 'code.redeemed', 'token.issued', 'code.replayed']);
  });

  it('issues the pair and its two events in one transaction: when token.issued cannot be written, no token and no event exists', async () => {
    h = await createGrantHarness();
    const done = await h.service.completeAuthorization(authorization());
    const before = await h.events();
    h.fault.calls.length = 0;
    h.fault.failOn = { repo: 'events', method: 'append', when: (args) => (args[0] as { type: string }).type === 'token.issued' };
    await expect(h.service.redeemCode({ code: done.code, clientId: 'c_client', redirectUri: null, codeVerifier: VERIFIER, resourceFor: () => undefined }))
      .rejects.toThrow(/injected failure: events.append/);
    // Both tokens and code.redeemed were written in the transaction, then rolled back with it.
    const created = h.fault.calls.filter((c) => c.method === 'createRefresh' || c.method === 'createAccess');
    expect(created.map((c) => c.method).sort()).toEqual(['createAccess', 'createRefresh']);
    expect(h.fault.calls.some((c) => c.method === 'append' && (c.args[0] as { type: string }).type === 'code.redeemed')).toBe(true);
    expect(await h.raw.tokens.findRefresh((created.find((c) => c.method === 'createRefresh')!.args[0] as { hash: string }).hash)).toBeUndefined();
    expect(await h.raw.tokens.findAccess((created.find((c) => c.method === 'createAccess')!.args[0] as { hash: string }).hash)).toBeUndefined();
    expect(await h.events()).toEqual(before);
  });
});

describe('GrantService.rotateRefreshToken', () => {
  it('rotates: a new pair in the same family, the presented token marked used', async () => {
    h = await createGrantHarness();
    const { pair, grant } = await firstPair();
    h.now.t = T0 + 100;
    const next = await refresh(pair.refresh_token);
    expect(next.refresh_token).not.toBe(pair.refresh_token);
    const old = (await h.store.tokens.findRefresh(sha256Hex(pair.refresh_token)))!;
    const fresh = (await h.store.tokens.findRefresh(sha256Hex(next.refresh_token)))!;
    expect(old.usedAt).toBe(T0 + 100);
    expect(fresh).toMatchObject({ grantId: grant.id, familyId: old.familyId, usedAt: null, revokedAt: null, expiresAt: T0 + 100 + 86_400 });
    const event = (await h.events()).at(-1)!;
    expect(event).toMatchObject({ type: 'token.refreshed', grantId: grant.id, detail: { family_id: old.familyId, grace: false } });
  });

  it('rotates in one transaction: when the event cannot be written, the token is not used and no new pair exists', async () => {
    h = await createGrantHarness();
    const { pair } = await firstPair();
    h.now.t = T0 + 100;
    const before = (await h.events()).length;
    h.fault.calls.length = 0;
    h.fault.failOn = { repo: 'events', method: 'append', when: (args) => (args[0] as { type: string }).type === 'token.refreshed' };
    await expect(refresh(pair.refresh_token)).rejects.toThrow(/injected failure: events.append/);
    // The new pair was written in the same transaction, then rolled back with it.
    const created = h.fault.calls.filter((c) => c.method === 'createRefresh' || c.method === 'createAccess');
    expect(created).toHaveLength(2);
    for (const c of created) expect(await h.raw.tokens.findRefresh((c.args[0] as { hash: string }).hash)).toBeUndefined();
    expect(await h.raw.tokens.findAccess((created.find((c) => c.method === 'createAccess')!.args[0] as { hash: string }).hash)).toBeUndefined();
    expect(await h.store.tokens.findRefresh(sha256Hex(pair.refresh_token))).toMatchObject({ usedAt: null, revokedAt: null });
    expect(await h.events()).toHaveLength(before);
    // Nothing half-done: the same token still rotates (not a replay).
    const next = await refresh(pair.refresh_token);
    expect(next.refresh_token).not.toBe(pair.refresh_token);
    expect((await h.events()).at(-1)).toMatchObject({ type: 'token.refreshed', detail: { grace: false } });
  });

  it('a token reused within the grace window yields another pair in the same family', async () => {
    h = await createGrantHarness();
    const { pair } = await firstPair();
    await refresh(pair.refresh_token);
    h.now.t = T0 + 30;
    const again = await refresh(pair.refresh_token);
    expect(await h.store.tokens.findRefresh(sha256Hex(again.refresh_token))).toMatchObject({ revokedAt: null });
    expect((await h.events()).at(-1)).toMatchObject({ type: 'token.refreshed', detail: { grace: true } });
  });

  it('a token replayed beyond the grace window revokes its whole family (invariant 5)', async () => {
    h = await createGrantHarness();
    const { pair, grant } = await firstPair();
    const next = await refresh(pair.refresh_token);
    h.now.t = T0 + 31;
    await expect(refresh(pair.refresh_token)).rejects.toThrow('the refresh token was already used');
    expect(await h.store.tokens.findRefresh(sha256Hex(next.refresh_token))).toMatchObject({ revokedAt: T0 + 31 });
    expect(await h.store.tokens.findAccess(sha256Hex(next.access_token))).toMatchObject({ revokedAt: T0 + 31 });
    expect(await h.store.grants.find(grant.id)).toMatchObject({ status: 'active' }); // the family, not the grant
    expect((await h.events()).at(-1)).toMatchObject({ type: 'refresh.replay_detected', outcome: 'failure', detail: { used_seconds_ago: 31 } });
  });

  it('may narrow the access token scope, never widen it', async () => {
    h = await createGrantHarness();
    const { pair } = await firstPair();
    await expect(refresh(pair.refresh_token, ['admin'])).rejects.toThrow(InvalidScopeError);
    expect(await h.store.tokens.findRefresh(sha256Hex(pair.refresh_token))).toMatchObject({ usedAt: null });
  });
});

describe('GrantService.revoke', () => {
  it('ends the grant everywhere: tokens, upstream credential, listeners, the upstream (RFC 7009) and the event log', async () => {
    h = await createGrantHarness();
    const { pair, grant } = await firstPair();
    h.now.t = T0 + 5;
    expect(await h.service.revoke(grant.id, 'client_revoked', 'client:c_client')).toBe(true);
    expect(await h.store.grants.find(grant.id)).toMatchObject({ status: 'revoked', statusReason: 'client_revoked', revokedAt: T0 + 5 });
    expect(await h.store.tokens.findRefresh(sha256Hex(pair.refresh_token))).toMatchObject({ revokedAt: T0 + 5 });
    expect(await h.store.tokens.findAccess(sha256Hex(pair.access_token))).toMatchObject({ revokedAt: T0 + 5 });
    expect(await h.store.upstreamCredentials.find(grant.id)).toBeUndefined();
    expect(h.ended).toEqual([grant.id]);
    expect(h.upstreamRevoked).toEqual(['up-rt-1']);
    expect((await h.events()).slice(-2).map((e) => [e.type, e.outcome, e.detail])).toEqual([
      ['grant.revoked', 'success', { reason: 'client_revoked', actor: 'client:c_client' }],
      ['upstream.revocation', 'success', expect.objectContaining({ result: 'revoked', token_type: 'refresh_token' })],
    ]);
    await expect(refresh(pair.refresh_token)).rejects.toThrow('the refresh token has been revoked');
    expect(await h.service.revoke(grant.id, 'admin_revoked', 'admin')).toBe(false);
  });

  it('announces the revocation to the other instances (store.changes, once); a notice that cannot be sent does not undo it', async () => {
    h = await createGrantHarness();
    const publish = vi.spyOn(h.raw.changes, 'publish');
    const { grant } = await firstPair();
    expect(await h.service.revoke(grant.id, 'admin_revoked', 'admin')).toBe(true);
    expect(await h.service.revoke(grant.id, 'admin_revoked', 'admin')).toBe(false); // already revoked: no second notice
    expect(publish.mock.calls).toEqual([['grant-revoked', grant.id]]);

    const second = await h.service.completeAuthorization(authorization({ upstream: { accessToken: 'up-at-2', refreshToken: 'up-rt-2', expiresIn: 3600, scopes: undefined, subject: 'user-2', subjectName: null } }));
    publish.mockRejectedValueOnce(new Error('database unreachable'));
    expect(await h.service.revoke(second.grant.id, 'admin_revoked', 'admin')).toBe(true);
    expect(await h.store.grants.find(second.grant.id)).toMatchObject({ status: 'revoked' });
    expect(h.ended).toEqual([grant.id, second.grant.id]);
    expect((await h.events()).filter((e) => e.type === 'grant.revoked').map((e) => e.grantId)).toEqual([grant.id, second.grant.id]);
  });

  it('with the keychain vault, deletes the keychain entry too', async () => {
    h = await createGrantHarness('keychain');
    const { grant } = await firstPair();
    expect(await h.service.revoke(grant.id, 'admin_revoked', 'admin')).toBe(true);
    expect([...h.keychain.entries]).toEqual([]);
    expect(h.upstreamRevoked).toEqual(['up-rt-1']);
    expect((await h.events()).find((e) => e.type === 'grant.revoked')?.detail).toEqual({ reason: 'admin_revoked', actor: 'admin', keychain: 'deleted' });
  });
});
