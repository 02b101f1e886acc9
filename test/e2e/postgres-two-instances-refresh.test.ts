/**
 * Two keyhole instances on ONE real PostgreSQL (issue 12 §2): 100 concurrent MCP calls spread over both (alternating
 * between the two instances' URLs), with an expired upstream access token, cause exactly ONE upstream refresh,
 * counted at oidc-provider, which rotates refresh tokens (`rotateRefreshToken: () => true`): the instance that
 * loses the race for the grant's advisory lock re-reads the credential and uses the winner's token instead of
 * spending the old refresh token again, which oidc-provider would answer with invalid_grant (and end the grant).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KoaContextWithOIDC, Next } from 'oidc-provider';
import { startPostgres, type PostgresServer } from '../helpers/postgres.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { startKeyholeInstance, type KeyholeInstance } from '../helpers/keyhole-instance.js';
import { reservePort } from '../helpers/free-port.js';
import { authorizeClient, openSession, rawPost, toolCall } from '../helpers/raw-mcp.js';

const TTL = 3;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('two keyhole instances on one PostgreSQL: single-flight upstream refresh', () => {
  let server: PostgresServer;
  let stack: Stack; // instance A (and the upstream peers)
  let b: KeyholeInstance;
  let bUrl: string;
  let dir: string;
  const counters = { refreshes: 0, invalidGrant: 0 };

  beforeAll(async () => {
    server = await startPostgres();
    const databaseUrl = await server.createDatabase({ name: 'keyhole_two' });
    process.env.DATABASE_URL = databaseUrl;
    const tokens = { upstreamRefreshSkewSeconds: 0 };
    stack = await startStack({ upstreamAccessTokenTtlSeconds: TTL, config: { storage: { postgres: '${DATABASE_URL}', vault: 'database' }, tokens } });
    dir = mkdtempSync(join(tmpdir(), 'keyhole-two-'));
    const reserved = await reservePort();
    await reserved.release();
    b = await startKeyholeInstance({
      port: reserved.port, dir, masterKey: stack.masterKey,
      // Behind one load balancer both instances have the same public URL.
      config: { publicUrl: stack.publicUrl, storage: { postgres: databaseUrl, vault: 'database' }, tokens },
      servers: { demo: stack.config.servers.demo },
    });
    bUrl = `http://127.0.0.1:${reserved.port}/mcp/demo`;
    stack.as.provider.on('grant.error', (_ctx: unknown, err: { error?: string }) => {
      if (err?.error === 'invalid_grant') counters.invalidGrant += 1;
    });
    stack.as.intercept(async (ctx: KoaContextWithOIDC, next: Next) => {
      await next();
      const params = ctx.oidc?.params as { grant_type?: string } | undefined;
      if (ctx.path === '/token' && params?.grant_type === 'refresh_token' && (ctx.body as { access_token?: string } | undefined)?.access_token) counters.refreshes += 1;
    });
  });

  afterAll(async () => {
    await b?.close();
    await stack?.close();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('100 concurrent calls over both instances with an expired upstream token: exactly 1 upstream refresh, 0 invalid_grant', async () => {
    const { token } = await authorizeClient(stack.mcpUrl, 'pat');
    const session = await openSession(stack.mcpUrl, token);
    const grant = (await stack.keyhole.store.grants.list({ status: 'active' }))[0]!;
    expect((await stack.keyhole.store.upstreamCredentials.find(grant.id))!.version).toBe(1);
    // Both instances serve this grant before the expiry (each caches the first upstream token).
    for (const url of [stack.mcpUrl, bUrl]) expect((await rawPost(url, token, toolCall(0, 'echo', { text: 'warm' }), session)).status).toBe(200);
    // The refreshed token lives long, so that the 100 calls (however slow the machine) all fall within its life.
    stack.as.setAccessTokenTtl(300);
    await sleep((TTL + 1) * 1000);
    expect(counters.refreshes).toBe(0);

    const replies = await Promise.all(Array.from({ length: 100 }, (_, i) => rawPost(i % 2 ? bUrl : stack.mcpUrl, token, toolCall(i + 1, 'echo', { text: `n${i}` }), session)));
    expect(replies.map((r) => r.status)).toEqual(replies.map(() => 200));
    expect(replies.map((r) => JSON.stringify(r.messages))).toEqual(replies.map((_, i) => expect.stringContaining(`n${i}"`)));
    expect(counters.refreshes).toBe(1);
    expect(counters.invalidGrant).toBe(0);
    // One write of the refresh (version 1 → 2), by whichever instance won; the grant is alive on both.
    expect((await stack.keyhole.store.upstreamCredentials.find(grant.id))!.version).toBe(2);
    expect((await b.keyhole.store.grants.find(grant.id))!.status).toBe('active');
    const refreshed = await stack.keyhole.store.events.list({ type: 'upstream.token_refreshed' });
    expect(refreshed).toHaveLength(1);
  }, 120_000);
});
