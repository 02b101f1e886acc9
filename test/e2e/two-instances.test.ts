/**
 * Two keyhole instances on one real PostgreSQL behind a round-robin load balancer (issue 12 §2, "one truth"):
 * - the SDK client's whole flow (discovery, DCR, PKCE, keyhole's consent, oidc-provider's login, code, tokens, tool
 *   calls) with its requests alternating between the instances, and authorize on A, consent on B, callback on B,
 *   token on A;
 * - an admin signed in on one instance is signed in on the other (sessions in the database);
 * - a grant revoked through A gets 401 at B within 1 s (issue 12's target), and its open SSE stream on B is closed
 *   within 1 s (the `grant-revoked` notice: LISTEN/NOTIFY);
 * - the rate limits: each instance enforces its share (`instances: 2`);
 * - an MCP session handed out through A is bound to its grant on B too (bindings in the database): another grant
 *   presenting its id at B gets 404 and the upstream sees nothing; after a revoke on A it is refused on B to everyone.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startUpstreamAuthorizationServer, type UpstreamAs } from '../../examples/demo/upstream-authorization-server.js';
import { startUpstreamMcpServer, type UpstreamMcp } from '../../examples/demo/upstream-mcp-server.js';
import { parseConfig } from '../../src/config/load-config.js';
import { createKeyhole, type Keyhole } from '../../src/keyhole.js';
import { keyringFromMasterKey } from '../../src/store/crypto/vault-cipher.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres.js';
import { startRoundRobinProxy, type RoundRobinProxy } from '../helpers/round-robin-proxy.js';
import { connectThroughKeyhole, type ConnectedClient } from '../helpers/sdk-client.js';
import { authorizeClient, openSession, PROTOCOL, rawPost, toolCall } from '../helpers/raw-mcp.js';
import { CookieBrowser } from '../helpers/cookie-browser.js';
import { freePort } from '../helpers/free-port.js';

const ADMIN = 'admin-token-for-two-instances-0123456789';
/** How src/proxy/session-binding.ts keys a session in the database: SHA-256 hex of `<upstream URL> <session id>`. */
const sessionKeyHash = async (key: string) => createHash('sha256').update(key).digest('hex');

describe('two keyhole instances on one PostgreSQL, behind a round-robin proxy', () => {
  let pg: PostgresServer;
  let as: UpstreamAs;
  let mcp: UpstreamMcp;
  let lb: RoundRobinProxy;
  const instances: Keyhole[] = [];
  const urls: string[] = [];
  let mcpUrl: string;
  let alice: ConnectedClient;

  beforeAll(async () => {
    pg = await startPostgres();
    const databaseUrl = await pg.createDatabase({ name: 'keyhole_two' });
    lb = await startRoundRobinProxy();
    const upstreamClient = { clientId: 'keyhole', clientSecret: randomBytes(24).toString('base64url') };
    as = await startUpstreamAuthorizationServer({ clients: [{ ...upstreamClient, redirectUris: [`${lb.url}/oauth/callback`] }] });
    mcp = await startUpstreamMcpServer({ issuer: as.issuer });
    as.addResource(mcp.url);
    const masterKey = randomBytes(32).toString('base64url'); // every instance has the same keyring
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      const config = parseConfig({
        publicUrl: lb.url, // the load balancer's URL: the issuer and every resource, the same on each instance
        listen: { host: '127.0.0.1', port },
        storage: { postgres: databaseUrl, vault: 'database' },
        admin: { token: ADMIN },
        instances: 2,
        servers: {
          demo: {
            upstream: mcp.url,
            oauth: { issuer: as.issuer, ...upstreamClient, scopes: ['openid', 'offline_access', 'mcp:tools'], resource: mcp.url },
            limits: { perPerson: { requestsPerMinute: 6, burst: 40 } },
          },
        },
      });
      const keyhole = await createKeyhole({ config, keyring: keyringFromMasterKey(masterKey), log: () => undefined });
      await keyhole.listen();
      instances.push(keyhole);
      urls.push(`http://127.0.0.1:${port}`);
    }
    lb.targets = urls;
    mcpUrl = `${lb.url}/mcp/demo`;
  }, 120_000);

  afterAll(async () => {
    await alice?.client.close().catch(() => undefined);
    for (const k of instances) await k.close();
    await lb?.close();
    await mcp?.close();
    await as?.close();
    await pg?.stop();
  });

  it('runs the SDK client flow with requests alternating between the instances: authorize on A, consent and callback on B, token on A', async () => {
    lb.pin('/authorize', 0);
    lb.pin('/consent', 1);
    lb.pin('/oauth/callback', 1);
    lb.pin('/token', 0);
    try {
      alice = await connectThroughKeyhole(mcpUrl, { login: 'alice' });
    } finally {
      for (const p of ['/authorize', '/consent', '/oauth/callback', '/token']) lb.unpin(p);
    }
    const where = (path: string) => lb.log.filter((r) => r.path === path).map((r) => `${r.method} ${r.instance} ${r.status}`);
    expect(where('/authorize')).toEqual(['GET 0 200']);
    expect(where('/consent')).toEqual(['POST 1 303']);
    expect(where('/oauth/callback')).toEqual(['GET 1 302']);
    expect(where('/token')).toEqual(['POST 0 200']);
    expect(where('/register')).toHaveLength(1);

    // Tool calls go to both instances in turn and each answers as alice.
    const before = lb.log.length;
    for (let i = 0; i < 4; i++) {
      const result = (await alice.client.callTool({ name: 'whoami', arguments: {} })) as { content: Array<{ text: string }> };
      expect(JSON.parse(result.content.map((c) => c.text).join('')).sub).toBe('alice');
    }
    const calls = lb.log.slice(before).filter((r) => r.path === '/mcp/demo' && r.method === 'POST');
    expect(calls.length).toBeGreaterThanOrEqual(4);
    expect(calls.every((r) => r.status === 200)).toBe(true);
    expect(new Set(calls.map((r) => r.instance))).toEqual(new Set([0, 1]));
  });

  it('an admin signed in through one instance is signed in on the other, and signed out on both', async () => {
    const browser = new CookieBrowser();
    lb.pin('/admin/login', 0);
    lb.pin('/admin/grants', 1);
    lb.pin('/admin/logout', 1);
    try {
      const signIn = await browser.post(new URL(`${lb.url}/admin/login`), { token: ADMIN });
      expect(signIn.status).toBe(303);
      const onB = await browser.get(new URL(`${lb.url}/admin/grants`));
      expect(onB.status).toBe(200); // B knows the session A created
      const html = await onB.text();
      const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
      expect(csrf).toBeTruthy();
      const out = await browser.post(new URL(`${lb.url}/admin/logout`), { csrf: csrf! });
      expect(out.status).toBe(303);
      lb.pin('/admin/grants', 0);
      const onA = await browser.get(new URL(`${lb.url}/admin/grants`));
      expect(onA.status).toBe(303); // signed out on B: A sends the browser to the sign-in page
      expect(onA.headers.get('location')).toBe('/admin/login');
    } finally {
      for (const p of ['/admin/login', '/admin/grants', '/admin/logout']) lb.unpin(p);
    }
  });

  it('a grant revoked through A gets 401 at B within 1 s', async () => {
    const token = alice.provider.tokens()!.access_token;
    const grantId = (await instances[0]!.store.grants.list({ limit: 10, offset: 0 })).find((g) => g.subject === 'alice')!.id;
    // B has served this grant (its per-grant caches are warm).
    lb.pin('/mcp/demo', 1);
    try {
      await alice.client.callTool({ name: 'whoami', arguments: {} });
    } finally {
      lb.unpin('/mcp/demo');
    }

    const revokedAt = Date.now(); // measured from the revoke request on: an upper bound
    const revoke = await fetch(`${urls[0]}/admin/api/grants/${grantId}`, { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN}` } });
    expect(revoke.status).toBe(200);
    let status = 0;
    let after = 0;
    do {
      status = (await rawPost(`${urls[1]}/mcp/demo`, token, toolCall(2, 'whoami'))).status;
      after = Date.now() - revokedAt;
    } while (status !== 401 && after < 5_000);
    expect(status).toBe(401);
    if (process.env.KH_REPORT) console.log(`revoke on A → 401 on B after ${after} ms`);
    expect(after).toBeLessThan(1_000); // the target of issue 12
  });

  it('a grant revoked through A closes its open SSE stream on B within 1 s', async () => {
    const { token } = await authorizeClient(mcpUrl, 'bob');
    const grantId = (await instances[0]!.store.grants.list({ limit: 10, offset: 0 })).find((g) => g.subject === 'bob' && g.status === 'active')!.id;
    lb.pin('/mcp/demo', 1);
    let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
    try {
      const session = await openSession(mcpUrl, token);
      await rawPost(mcpUrl, token, { jsonrpc: '2.0', method: 'notifications/initialized' }, session);
      const res = await fetch(mcpUrl, {
        headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream', 'mcp-session-id': session, 'mcp-protocol-version': PROTOCOL },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
      reader = res.body!.getReader();
    } finally {
      lb.unpin('/mcp/demo');
    }
    const closed = (async () => {
      try {
        for (;;) if ((await reader.read()).done) return Date.now();
      } catch {
        return Date.now();
      }
    })();
    await new Promise((r) => setTimeout(r, 200));

    const revokedAt = Date.now(); // measured from the revoke request on: an upper bound
    const revoke = await fetch(`${urls[0]}/admin/api/grants/${grantId}`, { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN}` } });
    expect(revoke.status).toBe(200);
    const endedAt = await Promise.race([closed, new Promise<number>((r) => setTimeout(() => r(Number.POSITIVE_INFINITY), 5_000))]);
    if (process.env.KH_REPORT) console.log(`revoke on A → SSE stream on B closed after ${endedAt - revokedAt} ms`);
    expect(endedAt - revokedAt).toBeLessThan(1_000); // B closed it on A's notice, not A
  });

  it('an MCP session handed out through A is refused (404) to another grant at B, never forwarded; its owner uses it through B; revoked on A, refused on B to all', async () => {
    const NOT_FOUND = { jsonrpc: '2.0', error: { code: -32010, message: 'Session not found' }, id: null };
    const dave = await authorizeClient(mcpUrl, 'dave');
    const erin = await authorizeClient(mcpUrl, 'erin');
    const frank = await authorizeClient(mcpUrl, 'frank');
    const daveGrant = (await instances[0]!.store.grants.list({ limit: 50, offset: 0 })).find((g) => g.subject === 'dave' && g.status === 'active')!.id;
    let session = '';
    lb.pin('/mcp/demo', 0);
    try {
      session = await openSession(mcpUrl, dave.token); // the upstream's Mcp-Session-Id goes to dave through A
      expect((await rawPost(mcpUrl, dave.token, { jsonrpc: '2.0', method: 'notifications/initialized' }, session)).status).toBe(202);
    } finally {
      lb.unpin('/mcp/demo');
    }
    const upstreamSaw = () => mcp.seenRequestHeaders.filter((h) => h['mcp-session-id'] === session).length;
    const seenBefore = upstreamSaw();
    const onB = (method: string, token: string, body?: unknown) => fetch(`${urls[1]}/mcp/demo`, {
      method,
      headers: {
        authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream',
        'mcp-protocol-version': PROTOCOL, 'mcp-session-id': session,
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });

    // Another grant presenting dave's session id at B: 404 as for an unknown session, on POST, GET and DELETE.
    for (const [method, body] of [['POST', toolCall(3, 'whoami')], ['GET', undefined], ['DELETE', undefined]] as const) {
      const r = await onB(method, erin.token, body);
      expect(r.status, method).toBe(404);
      expect(await r.json(), method).toEqual(NOT_FOUND);
    }
    expect(upstreamSaw()).toBe(seenBefore); // never forwarded

    // Dave's own requests through B work.
    const own = await rawPost(`${urls[1]}/mcp/demo`, dave.token, toolCall(4, 'whoami'), session);
    expect(own.status).toBe(200);
    expect(JSON.parse((own.messages[0] as { result: { content: Array<{ text: string }> } }).result.content[0]!.text).sub).toBe('dave');
    expect(upstreamSaw()).toBe(seenBefore + 1);

    // Revoked on A: at B the id is refused to every grant (dave's token itself gets 401 from the bearer check).
    const revoke = await fetch(`${urls[0]}/admin/api/grants/${daveGrant}`, { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN}` } });
    expect(revoke.status).toBe(200);
    let retired: string | null | undefined;
    for (let i = 0; i < 50 && retired !== null; i++) {
      const rows = await instances[1]!.store.mcpSessions.find(await sessionKeyHash(`${new URL(mcp.url).href} ${session}`));
      retired = rows?.grantId;
      if (retired !== null) await new Promise((r) => setTimeout(r, 20));
    }
    expect(retired).toBeNull(); // retired in the database
    for (const who of [erin, frank]) {
      const r = await onB('POST', who.token, toolCall(5, 'whoami'));
      expect(r.status).toBe(404);
      expect(await r.json()).toEqual(NOT_FOUND);
    }
    expect((await onB('POST', dave.token, toolCall(6, 'whoami'))).status).toBe(401);
    expect(upstreamSaw()).toBe(seenBefore + 1);
  });

  it('each instance enforces its share of a rate limit (instances: 2)', async () => {
    const { token } = await authorizeClient(mcpUrl, 'carol');
    // perPerson burst 40 over two instances: 20 on each (refill 6/min in all, 3/min each: none during the run).
    // 60 calls alternating: 40 pass (each reaches the upstream, which answers 400 without a session), 20 get 429.
    const statuses: number[] = [];
    for (let i = 0; i < 60; i++) statuses.push((await rawPost(mcpUrl, token, toolCall(i, 'whoami'))).status);
    const limited = statuses.filter((s) => s === 429).length;
    expect(statuses.filter((s) => s !== 429).every((s) => s === 400)).toBe(true);
    expect(limited).toBe(20);
  });
});
