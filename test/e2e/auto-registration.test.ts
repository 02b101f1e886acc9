/**
 * An upstream that implements MCP authorization, with no client setup in keyhole's config (`discovery: "mcp"`):
 * keyhole reads the SDK upstream's protected resource metadata, discovers oidc-provider, registers itself by
 * dynamic client registration, and the SDK client's flow through keyhole works. The registration is persisted
 * (secret sealed): a restart on the same database does not register again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startUpstreamAuthorizationServer, type UpstreamAs } from '../../examples/demo/upstream-authorization-server.js';
import { startUpstreamMcpServer, type UpstreamMcp } from '../../examples/demo/upstream-mcp-server.js';
import { startKeyholeInstance, type KeyholeInstance } from '../helpers/keyhole-instance.js';
import { connectThroughKeyhole, reconnect, type ConnectedClient } from '../helpers/sdk-client.js';
import { freePort } from '../helpers/free-port.js';

function textOf(result: unknown): string {
  return (result as { content: Array<{ text: string }> }).content.map((c) => c.text).join('');
}

/** undici keeps pooled keep-alive sockets to the stopped keyhole: each fails once ("other side closed"). */
async function drainStaleConnections(url: string): Promise<void> {
  for (let i = 0; i < 20; i++) {
    try {
      await fetch(url);
      return;
    } catch {
      /* a stale socket: try the next one */
    }
  }
}

function dbBytes(dbPath: string): string {
  return [dbPath, `${dbPath}-wal`].filter(existsSync).map((f) => readFileSync(f).toString('latin1')).join('');
}

describe('auto-registration at an upstream that implements MCP authorization', () => {
  let as: UpstreamAs;
  let mcp: UpstreamMcp;
  let kh: KeyholeInstance;
  let conn: ConnectedClient | undefined;
  let port: number;
  let dir: string;
  const registered: Array<{ clientId: string; clientSecret: string; metadata: Record<string, unknown> }> = [];
  const servers = () => ({ demo: { displayName: 'MCP-auth upstream', upstream: mcp.url, oauth: { discovery: 'mcp', scopes: ['openid', 'offline_access', 'mcp:tools'] } } });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'keyhole-autoreg-'));
    port = await freePort();
    as = await startUpstreamAuthorizationServer({ clients: [], registration: true, accessTokenTtlSeconds: 300 });
    as.provider.on('registration_create.success', (_ctx: unknown, client: { clientId: string; clientSecret: string; metadata(): Record<string, unknown> }) => {
      registered.push({ clientId: client.clientId, clientSecret: client.clientSecret, metadata: client.metadata() });
    });
    mcp = await startUpstreamMcpServer({ issuer: as.issuer });
    as.addResource(mcp.url);
    kh = await startKeyholeInstance({ port, dir, servers: servers() });
  });

  afterAll(async () => {
    await conn?.client.close().catch(() => undefined);
    await kh?.close();
    await mcp?.close();
    await as?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('registers nothing before it is needed', async () => {
    expect(registered).toHaveLength(0);
    expect(await kh.keyhole.store.upstreamRegistrations.find('demo', as.issuer)).toBeUndefined();
  });

  it('discovers the upstream AS through its PRM, registers by DCR, and the SDK client completes a flow', async () => {
    conn = await connectThroughKeyhole(`${kh.publicUrl}/mcp/demo`, { login: 'alice' });
    expect(registered).toHaveLength(1);
    const reg = registered[0]!;
    expect(reg.metadata).toMatchObject({
      redirect_uris: [`${kh.publicUrl}/oauth/callback`],
      grant_types: expect.arrayContaining(['authorization_code', 'refresh_token']),
      token_endpoint_auth_method: 'client_secret_basic',
      client_name: `keyhole (${kh.publicUrl})`,
    });
    const who = JSON.parse(textOf(await conn.client.callTool({ name: 'whoami', arguments: {} })));
    expect(who.sub).toBe('alice');
    expect(who.client_id).toBe(reg.clientId); // the upstream token was issued to keyhole's registered client
    expect(mcp.calls.at(-1)).toMatchObject({ tool: 'whoami', sub: 'alice', clientId: reg.clientId });
  });

  it('persists the registration with the client secret sealed, and records an event', async () => {
    const reg = registered[0]!;
    const saved = await kh.keyhole.store.upstreamRegistrations.find('demo', as.issuer);
    expect(saved).toMatchObject({ kind: 'dcr', clientId: reg.clientId, tokenEndpointAuthMethod: 'client_secret_basic' });
    expect(saved!.clientSecret).toMatch(/^eyJ[^.]*\.\.[^.]+\.[^.]+\.[^.]+$/); // compact JWE, dir
    expect(saved!.registrationAccessToken).not.toBeNull();
    expect(JSON.stringify(saved!.metadata)).not.toContain(reg.clientSecret);
    expect(dbBytes(kh.dbPath)).not.toContain(reg.clientSecret);
    const events = await kh.keyhole.store.events.list({ type: 'upstream.client_registered' });
    expect(events).toHaveLength(1);
    expect(events[0]!.detail).toMatchObject({ issuer: as.issuer, kind: 'dcr', upstream_client_id: reg.clientId });
    expect(JSON.stringify(events)).not.toContain(reg.clientSecret);
  });

  it('does not register again after a restart on the same database; grants and new flows keep working', async () => {
    await conn!.client.close().catch(() => undefined);
    const provider = conn!.provider;
    conn = undefined;
    await kh.close();
    kh = await startKeyholeInstance({ port, dir, servers: servers(), masterKey: kh.masterKey });

    // The existing grant still works through the restarted keyhole (same upstream client).
    await drainStaleConnections(kh.publicUrl);
    const again = await reconnect(`${kh.publicUrl}/mcp/demo`, provider);
    expect(JSON.parse(textOf(await again.client.callTool({ name: 'whoami', arguments: {} }))).sub).toBe('alice');
    await again.client.close();

    // A new client and user go through the whole flow, with the persisted registration.
    conn = await connectThroughKeyhole(`${kh.publicUrl}/mcp/demo`, { login: 'bob' });
    const who = JSON.parse(textOf(await conn.client.callTool({ name: 'whoami', arguments: {} })));
    expect(who.sub).toBe('bob');
    expect(who.client_id).toBe(registered[0]!.clientId);
    expect(registered).toHaveLength(1);
    expect(await kh.keyhole.store.events.list({ type: 'upstream.client_registered' })).toHaveLength(1);
  });

  it('serves its client ID metadata document (public client, keyhole callback) when a server uses MCP discovery', async () => {
    const res = await fetch(`${kh.publicUrl}/oauth/client-metadata.json`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ client_id: `${kh.publicUrl}/oauth/client-metadata.json`, token_endpoint_auth_method: 'none', redirect_uris: [`${kh.publicUrl}/oauth/callback`] });
  });
});
