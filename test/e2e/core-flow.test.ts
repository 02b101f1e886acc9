/**
 * The core flow end to end with real peers: the SDK client (its own discovery, DCR, PKCE, token and refresh
 * code) → keyhole's consent page → oidc-provider's login and consent → keyhole's code → tools through the
 * forwarder to an SDK MCP server that verifies the upstream JWT's audience. Then an upstream refresh, 50
 * concurrent calls with one refresh, revocation, and the canary: no token value in SQLite, events or logs.
 */
import { loadSharedKey } from '../../src/vault/shared-keys.js';
import { sha256Hex } from '../../src/store/crypto/hash.js';
import { VaultCipher, keyringFromMasterKey } from '../../src/store/crypto/vault-cipher.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { startStack, type Stack } from '../helpers/stack.js';
import { connectThroughKeyhole, reconnect, type ConnectedClient } from '../helpers/sdk-client.js';

const UPSTREAM_TTL = 4;

function textOf(result: unknown): string {
  const content = (result as { content: Array<{ type: string; text: string }> }).content;
  return content.map((c) => c.text).join('');
}

async function eventsOf(stack: Stack, type: string): Promise<Array<Record<string, unknown>>> {
  return await stack.keyhole.store.events.list({ type, limit: 500 }) as unknown as Array<Record<string, unknown>>;
}

describe('core flow with real peers', () => {
  let stack: Stack;
  let conn: ConnectedClient;
  /** Every token value seen during the suite: keyhole's and the upstream's. */
  const secrets = new Set<string>();

  beforeAll(async () => {
    stack = await startStack({ upstreamAccessTokenTtlSeconds: UPSTREAM_TTL, config: { tokens: { upstreamRefreshSkewSeconds: 1 } } });
    // Capture every upstream token oidc-provider issues (access and refresh), for the canary.
    stack.as.provider.on('grant.success', (ctx: { oidc?: unknown; body?: Record<string, unknown> }) => {
      for (const k of ['access_token', 'refresh_token', 'id_token']) if (typeof ctx.body?.[k] === 'string') secrets.add(ctx.body[k] as string);
    });
    conn = await connectThroughKeyhole(stack.mcpUrl, { login: 'alice' });
    const code = conn.consent.clientRedirect.searchParams.get('code');
    if (code) secrets.add(code);
  });

  afterAll(async () => {
    await conn?.client.close().catch(() => undefined);
    await stack?.close();
  });

  it('shows keyhole consent naming the client, its redirect host, the server and the scopes', () => {
    const html = conn.consent.consentHtml;
    expect(html).toContain('keyhole e2e client');
    expect(html).toContain('127.0.0.1:9');
    expect(html).toContain(stack.mcpUrl);
    expect(html).toMatch(/<code>mcp<\/code>/);
    expect(conn.consent.clientRedirect.searchParams.get('iss')).toBe(stack.publicUrl);
  });

  it('lists and calls upstream tools as the signed-in upstream user', async () => {
    const tools = await conn.client.listTools();
    expect(tools.tools.map((t) => t.name).sort()).toEqual(['count', 'create_issue', 'delete_issue', 'echo', 'list_issues', 'whoami']);
    const who = JSON.parse(textOf(await conn.client.callTool({ name: 'whoami', arguments: {} })));
    expect(who.sub).toBe('alice');
    expect(who.client_id).toBe('keyhole');
    expect(stack.mcp.calls.at(-1)).toMatchObject({ tool: 'whoami', sub: 'alice' });
  });

  it('never sends the client token upstream, and never returns the upstream token to the client', () => {
    const keyholeTokens = conn.provider.tokenHistory.flatMap((t) => [t.access_token, t.refresh_token ?? '']).filter(Boolean);
    expect(keyholeTokens.length).toBeGreaterThan(0);
    for (const h of stack.mcp.seenAuthorizationHeaders) {
      expect(h).toMatch(/^Bearer eyJ/); // the upstream JWT
      for (const t of keyholeTokens) expect(h).not.toContain(t);
    }
    for (const t of conn.provider.tokenHistory) expect(t.access_token.startsWith('kh_at_')).toBe(true);
  });

  it('streams progress notifications through keyhole', async () => {
    const seen: number[] = [];
    const result = await conn.client.callTool({ name: 'count', arguments: { n: 3, delayMs: 20 } }, undefined, {
      onprogress: (p) => seen.push(p.progress),
    });
    expect(textOf(result)).toBe('counted 3');
    expect(seen).toEqual([1, 2, 3]);
  });

  it('refreshes the upstream token after it expires, transparently', async () => {
    const before = (await eventsOf(stack, 'upstream.token_refreshed')).length;
    await new Promise((r) => setTimeout(r, (UPSTREAM_TTL + 1) * 1000));
    const who = JSON.parse(textOf(await conn.client.callTool({ name: 'whoami', arguments: {} })));
    expect(who.sub).toBe('alice');
    expect((await eventsOf(stack, 'upstream.token_refreshed')).length).toBe(before + 1);
  });

  it('makes exactly one upstream refresh for 50 concurrent calls with an expired upstream token', async () => {
    const before = (await eventsOf(stack, 'upstream.token_refreshed')).length;
    let upstreamRefreshes = 0;
    const onGrant = (ctx: { oidc?: { params?: { grant_type?: string } } }) => {
      if (ctx.oidc?.params?.grant_type === 'refresh_token') upstreamRefreshes += 1;
    };
    stack.as.provider.on('grant.success', onGrant);
    await new Promise((r) => setTimeout(r, (UPSTREAM_TTL + 1) * 1000));
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => conn.client.callTool({ name: 'echo', arguments: { text: `n${i}` } })));
    stack.as.provider.off('grant.success', onGrant);
    expect(results.map(textOf)).toEqual(Array.from({ length: 50 }, (_, i) => expect.stringContaining(`n${i}`)));
    expect(upstreamRefreshes).toBe(1);
    expect((await eventsOf(stack, 'upstream.token_refreshed')).length).toBe(before + 1);
  });

  it('answers /token over a real socket with no-store, Pragma and CORS, and refuses bodies over the limit with 413, declared or chunked', async () => {
    const post = (body: BodyInit, headers: Record<string, string> = {}) => fetch(`${stack.publicUrl}/token`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body, duplex: 'half',
    } as RequestInit);
    const refused = await post(new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'kh_rt_unknown', client_id: conn.provider.clientInformation()!.client_id }));
    expect(refused.status).toBe(400);
    expect((await refused.json() as { error: string }).error).toBe('invalid_grant');
    const oversize = `grant_type=refresh_token&refresh_token=${'a'.repeat(70 * 1024)}`;
    const declared = await post(oversize); // fetch sends a Content-Length
    const chunked = await post(new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode(oversize)); c.close(); } }));
    for (const [res, status] of [[refused, 400], [declared, 413], [chunked, 413]] as const) {
      expect(res.status).toBe(status);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('pragma')).toBe('no-cache');
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
    }
    for (const res of [declared, chunked]) expect((await res.json() as { error: string }).error).toBe('invalid_request');
  });

  it('refreshes keyhole tokens for the SDK client (rotation) and keeps working', async () => {
    const tokens = conn.provider.tokens()!;
    const info = conn.provider.clientInformation()!;
    const res = await fetch(`${stack.publicUrl}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token!, client_id: info.client_id }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as { access_token: string; refresh_token: string; token_type: string; scope: string };
    expect(body.token_type).toBe('Bearer');
    expect(body.refresh_token).not.toBe(tokens.refresh_token);
    conn.provider.saveTokens({ ...tokens, access_token: body.access_token, refresh_token: body.refresh_token });
    await conn.client.close();
    conn = { ...conn, ...(await reconnect(stack.mcpUrl, conn.provider)) };
    const who = JSON.parse(textOf(await conn.client.callTool({ name: 'whoami', arguments: {} })));
    expect(who.sub).toBe('alice');
  });

  it('revokes the grant through /revoke: the next call gets 401 with the challenge, the refresh token invalid_grant', async () => {
    const tokens = conn.provider.tokens()!;
    const info = conn.provider.clientInformation()!;
    const grantId = (await stack.keyhole.store.grants.list({ status: 'active' }))[0]!.id;
    const res = await fetch(`${stack.publicUrl}/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: tokens.refresh_token!, token_type_hint: 'refresh_token', client_id: info.client_id }),
    });
    expect(res.status).toBe(200);
    expect((await stack.keyhole.store.grants.find(grantId))?.status).toBe('revoked');
    expect(await stack.keyhole.store.upstreamCredentials.find(grantId)).toBeUndefined();

    const call = await fetch(stack.mcpUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.access_token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
    });
    expect(call.status).toBe(401);
    expect(call.headers.get('www-authenticate')).toBe(
      `Bearer error="invalid_token", error_description="the access token has been revoked", resource_metadata="${stack.publicUrl}/.well-known/oauth-protected-resource/mcp/demo", scope="mcp"`,
    );
    const refresh = await fetch(`${stack.publicUrl}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token!, client_id: info.client_id }),
    });
    expect(refresh.status).toBe(400);
    expect(((await refresh.json()) as { error: string }).error).toBe('invalid_grant');
    // The upstream refresh token was revoked at oidc-provider (RFC 7009), and the outcome recorded.
    const revocation = (await eventsOf(stack, 'upstream.revocation'))[0];
    expect(revocation).toMatchObject({ outcome: 'success', grantId });
  });

  it('records the lifecycle as events with fingerprints only', async () => {
    const types = new Set((await stack.keyhole.store.events.list({ limit: 500 })).map((e) => e.type));
    for (const t of ['client.registered', 'consent.approved', 'grant.created', 'upstream.authorized', 'code.issued', 'code.redeemed', 'token.issued', 'token.refreshed', 'upstream.token_refreshed', 'grant.revoked', 'upstream.revocation']) {
      expect(types, t).toContain(t);
    }
    const issued = (await stack.keyhole.store.events.list({ type: 'token.issued' }))[0]!;
    expect(issued.detail.access_fp).toMatch(/^fp_[0-9a-f]{12}$/);
  });

  it('canary: no token value issued during the suite is in the SQLite files, the events or the logs', async () => {
    // The shared consent CSRF / step-up key (src/vault/shared-keys.ts) is a secret too: sealed only.
    const consentKey = await loadSharedKey(stack.keyhole.store, new VaultCipher(keyringFromMasterKey(stack.masterKey)), 'consent-csrf', 0);
    secrets.add(consentKey.toString('base64url'));
    secrets.add(consentKey.toString('hex'));
    for (const t of conn.provider.tokenHistory) {
      secrets.add(t.access_token);
      if (t.refresh_token) secrets.add(t.refresh_token);
    }
    for (const h of stack.mcp.seenAuthorizationHeaders) secrets.add(h.replace(/^Bearer /, ''));
    // The upstream's MCP session ids are secrets too (an upstream may treat one as a capability): bound to their grant
    // in the database (src/proxy/session-binding.ts) by SHA-256 only.
    const sessionIds = new Set(stack.mcp.seenRequestHeaders.map((h) => h['mcp-session-id']).filter((v): v is string => typeof v === 'string'));
    expect(sessionIds.size).toBeGreaterThan(0);
    let bound = 0;
    for (const id of sessionIds) {
      secrets.add(id);
      if (await stack.keyhole.store.mcpSessions.find(sha256Hex(`${new URL(stack.mcp.url).href} ${id}`))) bound++;
    }
    expect(bound, 'session bindings stored by hash').toBeGreaterThan(0);
    const values = [...secrets].filter((s) => s.length >= 16);
    expect(values.length).toBeGreaterThan(6);
    // Checkpoint nothing: read the raw bytes of the database, its WAL and shared memory as they are.
    const files = [stack.dbPath, `${stack.dbPath}-wal`, `${stack.dbPath}-shm`].filter((f) => existsSync(f)).map((f) => readFileSync(f).toString('latin1'));
    const db = new Database(stack.dbPath, { readonly: true });
    const eventRows = JSON.stringify(db.prepare('SELECT * FROM events').all());
    db.close();
    const logs = stack.logs.join('\n');
    expect(stack.logs.length).toBeGreaterThan(10);
    for (const v of values) {
      const probe = v.slice(0, 24);
      for (const f of files) expect(f.includes(probe), 'token bytes found in SQLite file').toBe(false);
      expect(eventRows.includes(probe), 'token in events').toBe(false);
      expect(logs.includes(probe), 'token in logs').toBe(false);
    }
  });
});
