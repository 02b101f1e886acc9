/**
 * Identity mode: the user signs in through the identity provider (oidc-provider), and the upstream — an SDK MCP
 * server that trusts keyhole — receives a JWT keyhole signed, which it verifies through keyhole's
 * `/.well-known/jwks.json`. Claims, header, caching and signing-key rotation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { startUpstreamAuthorizationServer, type UpstreamAs } from '../../examples/demo/upstream-authorization-server.js';
import { startUpstreamMcpServer, type UpstreamMcp } from '../../examples/demo/upstream-mcp-server.js';
import { startKeyholeInstance, type KeyholeInstance } from '../helpers/keyhole-instance.js';
import { connectThroughKeyhole, type ConnectedClient } from '../helpers/sdk-client.js';
import { freePort } from '../helpers/free-port.js';

function textOf(result: unknown): string {
  return (result as { content: Array<{ text: string }> }).content.map((c) => c.text).join('');
}

describe('identity mode: keyhole-signed JWTs verified upstream through the JWKS', () => {
  let as: UpstreamAs;
  let mcp: UpstreamMcp;
  let kh: KeyholeInstance;
  let conn: ConnectedClient;
  let dir: string;
  const idpClient = { clientId: 'keyhole', clientSecret: randomBytes(24).toString('base64url') };
  const idpTokens = new Set<string>();

  const lastJwt = () => {
    const h = mcp.seenAuthorizationHeaders.at(-1)!;
    expect(h).toMatch(/^Bearer /);
    return h.slice('Bearer '.length);
  };
  const jwks = async () => (await (await fetch(`${kh.publicUrl}/.well-known/jwks.json`)).json()) as { keys: Array<Record<string, unknown>> };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'keyhole-identity-'));
    const port = await freePort();
    const publicUrl = `http://127.0.0.1:${port}`;
    as = await startUpstreamAuthorizationServer({ clients: [{ ...idpClient, redirectUris: [`${publicUrl}/oauth/callback`] }] });
    as.provider.on('grant.success', (ctx: { body?: Record<string, unknown> }) => {
      for (const k of ['access_token', 'refresh_token', 'id_token']) if (typeof ctx.body?.[k] === 'string') idpTokens.add(ctx.body[k] as string);
    });
    mcp = await startUpstreamMcpServer({ issuer: as.issuer, trust: { jwksUrl: `${publicUrl}/.well-known/jwks.json`, issuer: publicUrl } });
    kh = await startKeyholeInstance({
      port, dir,
      servers: {
        internal: {
          displayName: 'Internal server',
          upstream: mcp.url,
          oauth: { issuer: as.issuer, ...idpClient, scopes: ['openid', 'offline_access'] },
          credential: { type: 'identity-jwt' },
        },
      },
    });
    conn = await connectThroughKeyhole(`${kh.publicUrl}/mcp/internal`, { login: 'alice' });
  });

  afterAll(async () => {
    await conn?.client.close().catch(() => undefined);
    await kh?.close();
    await mcp?.close();
    await as?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('publishes public keys only, with CORS *', async () => {
    const res = await fetch(`${kh.publicUrl}/.well-known/jwks.json`, { headers: { origin: 'https://elsewhere.example' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    const body = (await res.json()) as { keys: Array<Record<string, unknown>> };
    expect(body.keys.length).toBeGreaterThanOrEqual(2); // the active key and the next one
    for (const k of body.keys) {
      expect(k).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
      expect(typeof k.kid).toBe('string');
      expect(k).not.toHaveProperty('d');
    }
  });

  it('the upstream verifies the JWT and sees the user, the MCP client and the scopes', async () => {
    const who = JSON.parse(textOf(await conn.client.callTool({ name: 'whoami', arguments: {} })));
    const clientId = conn.provider.clientInformation()!.client_id;
    expect(who).toEqual({ sub: 'alice', client_id: clientId, scope: 'mcp' });
    expect(mcp.calls.at(-1)).toMatchObject({ tool: 'whoami', sub: 'alice', clientId });
  });

  it('signs ES256 at+jwt with kid, iss, aud = the upstream, exp − iat ≤ 300 and a jti', async () => {
    const jwt = lastJwt();
    const header = decodeProtectedHeader(jwt);
    expect(header).toMatchObject({ alg: 'ES256', typ: 'at+jwt' });
    expect((await jwks()).keys.map((k) => k.kid)).toContain(header.kid);
    expect(header.kid).toBe((await kh.keyhole.store.signingKeys.list()).find((k) => k.activatedAt !== null && k.retiredAt === null)?.kid);
    const claims = decodeJwt(jwt);
    expect(claims).toMatchObject({ iss: kh.publicUrl, aud: mcp.url, sub: 'alice', client_id: conn.provider.clientInformation()!.client_id, scope: 'mcp' });
    expect(claims.exp! - claims.iat!).toBeLessThanOrEqual(300);
    expect(claims.exp! - claims.iat!).toBeGreaterThan(0);
    expect(typeof claims.jti).toBe('string');
  });

  it('reuses the minted JWT on the hot path', async () => {
    const before = lastJwt();
    await conn.client.callTool({ name: 'echo', arguments: { text: 'hi' } });
    expect(lastJwt()).toBe(before);
  });

  it('never sends the identity provider tokens or the client token upstream', () => {
    expect(idpTokens.size).toBeGreaterThan(0);
    const clientTokens = conn.provider.tokenHistory.flatMap((t) => [t.access_token, t.refresh_token ?? '']).filter(Boolean);
    for (const h of mcp.seenAuthorizationHeaders) {
      for (const t of [...idpTokens, ...clientTokens]) expect(h).not.toContain(t);
      expect(decodeJwt(h.slice(7)).iss).toBe(kh.publicUrl);
    }
  });

  it('after rotateSigningKey() new calls verify with the new kid, and the old kid stays in the JWKS', async () => {
    const oldKid = decodeProtectedHeader(lastJwt()).kid as string;
    const newKid = await kh.keyhole.rotateSigningKey();
    expect(newKid).not.toBe(oldKid);
    const who = JSON.parse(textOf(await conn.client.callTool({ name: 'whoami', arguments: {} })));
    expect(who.sub).toBe('alice');
    expect(decodeProtectedHeader(lastJwt()).kid).toBe(newKid);
    const kids = (await jwks()).keys.map((k) => k.kid);
    expect(kids).toContain(oldKid);
    expect(kids).toContain(newKid);
    expect((await kh.keyhole.store.events.list({ type: 'identity.signing_key_rotated' })).length).toBeGreaterThanOrEqual(2);
  });

  it('keeps the signing keys sealed in the database', async () => {
    for (const k of await kh.keyhole.store.signingKeys.list()) {
      expect(k.privateKey).toMatch(/^eyJ/);
      expect(k.privateKey).not.toContain('"d"');
      expect(k.publicJwk).not.toHaveProperty('d');
    }
  });
});
