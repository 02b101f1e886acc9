import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { publishNotice, type NoticeReport } from '../../../src/grants/revocation-notice.js';

describe('grant-revoked notice: retried in the background when the database cannot take it', () => {
  beforeEach(() => { vi.useFakeTimers(); });
  afterEach(() => { vi.useRealTimers(); });

  /** A publish that fails `failures` times, then succeeds. */
  function flaky(failures: number) {
    let calls = 0;
    const publish = vi.fn(async () => {
      calls += 1;
      if (calls <= failures) throw Object.assign(new Error('connect ECONNREFUSED'), { name: 'ConnectionRefused' });
    });
    return publish;
  }

  it('publishes once and reports nothing when the database takes it', async () => {
    const publish = flaky(0);
    const reports: NoticeReport[] = [];
    await publishNotice(publish, (r) => reports.push(r), [10, 20]);
    await vi.runAllTimersAsync();
    expect(publish).toHaveBeenCalledTimes(1);
    expect(reports).toEqual([]);
  });

  it('retries after each delay until it is published, and says so', async () => {
    const publish = flaky(2);
    const reports: NoticeReport[] = [];
    await publishNotice(publish, (r) => reports.push(r), [1_000, 2_000, 5_000]);
    expect(publish).toHaveBeenCalledTimes(1); // the first attempt is awaited; the retries are not
    expect(reports.map((r) => [r.outcome, r.attempt])).toEqual([['failed', 1]]);
    await vi.advanceTimersByTimeAsync(999);
    expect(publish).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(publish).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(publish).toHaveBeenCalledTimes(3);
    await vi.runAllTimersAsync();
    expect(publish).toHaveBeenCalledTimes(3); // published: no more attempts
    expect(reports).toMatchObject([
      { outcome: 'failed', attempt: 1, retryInMs: 1_000 },
      { outcome: 'failed', attempt: 2, retryInMs: 2_000 },
      { outcome: 'published_late', attempt: 3 },
    ]);
    expect((reports[0] as { error: Error }).error.name).toBe('ConnectionRefused');
  });

  it('gives up after the last delay, and says so', async () => {
    const publish = flaky(100);
    const reports: NoticeReport[] = [];
    await publishNotice(publish, (r) => reports.push(r), [10, 20]);
    await vi.runAllTimersAsync();
    expect(publish).toHaveBeenCalledTimes(3);
    expect(reports.map((r) => r.outcome)).toEqual(['failed', 'failed', 'abandoned']);
    expect(reports[2]).toMatchObject({ outcome: 'abandoned', attempt: 3 });
  });

  it('never keeps the process up: the retry timer is unref\'d', async () => {
    vi.useRealTimers();
    const unref = vi.spyOn(globalThis, 'setTimeout');
    const reports: NoticeReport[] = [];
    await publishNotice(flaky(1), (r) => reports.push(r), [60_000]);
    const timer = unref.mock.results.at(-1)!.value as NodeJS.Timeout;
    expect(timer.hasRef()).toBe(false);
    clearTimeout(timer);
    unref.mockRestore();
  });
});

describe('GrantRevoker: a notice the database refused reaches the other instance on a retry', () => {
  it('revokes at once, reports the failure, and the other instance hears grant-revoked after the retry', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { openSqliteStore } = await import('../../../src/store/sqlite/sqlite-store.js');
    const { GrantRevoker } = await import('../../../src/grants/grant-revoker.js');
    const { UpstreamVault } = await import('../../../src/vault/upstream-vault.js');
    const { VaultCipher, keyringFromMasterKey } = await import('../../../src/store/crypto/vault-cipher.js');
    const { EventRecorder } = await import('../../../src/events/recorder.js');
    const { makeGrant } = await import('../store/store-contract.js');
    const T0 = 1_700_000_000;
    const file = join(mkdtempSync(join(tmpdir(), 'keyhole-notice-')), 'k.db');
    const a = openSqliteStore(file);
    const b = openSqliteStore(file); // a second instance's view of the change feed (same file: one in-process channel)
    try {
      const heard: string[] = [];
      b.changes.subscribe((c) => heard.push(`${c.kind}:${c.id}`));
      const publish = a.changes.publish.bind(a.changes);
      let refusals = 1;
      a.changes.publish = async (kind, id) => {
        if (refusals-- > 0) throw Object.assign(new Error('Connection terminated'), { name: 'ConnectionTerminated' });
        return publish(kind, id);
      };
      const cipher = new VaultCipher(keyringFromMasterKey('k'.repeat(43)));
      const vault = new UpstreamVault({ store: a, cipher, backend: 'sqlite', keychain: undefined });
      const reports: Array<[string, NoticeReport['outcome'], number]> = [];
      const revoker = new GrantRevoker({
        store: a, vault, events: new EventRecorder(a, () => undefined, () => T0), upstreamClients: new Map(), clock: () => T0,
        onNotice: (grantId, r) => reports.push([grantId, r.outcome, r.attempt]), noticeRetryDelaysMs: [20],
      });
      const g = makeGrant();
      await a.grants.create(g);
      expect(await revoker.revoke(g.id, 'admin_revoked', 'admin:token')).toBe(true);
      expect((await b.grants.find(g.id))?.status).toBe('revoked'); // revoked for everyone at once
      expect(heard).toEqual([]);
      expect(reports).toEqual([[g.id, 'failed', 1]]);
      await new Promise((r) => setTimeout(r, 60));
      expect(heard).toEqual([`grant-revoked:${g.id}`]);
      expect(reports).toEqual([[g.id, 'failed', 1], [g.id, 'published_late', 2]]);
    } finally {
      a.close();
      b.close();
    }
  });
});
