/**
 * Upstream authorization-server failures as the MCP client sees them.
 * - invalid_grant from the real oidc-provider (its refresh token revoked behind keyhole's back): the grant
 *   ends everywhere and the client gets 401 with the challenge, so it re-authorizes.
 * - A 503 from the token endpoint (msw: a real peer cannot be made to fail on demand): a transient JSON-RPC
 *   error, the grant survives, and the first call after recovery and after the refresh backoff works.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SetupServerCommonApi } from 'msw/node';
import { FetchInterceptor } from '@mswjs/interceptors/fetch';
import { http, HttpResponse } from 'msw';
import { startStack, type Stack } from '../helpers/stack.js';
import { connectThroughKeyhole, type ConnectedClient } from '../helpers/sdk-client.js';
import { VaultCipher, keyringFromMasterKey } from '../../src/store/crypto/vault-cipher.js';
import { sealContext } from '../../src/upstream/seal-context.js';

const TTL = 2;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One MCP request; the SSE body is not read (aborting is reliable under msw's fetch interceptor, cancel() is not). */
async function call(stack: Stack, token: string) {
  const ac = new AbortController();
  const res = await fetch(stack.mcpUrl, {
    signal: ac.signal,
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } } }),
  });
  const status = res.status;
  const headers = res.headers;
  const json = status === 200 ? undefined : await res.json();
  ac.abort();
  return { status, headers, json: async () => json };
}

describe('upstream authorization server failures', () => {
  let stack: Stack;
  let conn: ConnectedClient;
  // Only global fetch is intercepted (oauth4webapi's transport). msw's default setupServer also patches
  // node:http, which would sit inside keyhole's own forwarder and change what is being tested.
  const mock = new SetupServerCommonApi([new FetchInterceptor()], []);

  beforeAll(async () => {
    stack = await startStack({ upstreamAccessTokenTtlSeconds: TTL, config: { tokens: { upstreamRefreshSkewSeconds: 0 } } });
    conn = await connectThroughKeyhole(stack.mcpUrl, { login: 'erin' });
    mock.listen({ onUnhandledRequest: 'bypass' });
  });
  afterAll(async () => {
    mock.close();
    await conn?.client.close().catch(() => undefined);
    await stack?.close();
  });

  it('a 503 from the upstream token endpoint is transient: 502 JSON-RPC error, grant kept, recovers', async () => {
    const grant = (await stack.keyhole.store.grants.list({ status: 'active' }))[0]!;
    mock.use(http.post(`${stack.as.issuer}/token`, () => HttpResponse.json({ error: 'temporarily_unavailable' }, { status: 503 })));
    await sleep((TTL + 1) * 1000);
    const res = await call(stack, conn.provider.tokens()!.access_token);
    expect(res.status).toBe(502);
    const body = (await res.json()) as { error: { message: string } };
    expect(body).toEqual({ jsonrpc: '2.0', error: { code: -32008, message: 'upstream authorization server unavailable' }, id: null });
    expect(JSON.stringify(body)).not.toMatch(/127\.0\.0\.1|ECONN|at /);
    expect((await stack.keyhole.store.grants.find(grant.id))!.status).toBe('active');
    const failed = await stack.keyhole.store.events.list({ type: 'upstream.refresh_failed' });
    expect(failed[0]).toMatchObject({ outcome: 'failure', grantId: grant.id, detail: { fatal: false } });
    expect((await stack.keyhole.store.upstreamCredentials.find(grant.id))!.refreshFailingSince).not.toBeNull();

    mock.resetHandlers();
    // Refreshes towards this server back off after a failure (2 s ± 20 %): refused at once meanwhile, without asking it.
    expect((await call(stack, conn.provider.tokens()!.access_token)).status).toBe(502);
    // Once the backoff has passed (2 s ± 20 % after one failure, doubling after more: its exact end depends on
    // how many trials failed meanwhile), the next call refreshes and succeeds. Poll rather than guess the moment.
    let ok = await call(stack, conn.provider.tokens()!.access_token);
    for (const deadline = Date.now() + 20_000; ok.status !== 200 && Date.now() < deadline;) {
      expect(ok.status).toBe(502); // refused while backing off, never anything else
      await sleep(500);
      ok = await call(stack, conn.provider.tokens()!.access_token);
    }
    expect(ok.status).toBe(200);
    expect((await stack.keyhole.store.upstreamCredentials.find(grant.id))!.refreshFailingSince).toBeNull();
  });

  it('upstream invalid_grant ends the grant and the client gets 401 with the challenge', async () => {
    const grant = (await stack.keyhole.store.grants.list({ status: 'active' }))[0]!;
    // Revoke keyhole's upstream refresh token directly at oidc-provider (as if the user removed the app there).
    const cipher = new VaultCipher(keyringFromMasterKey(stack.masterKey));
    const sealed = (await stack.keyhole.store.upstreamCredentials.find(grant.id))!.refreshToken!;
    const upstreamRefresh = await cipher.open(sealed, sealContext.refresh(grant.id));
    const revoked = await fetch(`${stack.as.issuer}/token/revocation`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${stack.upstreamClient.clientId}:${stack.upstreamClient.clientSecret}`).toString('base64')}` },
      body: new URLSearchParams({ token: upstreamRefresh, token_type_hint: 'refresh_token' }),
    });
    expect(revoked.status).toBe(200);
    await sleep((TTL + 1) * 1000);

    const res = await call(stack, conn.provider.tokens()!.access_token);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(
      `Bearer error="invalid_token", error_description="the upstream authorization has ended", resource_metadata="${stack.publicUrl}/.well-known/oauth-protected-resource/mcp/demo", scope="mcp"`,
    );
    const after = (await stack.keyhole.store.grants.find(grant.id))!;
    expect(after.status).toBe('revoked');
    expect(after.statusReason).toBe('upstream_invalid_grant');
    expect(await stack.keyhole.store.upstreamCredentials.find(grant.id)).toBeUndefined();
    expect((await stack.keyhole.store.events.list({ type: 'upstream.refresh_failed' }))[0]).toMatchObject({ detail: { fatal: true, reason: 'invalid_grant' } });
    // The SDK client's keyhole refresh token is dead too: it must re-authorize.
    const refresh = await fetch(`${stack.publicUrl}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: conn.provider.tokens()!.refresh_token!, client_id: (conn.provider.clientInformation() as { client_id: string }).client_id }),
    });
    expect(((await refresh.json()) as { error: string }).error).toBe('invalid_grant');
  });
});
