/**
 * `keyhole grants list|revoke` and `keyhole events tail`: against a running keyhole through the admin JSON API
 * (--url, KEYHOLE_ADMIN_TOKEN), then against its database with --config once it is stopped.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { startStack, type Stack } from '../helpers/stack.js';
import { connectThroughKeyhole } from '../helpers/sdk-client.js';
import { ensureBuiltCli, runCli, startCli, waitForOutput, writeCliConfig } from '../helpers/keyhole-cli.js';

type Grant = { id: string; subject: string; status: string; server: string };

describe('keyhole grants / events (operator CLI)', () => {
  let stack: Stack;
  let grants: Record<'alice' | 'bob' | 'carol', string>;
  let carolClient: string;
  const ADMIN = 'admin-token-for-tests-0123456789'; // startStack's admin token
  const api = () => ({ env: { PATH: process.env.PATH ?? '', KEYHOLE_ADMIN_TOKEN: ADMIN } });
  const url = () => ['--url', stack.publicUrl];

  beforeAll(async () => {
    await ensureBuiltCli();
    stack = await startStack();
    for (const login of ['alice', 'bob', 'carol']) (await connectThroughKeyhole(stack.mcpUrl, { login })).client.close();
    const all = await stack.keyhole.store.grants.list({ limit: 10, offset: 0 });
    grants = Object.fromEntries(all.map((g) => [g.subject, g.id])) as typeof grants;
    carolClient = all.find((g) => g.subject === 'carol')!.clientId;
  }, 180_000);
  afterAll(async () => stack?.close());

  describe('against a running keyhole (--url)', () => {
    it('lists the active grants as JSON, filtered by user', async () => {
      const r = await runCli(['grants', 'list', ...url(), '--json'], api());
      expect(r.code).toBe(0);
      expect((JSON.parse(r.stdout) as Grant[]).map((g) => g.subject).sort()).toEqual(['alice', 'bob', 'carol']);
      const alice = await runCli(['grants', 'list', ...url(), '--user', 'alice', '--json'], api());
      expect((JSON.parse(alice.stdout) as Grant[]).map((g) => g.id)).toEqual([grants.alice]);
    });

    it('lists them as a table', async () => {
      const r = await runCli(['grants', 'list', ...url(), '--server', 'demo'], api());
      expect(r.code).toBe(0);
      const lines = r.stdout.trimEnd().split('\n');
      expect(lines[0]).toMatch(/^ID +STATUS +SERVER +USER +CLIENT +SCOPES +CREATED +LAST USED$/);
      expect(lines).toHaveLength(4);
      expect(lines.find((l) => l.startsWith(grants.bob))).toMatch(new RegExp(`^${grants.bob} +active +demo +bob +c_`));
    });

    it('needs the admin token and says where it comes from', async () => {
      const r = await runCli(['grants', 'list', ...url()], { env: { PATH: process.env.PATH ?? '' } });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('keyhole: --url needs the admin token in KEYHOLE_ADMIN_TOKEN');
      const wrong = await runCli(['grants', 'list', ...url()], { env: { PATH: process.env.PATH ?? '', KEYHOLE_ADMIN_TOKEN: 'wrong-token-wrong-token-wrong' } });
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toContain('keyhole: the admin API answered HTTP 401');
    });

    it('asks before revoking and revokes nothing without a yes', async () => {
      const r = await runCli(['grants', 'revoke', grants.alice, ...url()], api()); // stdin is empty: no answer
      expect(r.stderr).toContain(`Revoke grant ${grants.alice} (user alice, server demo, client c_`);
      expect(r.stderr).toContain('not revoked');
      expect(r.code).toBe(1);
      expect((await stack.keyhole.store.grants.find(grants.alice))!.status).toBe('active');
    });

    it('revokes one grant with --yes', async () => {
      const r = await runCli(['grants', 'revoke', grants.alice, ...url(), '--yes'], api());
      expect(r.stdout).toBe(`revoked grant ${grants.alice}\n`);
      expect(r.code).toBe(0);
      expect((await stack.keyhole.store.grants.find(grants.alice))!.status).toBe('revoked');
    });

    it('tails events, filtered by type', async () => {
      const r = await runCli(['events', 'tail', ...url(), '--type', 'grant.revoked'], api());
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^\\S+Z grant\\.revoked success server=demo grant=${grants.alice} client=c_\\S+ user=alice\\n$`));
    });

    it('follows new events as they happen', async () => {
      const tail = startCli(['events', 'tail', ...url(), '--follow', '--type', 'grant.revoked', '--interval-ms', '200', '--json'], api());
      try {
        await waitForOutput(tail, (out) => out.includes(grants.alice));
        const revoke = await runCli(['grants', 'revoke', ...url(), '--user', 'bob', '--yes'], api());
        expect(revoke.stdout).toBe(`revoked 1 grant(s): ${grants.bob}\n`);
        await waitForOutput(tail, (out) => out.includes(grants.bob));
        const last = JSON.parse(tail.stdout().trimEnd().split('\n').at(-1)!) as { type: string; subject: string };
        expect(last).toMatchObject({ type: 'grant.revoked', subject: 'bob' });
      } finally {
        tail.child.kill('SIGINT');
      }
      expect((await tail.done).code).toBe(0);
    });
  });

  describe('against the database of a stopped keyhole (--config)', () => {
    let file: string;
    const db = () => ({ env: { PATH: process.env.PATH ?? '', KEYHOLE_MASTER_KEY: stack.masterKey } });
    beforeAll(async () => {
      await stack.keyhole.close();
      file = writeCliConfig(stack, join(stack.dir, 'stopped.json'));
    });

    it('lists the remaining active grant', async () => {
      const r = await runCli(['grants', 'list', '--config', file, '--json'], db());
      expect(r.stderr).toBe('');
      expect((JSON.parse(r.stdout) as Grant[]).map((g) => g.id)).toEqual([grants.carol]);
      const all = await runCli(['grants', 'list', '--config', file, '--all', '--json'], db());
      expect((JSON.parse(all.stdout) as Grant[])).toHaveLength(3);
    });

    it('revokes by client with --yes, and the event is in the database', async () => {
      const r = await runCli(['grants', 'revoke', '--config', file, '--client', carolClient, '--yes'], db());
      expect(r.stdout).toBe(`revoked 1 grant(s): ${grants.carol}\n`);
      expect(r.code).toBe(0);
      const tail = await runCli(['events', 'tail', '--config', file, '--type', 'grant.revoked', '-n', '5'], db());
      expect(tail.stdout.trimEnd().split('\n').map((l) => /user=(\w+)/.exec(l)?.[1])).toEqual(['alice', 'bob', 'carol']);
    });

    it('names nothing to revoke when no active grant matches', async () => {
      const r = await runCli(['grants', 'revoke', '--config', file, '--user', 'nobody'], db());
      expect(r.stdout).toBe('no active grants match user nobody\n');
      expect(r.code).toBe(0);
    });
  });
});
