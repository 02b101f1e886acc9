/**
 * Static credentials: the user signs in through the identity provider, and keyhole injects one API key (sealed in
 * the vault) in the configured header on every forwarded request. The upstream never sees keyhole's token, the
 * client's header or the identity provider's tokens; the database holds only the sealed key.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startUpstreamAuthorizationServer, type UpstreamAs } from '../../examples/demo/upstream-authorization-server.js';
import { startUpstreamMcpServer, type UpstreamMcp } from '../../examples/demo/upstream-mcp-server.js';
import { startKeyholeInstance, type KeyholeInstance } from '../helpers/keyhole-instance.js';
import { CapturingProvider, connectThroughKeyhole, type ConnectedClient } from '../helpers/sdk-client.js';
import { freePort } from '../helpers/free-port.js';

function textOf(result: unknown): string {
  return (result as { content: Array<{ text: string }> }).content.map((c) => c.text).join('');
}

const INITIALIZE = JSON.stringify({
  jsonrpc: '2.0', id: 1, method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
});

describe('static credential: an API key from the vault in a header', () => {
  let as: UpstreamAs;
  let mcp: UpstreamMcp;
  let kh: KeyholeInstance;
  let conn: ConnectedClient;
  let dir: string;
  const apiKey = `sk_live_${randomBytes(24).toString('hex')}`;
  const idpClient = { clientId: 'keyhole', clientSecret: randomBytes(24).toString('base64url') };
  const idpTokens = new Set<string>();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'keyhole-static-'));
    const port = await freePort();
    const publicUrl = `http://127.0.0.1:${port}`;
    as = await startUpstreamAuthorizationServer({ clients: [{ ...idpClient, redirectUris: [`${publicUrl}/oauth/callback`] }] });
    as.provider.on('grant.success', (ctx: { body?: Record<string, unknown> }) => {
      for (const k of ['access_token', 'refresh_token', 'id_token']) if (typeof ctx.body?.[k] === 'string') idpTokens.add(ctx.body[k] as string);
    });
    mcp = await startUpstreamMcpServer({ issuer: as.issuer, apiKey: { header: 'X-API-Key', value: apiKey } });
    const idp = { issuer: as.issuer, ...idpClient, scopes: ['openid', 'offline_access'] };
    kh = await startKeyholeInstance({
      port, dir,
      env: { SAAS_API_KEY: apiKey, WRONG_API_KEY: 'sk_wrong_0123456789' },
      servers: {
        saas: { upstream: mcp.url, oauth: idp, credential: { type: 'static', header: 'X-API-Key', value: '${SAAS_API_KEY}' } },
        wrong: { upstream: mcp.url, oauth: idp, credential: { type: 'static', header: 'X-API-Key', value: '${WRONG_API_KEY}' } },
      },
    });
    conn = await connectThroughKeyhole(`${kh.publicUrl}/mcp/saas`, { login: 'alice' });
  });

  afterAll(async () => {
    await conn?.client.close().catch(() => undefined);
    await kh?.close();
    await mcp?.close();
    await as?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('calls the upstream with the API key after the user signed in at the identity provider', async () => {
    const who = JSON.parse(textOf(await conn.client.callTool({ name: 'whoami', arguments: {} })));
    expect(who.sub).toBe('api-key'); // the upstream knows only the key
    expect((await kh.keyhole.store.grants.list({ server: 'saas' }))[0]).toMatchObject({ subject: 'alice', status: 'active' }); // keyhole knows who
  });

  it('the upstream sees the API key header, never keyhole\'s token, the client\'s or the identity provider\'s', () => {
    expect(mcp.seenRequestHeaders.length).toBeGreaterThan(0);
    const clientTokens = conn.provider.tokenHistory.flatMap((t) => [t.access_token, t.refresh_token ?? '']).filter(Boolean);
    for (const h of mcp.seenRequestHeaders) {
      expect(h['x-api-key']).toBe(apiKey);
      expect(h.authorization).toBeUndefined();
      const all = JSON.stringify(h);
      for (const t of [...clientTokens, ...idpTokens]) expect(all).not.toContain(t);
    }
    expect(mcp.seenAuthorizationHeaders).toEqual([]);
  });

  it('replaces an API key header the client sends with the vault\'s', async () => {
    const token = conn.provider.tokens()!.access_token;
    const res = await fetch(`${kh.publicUrl}/mcp/saas`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'x-api-key': 'sk_forged_by_client', 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: INITIALIZE,
    });
    expect(res.status).toBe(200);
    await res.body?.cancel();
    const last = mcp.seenRequestHeaders.at(-1)!;
    expect(last['x-api-key']).toBe(apiKey);
    expect(JSON.stringify(last)).not.toContain('sk_forged_by_client');
  });

  it('keeps only the sealed key in the database', async () => {
    const sealed = await kh.keyhole.store.sealedSecrets.find('static-credential:saas');
    expect(sealed).toMatch(/^eyJ/);
    expect(sealed).not.toContain(apiKey);
    const bytes = [kh.dbPath, `${kh.dbPath}-wal`].filter(existsSync).map((f) => readFileSync(f)).map((b) => b.toString('latin1')).join('');
    expect(bytes).toContain('static-credential:saas');
    expect(bytes).not.toContain(apiKey);
    expect(kh.logs.join('\n')).not.toContain(apiKey);
  });

  it('answers 502 (not a re-authorization) when the upstream refuses the key, and records it', async () => {
    const provider = new CapturingProvider();
    // The SDK client signs in, then its initialize is refused upstream: keyhole answers 502, so connect fails.
    await expect(connectThroughKeyhole(`${kh.publicUrl}/mcp/wrong`, { login: 'alice', provider })).rejects.toThrow();
    const res = await fetch(`${kh.publicUrl}/mcp/wrong`, {
      method: 'POST',
      headers: { authorization: `Bearer ${provider.tokens()!.access_token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: INITIALIZE,
    });
    expect(res.status).toBe(502);
    expect(res.headers.get('www-authenticate')).toBeNull();
    await res.body?.cancel();
    const events = await kh.keyhole.store.events.list({ type: 'upstream.credential_rejected', server: 'wrong' });
    expect(events.length).toBeGreaterThan(0);
    expect(events[0]!.detail).toEqual({ kind: 'static', header: 'X-API-Key' });
    expect(JSON.stringify(events)).not.toContain('sk_wrong');
  });
});
