/**
 * Issue 11 §3: DCR clients are bounded. Client use is tracked on the client row (a completed authorization, a token
 * issued or refreshed), and the expiry job deletes never-authorized clients after 24 h and unused ones after
 * dcr.unusedDays, in batches, ending their grants through the GrantRevoker. Driven by the harness clock.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CLIENT_REDIRECT, createHarness, RESOURCE_A, VERIFIER, type Harness } from './harness.js';
import { ClientExpiry } from '../../../src/authorization-server/client-expiry.js';
import { ClientUseRecorder } from '../../../src/authorization-server/client-usage.js';
import { openSqliteStore } from '../../../src/store/sqlite/sqlite-store.js';

const HOUR = 3_600;
const DAY = 86_400;

describe('client use', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness();
  });
  afterEach(async () => h.close());

  it('records a token issued (authorization_code) and a token refreshed as a use of the client, and nothing else', async () => {
    const client = await h.seedClient({ metadata: { client_name: 'P', redirect_uris: [CLIENT_REDIRECT], token_endpoint_auth_method: 'none' } });
    const grant = await h.seedGrant(client);
    const { code } = await h.seedCode(grant);
    h.clock.now += 10;
    // A failed token request does not count.
    await h.postForm('/token', { grant_type: 'authorization_code', code: 'kh_code_unknown', code_verifier: VERIFIER, redirect_uri: CLIENT_REDIRECT, client_id: client.clientId, resource: RESOURCE_A });
    expect((await h.store.clients.find(client.clientId))?.lastUsedAt).toBeNull();
    const issued = await h.postForm('/token', { grant_type: 'authorization_code', code, code_verifier: VERIFIER, redirect_uri: CLIENT_REDIRECT, client_id: client.clientId, resource: RESOURCE_A });
    expect(issued.status).toBe(200);
    expect((await h.store.clients.find(client.clientId))?.lastUsedAt).toBe(h.clock.now);
    const { refresh_token } = (await issued.json()) as { refresh_token: string };
    h.clock.now += 500;
    const refreshed = await h.postForm('/token', { grant_type: 'refresh_token', refresh_token, client_id: client.clientId });
    expect(refreshed.status).toBe(200);
    expect((await h.store.clients.find(client.clientId))?.lastUsedAt).toBe(h.clock.now);
  });

  it('records a completed authorization (code.issued) as a use', async () => {
    const client = await h.seedClient();
    h.clock.now += 7;
    await h.keyhole.events.record({ type: 'code.issued', clientId: client.clientId, grantId: null, detail: {} });
    expect((await h.store.clients.find(client.clientId))?.lastUsedAt).toBe(h.clock.now);
    await h.keyhole.events.record({ type: 'consent.approved', clientId: client.clientId, detail: {} });
    await h.keyhole.events.record({ type: 'token.issued', clientId: client.clientId, outcome: 'failure', detail: {} });
    h.clock.now += 7;
    await h.keyhole.events.record({ type: 'consent.denied', clientId: client.clientId, detail: {} });
    expect((await h.store.clients.find(client.clientId))?.lastUsedAt).toBe(h.clock.now - 7);
  });
});

describe('client expiry', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness();
  });
  afterEach(async () => h.close());

  const expired = async () => (await h.events('client.expired')).map((e) => ({ clientId: e.clientId, detail: e.detail }));

  it('deletes a DCR client never authorized within 24 h, and not one hour earlier', async () => {
    const fresh = await h.seedClient({ createdAt: h.clock.now });
    h.clock.now += 23 * HOUR;
    expect(await h.keyhole.clientExpiry.run()).toEqual([]);
    expect(await h.store.clients.find(fresh.clientId)).toBeDefined();
    h.clock.now += HOUR + 1;
    expect(await h.keyhole.clientExpiry.run()).toEqual([{ clientId: fresh.clientId, reason: 'never_authorized', revokedGrants: 0 }]);
    expect(await h.store.clients.find(fresh.clientId)).toBeUndefined();
    expect(await expired()).toEqual([{ clientId: fresh.clientId, detail: { reason: 'never_authorized', revoked_grants: 0, actor: 'system:client-expiry' } }]);
  });

  it('keeps a client that completed an authorization, until it is unused for dcr.unusedDays (90)', async () => {
    const used = await h.seedClient({ createdAt: h.clock.now });
    h.clock.now += HOUR;
    await h.keyhole.events.record({ type: 'code.issued', clientId: used.clientId, detail: {} });
    h.clock.now += 89 * DAY;
    expect(await h.keyhole.clientExpiry.run()).toEqual([]);
    h.clock.now += DAY + 1;
    expect(await h.keyhole.clientExpiry.run()).toEqual([{ clientId: used.clientId, reason: 'unused', revokedGrants: 0 }]);
    expect(await h.store.clients.find(used.clientId)).toBeUndefined();
  });

  it('ends the active grants of an expired client through the revoker before deleting it; grants stay as history', async () => {
    const client = await h.seedClient({ createdAt: h.clock.now, lastUsedAt: h.clock.now });
    const grant = await h.seedGrant(client);
    await h.seedUpstreamCredential(grant);
    const { access } = await h.seedTokens(grant);
    const old = await h.seedGrant(client, { subject: 'someone-else', status: 'revoked', statusReason: 'client_revoked', revokedAt: h.clock.now });
    const revoke = vi.spyOn(h.keyhole.revoker, 'revoke');
    h.clock.now += 91 * DAY;
    expect(await h.keyhole.clientExpiry.run()).toEqual([{ clientId: client.clientId, reason: 'unused', revokedGrants: 1 }]);
    expect(revoke).toHaveBeenCalledWith(grant.id, 'client_expired', 'system:client-expiry');
    expect(await h.store.grants.find(grant.id)).toMatchObject({ status: 'revoked', statusReason: 'client_expired' });
    expect((await h.store.grants.find(old.id))?.statusReason).toBe('client_revoked');
    expect(h.count('upstream_credentials')).toBe(0);
    expect((await h.request('/mcp/a', { method: 'POST', headers: { authorization: `Bearer ${access}` } })).status).toBe(401);
    expect((await h.events('grant.revoked'))[0]).toMatchObject({ grantId: grant.id, detail: { reason: 'client_expired', actor: 'system:client-expiry' } });
    expect(await expired()).toEqual([{ clientId: client.clientId, detail: { reason: 'unused', revoked_grants: 1, actor: 'system:client-expiry' } }]);
  });

  it('never deletes static or CIMD clients, however old', async () => {
    await h.seedClient({ kind: 'static', clientId: 'ci-agent', createdAt: h.clock.now });
    await h.seedClient({ kind: 'cimd', clientId: 'https://app.example.com/client.json', createdAt: h.clock.now });
    h.clock.now += 400 * DAY;
    expect(await h.keyhole.clientExpiry.run()).toEqual([]);
    expect(h.count('clients')).toBe(2);
  });

  it('works in batches of dcr.expiryBatchSize, and a run goes on until none is left', async () => {
    const batchOf = (n: number) => new ClientExpiry({ store: h.store, events: h.keyhole.events, revoker: h.keyhole.revoker, clock: () => h.clock.now, config: { neverAuthorizedHours: 24, unusedDays: 90, expiryIntervalSeconds: 60, expiryBatchSize: n } });
    for (let i = 0; i < 25; i++) await h.seedClient({ createdAt: h.clock.now - 2 * DAY - i });
    const listed = vi.spyOn(h.store.clients, 'listExpiredDcr');
    expect(await batchOf(10).runBatch()).toHaveLength(10);
    expect(listed).toHaveBeenLastCalledWith(h.clock.now - 24 * HOUR, h.clock.now - 90 * DAY, 10);
    expect(h.count('clients')).toBe(15);
    expect(await batchOf(10).run()).toHaveLength(15);
    expect(listed).toHaveBeenCalledTimes(3); // 10 + 10 + 5 (the last short batch ends the run)
    expect(h.count('clients')).toBe(0);
    expect(await h.events('client.expired')).toHaveLength(25);
  });

  it('goes on with the other clients when one cannot be expired, and retries it on the next run', async () => {
    const stuck = await h.seedClient({ createdAt: h.clock.now - 3 * DAY, lastUsedAt: h.clock.now - 100 * DAY });
    await h.seedGrant(stuck);
    const other = await h.seedClient({ createdAt: h.clock.now - 2 * DAY });
    const revoke = vi.spyOn(h.keyhole.revoker, 'revoke').mockRejectedValueOnce(new Error('keychain unreachable'));
    expect(await h.keyhole.clientExpiry.run()).toEqual([{ clientId: other.clientId, reason: 'never_authorized', revokedGrants: 0 }]);
    expect((await h.store.clients.find(stuck.clientId))?.blockedAt).not.toBeNull();
    expect(h.logs.some((l) => l.includes('keyhole.client_expiry') && l.includes(stuck.clientId))).toBe(true);
    revoke.mockRestore();
    expect(await h.keyhole.clientExpiry.run()).toEqual([{ clientId: stuck.clientId, reason: 'unused', revokedGrants: 1 }]);
  });

  it('skips a listed client that was used in the meantime', async () => {
    const client = await h.seedClient({ createdAt: h.clock.now - 2 * DAY });
    const listExpired = h.store.clients.listExpiredDcr.bind(h.store.clients);
    vi.spyOn(h.store.clients, 'listExpiredDcr').mockImplementation(async (a, b, n) => {
      const out = await listExpired(a, b, n);
      await h.store.clients.touch(client.clientId, h.clock.now); // a token is issued between the scan and the deletion
      return out;
    });
    expect(await h.keyhole.clientExpiry.run()).toEqual([]);
    expect(await h.store.clients.find(client.clientId)).toBeDefined();
  });

  it('runs on an unref\'d timer every dcr.expiryIntervalSeconds, stopped by stop()', async () => {
    vi.useFakeTimers();
    try {
      const job = new ClientExpiry({ store: h.store, events: h.keyhole.events, revoker: h.keyhole.revoker, clock: () => h.clock.now, config: { neverAuthorizedHours: 24, unusedDays: 90, expiryIntervalSeconds: 900, expiryBatchSize: 100 } });
      const run = vi.spyOn(job, 'run');
      job.start();
      await vi.advanceTimersByTimeAsync(899_000);
      expect(run).not.toHaveBeenCalled();
      await vi.advanceTimersByTimeAsync(1_000);
      expect(run).toHaveBeenCalledTimes(1);
      await job.stop();
      await vi.advanceTimersByTimeAsync(10_000_000);
      expect(run).toHaveBeenCalledTimes(1);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('ClientUseRecorder', () => {
  it('touches a client once per second: a second use within it runs no statement, a new second or another client does', async () => {
    const store = openSqliteStore(':memory:');
    try {
      const clock = { now: 1_700_000_000 };
      const newClient = (clientId: string) => store.clients.create({ clientId, kind: 'dcr', metadata: {}, secretHash: null, createdAt: clock.now - DAY, blockedAt: null });
      await newClient('c_a');
      await newClient('c_b');
      const touch = vi.spyOn(store.clients, 'touch');
      const recorder = new ClientUseRecorder(store, () => {}, () => clock.now);
      const use = (clientId: string) => recorder.record({ type: 'token.refreshed', clientId, detail: {} });
      await use('c_a');
      await use('c_a');
      await use('c_b');
      expect(touch.mock.calls).toEqual([['c_a', clock.now], ['c_b', clock.now]]);
      expect((await store.clients.find('c_a'))?.lastUsedAt).toBe(clock.now);
      clock.now += 1;
      await use('c_a');
      expect(touch).toHaveBeenCalledTimes(3);
      expect((await store.clients.find('c_a'))?.lastUsedAt).toBe(clock.now);
      expect((await store.clients.find('c_b'))?.lastUsedAt).toBe(clock.now - 1);
      // Every use is still an event.
      expect(await store.events.count({ type: 'token.refreshed' })).toBe(4);
    } finally {
      await store.close();
    }
  });
});
