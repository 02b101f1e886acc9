/**
 * `keyhole storage copy --from <sqlite file> --to <postgres url>` (issue 12 §1) end to end: a SQLite installation
 * with real grants (the SDK client's flow through `keyhole serve`, oidc-provider, tool calls), the copy SIGKILLed
 * halfway (KEYHOLE_TEST_COPY_DELAY_MS slows it), run again (it finishes, row counts verified and printed), run a
 * third time (idempotent); then `keyhole serve` on PostgreSQL with the same master key serves the same grants: the
 * SDK client's tool call works without re-consent, and an upstream refresh opens the copied refresh-token ciphertext.
 * Also: a target at another schema version is refused.
 */
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type PostgresServer } from '../helpers/postgres.js';
import { startKeyholeProcess, type KeyholeProcess } from '../helpers/keyhole-process.js';
import { runCli, startCli } from '../helpers/keyhole-cli.js';
import { connectThroughKeyhole, reconnect, type CapturingProvider } from '../helpers/sdk-client.js';
import { makeGrants, whoami, type StormGrant } from '../helpers/refresh-storm.js';

async function count(url: string, table: string): Promise<number> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return Number((await c.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);
  } finally {
    await c.end();
  }
}

describe('keyhole storage copy', () => {
  let server: PostgresServer;
  let kp: KeyholeProcess;
  let provider: CapturingProvider;
  let others: StormGrant[];
  let sqliteCounts: Record<string, number>;

  beforeAll(async () => {
    server = await startPostgres();
    kp = await startKeyholeProcess();
    const run = await kp.start();
    const conn = await connectThroughKeyhole(kp.mcpUrl, { login: 'alice' });
    provider = conn.provider;
    for (let i = 0; i < 5; i++) await conn.client.callTool({ name: 'echo', arguments: { text: `call ${i}` } });
    await conn.client.close();
    others = await makeGrants(kp.mcpUrl, 2);
    run.child.kill('SIGTERM'); // keyhole stopped (drained) before the copy
    expect((await run.done).code).toBe(0);
    const db = new Database(kp.dbPath, { readonly: true });
    sqliteCounts = Object.fromEntries(['grants', 'upstream_credentials', 'events', 'audit_log', 'clients', 'access_tokens'].map((t) => [t, (db.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n]));
    db.close();
  }, 180_000);

  afterAll(async () => {
    await kp?.close();
    await server?.stop();
  });

  it('is killed halfway, resumed, verified, idempotent; then keyhole serves the same grants from PostgreSQL', async () => {
    expect(sqliteCounts.grants).toBe(3);
    expect(sqliteCounts.events).toBeGreaterThan(10);
    const url = await server.createDatabase({ name: 'keyhole_copy' });
    const env = { ...process.env, DATABASE_URL: url, KEYHOLE_TEST_COPY_DELAY_MS: '20' };
    const args = ['storage', 'copy', '--from', kp.dbPath, '--to', '${DATABASE_URL}', '--batch-size', '1'];

    // 1. Killed halfway: once the first tables are done, well before events.
    const slow = startCli(args, { env });
    await new Promise<void>((resolve, reject) => {
      const check = () => { if (/^grants: \d+ rows read$/m.test(slow.stderr())) resolve(); };
      slow.child.stderr!.on('data', check);
      void slow.done.then((r) => reject(new Error(`the copy ended before it was killed: ${r.code}\n${r.stdout}\n${r.stderr}`)));
    });
    slow.child.kill('SIGKILL');
    expect((await slow.done).signal).toBe('SIGKILL');
    expect(await count(url, 'grants')).toBe(3);
    expect(await count(url, 'events')).toBeLessThan(sqliteCounts.events!);

    // 2. Resumed: finishes, prints the verified counts per table.
    const resumed = await runCli(args.slice(0, -2), { env: { ...env, KEYHOLE_TEST_COPY_DELAY_MS: '' } });
    expect(resumed.code, resumed.stderr).toBe(0);
    for (const [table, n] of Object.entries(sqliteCounts)) expect(resumed.stdout).toMatch(new RegExp(`^${table} +${n} +${n}$`, 'm'));
    expect(resumed.stdout).toMatch(/^copied: schema version \d+, \d+ tables, row counts verified$/m);
    expect(resumed.stdout).not.toContain('DIFFERS');

    // 3. Idempotent: a third run adds nothing.
    const again = await runCli(args.slice(0, -2), { env: { ...env, KEYHOLE_TEST_COPY_DELAY_MS: '' } });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toBe(resumed.stdout);
    for (const [table, n] of Object.entries(sqliteCounts)) expect(await count(url, table)).toBe(n);

    // A count that differs is reported (exit 1), naming the table.
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      await c.query("INSERT INTO events (at, type, outcome) VALUES (0, 'test.extra', 'success')");
      const differs = await runCli(args.slice(0, -2), { env: { ...env, KEYHOLE_TEST_COPY_DELAY_MS: '' } });
      expect(differs.code).toBe(1);
      expect(differs.stdout).toMatch(new RegExp(`^events +${sqliteCounts.events} +${sqliteCounts.events! + 1}  DIFFERS$`, 'm'));
      expect(differs.stderr).toContain('row counts differ');
    } finally {
      await c.query("DELETE FROM events WHERE type = 'test.extra'");
      await c.end();
    }

    // 4. keyhole on PostgreSQL, same master key: the same grants work without re-consent. Every call refreshes the
    //    upstream token (skew > lifetime), so the copied refresh-token ciphertexts are opened and rotated too.
    const pgRun = await kp.start({ config: { storage: { postgres: '${DATABASE_URL}', vault: 'database' }, tokens: { upstreamRefreshSkewSeconds: 3600 } }, env: { DATABASE_URL: url } });
    try {
      const refreshesBefore = kp.refreshes();
      const c = await reconnect(kp.mcpUrl, provider);
      const r = (await c.client.callTool({ name: 'whoami', arguments: {} })) as { content: Array<{ text: string }> };
      expect(JSON.parse(r.content[0]!.text).sub).toBe('alice');
      await c.client.close();
      for (const g of others) expect(await whoami(kp.mcpUrl, g)).toEqual({ ok: true, sub: g.login });
      expect(kp.refreshes() - refreshesBefore).toBeGreaterThanOrEqual(3);
      expect(kp.invalidGrants()).toBe(0);
      expect(await count(url, 'grants')).toBe(3); // no new grant: no re-consent
    } finally {
      pgRun.child.kill('SIGTERM');
      expect((await pgRun.done).code).toBe(0);
    }
  }, 180_000);

  it('refuses a target whose schema version differs after migrating it', async () => {
    const url = await server.createDatabase({ name: 'keyhole_newer' });
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query('CREATE TABLE schema_migrations (version integer PRIMARY KEY, applied_at bigint NOT NULL)');
    await c.query('INSERT INTO schema_migrations VALUES (999, 0)');
    await c.end();
    const r = await runCli(['storage', 'copy', '--from', kp.dbPath, '--to', url]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^keyhole: database schema version 999 is newer than this keyhole knows/m);
    expect(await count(url, 'schema_migrations')).toBe(1);
  }, 60_000);

  it('refuses bad command lines with exit 2', async () => {
    expect((await runCli(['storage', 'copy', '--to', 'postgres://x@127.0.0.1:1/x'])).code).toBe(2);
    expect((await runCli(['storage', 'copy', '--from', kp.dbPath])).code).toBe(2);
    const unset = await runCli(['storage', 'copy', '--from', kp.dbPath, '--to', '${NOT_SET_ANYWHERE}'], { env: { ...process.env, NOT_SET_ANYWHERE: undefined } });
    expect(unset.code).toBe(2);
    expect(unset.stderr).toContain('${NOT_SET_ANYWHERE}');
  }, 60_000);
});
