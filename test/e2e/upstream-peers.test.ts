// Proves the real upstream peers (oidc-provider AS + SDK MCP server) work on
// their own, before keyhole is put in front of them.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startUpstreamAuthorizationServer, type UpstreamAs } from '../../examples/demo/upstream-authorization-server.js';
import { startUpstreamMcpServer, type UpstreamMcp } from '../../examples/demo/upstream-mcp-server.js';
import { CookieBrowser, completeUpstreamLogin } from '../helpers/cookie-browser.js';

const CLIENT_ID = 'keyhole';
const CLIENT_SECRET = 'keyhole-secret';
const REDIRECT_URI = 'http://127.0.0.1:9/cb';
const insecure = { [oauth.allowInsecureRequests]: true } as const;

describe('upstream peers (oidc-provider + SDK MCP server)', () => {
  let as: UpstreamAs;
  let mcp: UpstreamMcp;
  let authServer: oauth.AuthorizationServer;
  const client: oauth.Client = { client_id: CLIENT_ID };
  const clientAuth = oauth.ClientSecretBasic(CLIENT_SECRET);
  let tokens: oauth.TokenEndpointResponse;
  const openClients: Client[] = [];

  beforeAll(async () => {
    // AS first (the MCP server needs its issuer), then register the MCP URL as a resource.
    as = await startUpstreamAuthorizationServer({
      clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [REDIRECT_URI] }],
    });
    mcp = await startUpstreamMcpServer({ issuer: as.issuer });
    as.addResource(mcp.url);
    const issuer = new URL(as.issuer);
    authServer = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...insecure }));
  });

  afterAll(async () => {
    for (const c of openClients) await c.close().catch(() => undefined);
    await mcp?.close();
    await as?.close();
  });

  it('serves metadata with the expected endpoints', () => {
    expect(authServer.issuer).toBe(as.issuer);
    expect(as.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(authServer.authorization_endpoint).toBe(`${as.issuer}/auth`);
    expect(authServer.token_endpoint).toBe(`${as.issuer}/token`);
    expect(authServer.revocation_endpoint).toBe(`${as.issuer}/token/revocation`);
    expect(authServer.introspection_endpoint).toBe(`${as.issuer}/token/introspection`);
    expect(authServer.registration_endpoint).toBeUndefined();
    expect(authServer.code_challenge_methods_supported).toContain('S256');
  });

  it('runs authorization code + PKCE with a resource and issues a JWT access token for the MCP URL', async () => {
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const authUrl = new URL(authServer.authorization_endpoint!);
    authUrl.search = new URLSearchParams({
      client_id: CLIENT_ID,
      response_type: 'code',
      redirect_uri: REDIRECT_URI,
      scope: 'openid offline_access mcp:tools',
      resource: mcp.url,
      state,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      prompt: 'consent',
    }).toString();

    const browser = new CookieBrowser();
    const callback = await completeUpstreamLogin(browser, authUrl, { login: 'alice', stopAt: REDIRECT_URI });
    expect(callback.searchParams.get('iss')).toBe(as.issuer);
    const params = oauth.validateAuthResponse(authServer, client, callback, state);

    const response = await oauth.authorizationCodeGrantRequest(authServer, client, clientAuth, params, REDIRECT_URI, verifier, {
      additionalParameters: { resource: mcp.url },
      ...insecure,
    });
    tokens = await oauth.processAuthorizationCodeResponse(authServer, client, response, { requireIdToken: true });

    expect(tokens.refresh_token).toEqual(expect.any(String));
    expect(tokens.token_type.toLowerCase()).toBe('bearer');
    expect(decodeProtectedHeader(tokens.access_token)).toMatchObject({ alg: 'RS256', typ: 'at+jwt' });
    const at = decodeJwt(tokens.access_token);
    expect(at).toMatchObject({ iss: as.issuer, aud: mcp.url, sub: 'alice', client_id: CLIENT_ID, scope: 'mcp:tools' });
    const claims = oauth.getValidatedIdTokenClaims(tokens);
    expect(claims?.sub).toBe('alice');
  });

  it('without a token the MCP server answers 401 invalid_token', async () => {
    const res = await fetch(mcp.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: {} }),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
    expect(await res.json()).toMatchObject({ error: 'invalid_token' });

    const wrong = await fetch(mcp.url, {
      method: 'POST',
      headers: { authorization: 'Bearer not-a-jwt', 'content-type': 'application/json' },
      body: '{}',
    });
    expect(wrong.status).toBe(401);
  });

  it('lists tools and calls whoami with the upstream access token', async () => {
    const transport = new StreamableHTTPClientTransport(new URL(mcp.url), {
      requestInit: { headers: { Authorization: `Bearer ${tokens.access_token}` } },
    });
    const mcpClient = new Client({ name: 'upstream-peers-test', version: '1.0.0' });
    openClients.push(mcpClient);
    await mcpClient.connect(transport);
    expect(transport.sessionId).toEqual(expect.any(String));

    const { tools } = await mcpClient.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['count', 'create_issue', 'delete_issue', 'echo', 'list_issues', 'whoami']);

    const result = await mcpClient.callTool({ name: 'whoami', arguments: {} });
    const content = result.content as Array<{ type: string; text: string }>;
    expect(JSON.parse(content[0]!.text)).toEqual({ sub: 'alice', client_id: CLIENT_ID, scope: 'mcp:tools' });

    const progress: number[] = [];
    const counted = await mcpClient.callTool({ name: 'count', arguments: { n: 3, delayMs: 5 } }, undefined, {
      onprogress: (p) => progress.push(p.progress),
    });
    expect((counted.content as Array<{ text: string }>)[0]!.text).toBe('counted 3');
    expect(progress).toEqual([1, 2, 3]);

    expect(mcp.calls).toEqual([
      { tool: 'whoami', sub: 'alice', clientId: CLIENT_ID },
      { tool: 'count', sub: 'alice', clientId: CLIENT_ID },
    ]);
    expect(mcp.seenAuthorizationHeaders).toContain(`Bearer ${tokens.access_token}`);

    await transport.terminateSession();
    await mcpClient.close();
  });

  it('rotates the refresh token; a revoked refresh token introspects as inactive', async () => {
    const oldRefresh = tokens.refresh_token!;
    const response = await oauth.refreshTokenGrantRequest(authServer, client, clientAuth, oldRefresh, {
      additionalParameters: { resource: mcp.url },
      ...insecure,
    });
    const refreshed = await oauth.processRefreshTokenResponse(authServer, client, response);
    expect(refreshed.refresh_token).toEqual(expect.any(String));
    expect(refreshed.refresh_token).not.toBe(oldRefresh);
    expect(decodeJwt(refreshed.access_token)).toMatchObject({ aud: mcp.url, sub: 'alice' });

    const creds = { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET };
    expect(await as.introspect(refreshed.refresh_token!, creds)).toMatchObject({ active: true, sub: 'alice' });
    // The rotated-away refresh token is consumed already.
    expect(await as.introspect(oldRefresh, creds)).toMatchObject({ active: false });

    const revoke = await oauth.revocationRequest(authServer, client, clientAuth, refreshed.refresh_token!, insecure);
    expect(revoke.url).toBe(`${as.issuer}/token/revocation`);
    await oauth.processRevocationResponse(revoke);
    expect(await as.introspect(refreshed.refresh_token!, creds)).toEqual({ active: false });
  });

  it('rejects an unknown resource with invalid_target', async () => {
    const url = new URL(authServer.authorization_endpoint!);
    url.search = new URLSearchParams({
      client_id: CLIENT_ID,
      response_type: 'code',
      redirect_uri: REDIRECT_URI,
      scope: 'openid mcp:tools',
      resource: 'http://127.0.0.1:1/other',
      code_challenge: await oauth.calculatePKCECodeChallenge(oauth.generateRandomCodeVerifier()),
      code_challenge_method: 'S256',
    }).toString();
    const browser = new CookieBrowser();
    const { finalUrl } = await browser.follow(url, { stopWhen: (u) => u.href.startsWith(REDIRECT_URI) });
    expect(finalUrl.searchParams.get('error')).toBe('invalid_target');
  });

  it('requires PKCE even for the confidential client', async () => {
    const url = new URL(authServer.authorization_endpoint!);
    url.search = new URLSearchParams({
      client_id: CLIENT_ID,
      response_type: 'code',
      redirect_uri: REDIRECT_URI,
      scope: 'openid mcp:tools',
    }).toString();
    const { finalUrl } = await new CookieBrowser().follow(url, { stopWhen: (u) => u.href.startsWith(REDIRECT_URI) });
    expect(finalUrl.searchParams.get('error')).toBe('invalid_request');
  });

  it('close() frees the ports', async () => {
    const extraAs = await startUpstreamAuthorizationServer({ clients: [], registration: true });
    const port = extraAs.port;
    const meta = (await (await fetch(`${extraAs.issuer}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    expect(meta.registration_endpoint).toBe(`${extraAs.issuer}/reg`);
    await extraAs.close();
    const again = await startUpstreamAuthorizationServer({ clients: [], port });
    expect(again.port).toBe(port);
    await again.close();
  });
});
