/**
 * keyhole on PostgreSQL end to end (issue 12 §1): `"storage": { "postgres": "${DATABASE_URL}" }` with a real
 * throw-away server (test/helpers/postgres.ts), the SDK client's whole flow (discovery, DCR, PKCE, keyhole's consent,
 * oidc-provider's login) and a tool call through the forwarder; then what landed in PostgreSQL: the grant, its sealed
 * upstream credential, the events, and no token value anywhere in the database.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { preflight } from '../../src/cli/preflight.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres.js';
import { connectThroughKeyhole, type ConnectedClient } from '../helpers/sdk-client.js';
import { startStack, type Stack } from '../helpers/stack.js';

describe('keyhole on PostgreSQL with real peers', () => {
  let server: PostgresServer;
  let databaseUrl: string;
  let stack: Stack;
  let conn: ConnectedClient;
  const secrets = new Set<string>();

  beforeAll(async () => {
    server = await startPostgres();
    databaseUrl = await server.createDatabase({ name: 'keyhole_e2e' });
    process.env.DATABASE_URL = databaseUrl; // the config names it, as a deployment would ("${DATABASE_URL}")
    stack = await startStack({ config: { storage: { postgres: '${DATABASE_URL}', vault: 'database' } } });
    stack.as.provider.on('grant.success', (ctx: { body?: Record<string, unknown> }) => {
      for (const k of ['access_token', 'refresh_token', 'id_token']) if (typeof ctx.body?.[k] === 'string') secrets.add(ctx.body[k] as string);
    });
    conn = await connectThroughKeyhole(stack.mcpUrl, { login: 'alice' });
  });

  afterAll(async () => {
    await conn?.client.close().catch(() => undefined);
    await stack?.close();
    await server?.stop();
  });

  it('opens a PostgreSQL store from storage.postgres', () => {
    expect(stack.config.storage).toEqual({ postgres: databaseUrl, vault: 'database', minFreeMegabytes: 64 });
    expect(stack.keyhole.store).toBeInstanceOf(PostgresStore);
  });

  it('runs the SDK client flow and a tool call as the signed-in upstream user', async () => {
    const result = (await conn.client.callTool({ name: 'whoami', arguments: {} })) as { content: Array<{ text: string }> };
    expect(JSON.parse(result.content.map((c) => c.text).join('')).sub).toBe('alice');
    for (const t of conn.provider.tokenHistory) {
      secrets.add(t.access_token);
      if (t.refresh_token) secrets.add(t.refresh_token);
    }
  });

  it('keeps the grant, its sealed upstream credential and the events in PostgreSQL, and no token value', async () => {
    const db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
    try {
      const grants = await db.query("SELECT id, server, subject, status FROM grants WHERE subject = 'alice'");
      expect(grants.rows).toEqual([expect.objectContaining({ server: 'demo', subject: 'alice', status: 'active' })]);
      const cred = await db.query('SELECT access_token, access_kid FROM upstream_credentials WHERE grant_id = $1', [grants.rows[0].id]);
      expect(cred.rows[0].access_kid).toEqual(expect.any(String));
      expect((await db.query("SELECT count(*)::int AS n FROM events WHERE type LIKE 'grant.%'")).rows[0].n).toBeGreaterThan(0);

      expect(secrets.size).toBeGreaterThan(1);
      const tables = (await db.query<{ t: string }>("SELECT quote_ident(tablename) AS t FROM pg_tables WHERE schemaname = 'public'")).rows;
      let dump = '';
      for (const { t } of tables) dump += JSON.stringify((await db.query(`SELECT * FROM ${t}`)).rows);
      for (const s of secrets) expect(dump).not.toContain(s);
    } finally {
      await db.end();
    }
  });

  it('keyhole check: the storage.postgres database answers and the keyring opens its entries; an unreachable one fails', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyhole-pg-check-'));
    try {
      const file = join(dir, 'keyhole.json');
      const config = (postgres: string) => ({
        publicUrl: stack.publicUrl,
        storage: { postgres },
        servers: { demo: { upstream: stack.mcp.url, oauth: { issuer: stack.as.issuer, ...stack.upstreamClient } } },
      });
      writeFileSync(file, JSON.stringify(config('${DATABASE_URL}')));
      const env = { DATABASE_URL: databaseUrl, KEYHOLE_MASTER_KEY: stack.masterKey };
      const ok = await preflight(file, { env });
      expect(ok.find((r) => r.name === 'storage')).toEqual({ name: 'storage', ok: true, detail: expect.stringMatching(/\/keyhole_e2e answers$/) });
      expect(ok.find((r) => r.name === 'keyring')).toMatchObject({ ok: true, detail: expect.stringContaining('open every stored entry') });
      const failed = await preflight(file, { env: { ...env, DATABASE_URL: 'postgres://keyhole:pw@127.0.0.1:1/keyhole' } });
      const storage = failed.find((r) => r.name === 'storage')!;
      expect(storage.ok).toBe(false);
      expect(storage.detail).toMatch(/^storage\.postgres: .*cannot connect to PostgreSQL at postgres:\/\/keyhole@127\.0\.0\.1:1\/keyhole/);
      expect(storage.detail).not.toContain(':pw@');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
