/**
 * Client ID Metadata Documents end to end: a local HTTPS server (self-signed certificate trusted through
 * `cimd.extraCa`) serves the document; the SDK client uses its `clientMetadataUrl` as client_id (it does so because
 * keyhole's AS metadata says `client_id_metadata_document_supported: true`), goes through keyhole's consent, the
 * upstream login (oidc-provider) and calls a tool. Then every SSRF and validation refusal, on a real fetch.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../helpers/stack.js';
import { CapturingProvider, connectThroughKeyhole, type ConnectedClient } from '../helpers/sdk-client.js';
import { CookieBrowser } from '../helpers/cookie-browser.js';
import { startDocumentServer, type DocumentServer } from '../helpers/https-document-server.js';

/** RFC 7636 Appendix B. */
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

/** The SDK provider of a client that identifies itself by a metadata document URL. */
class CimdProvider extends CapturingProvider {
  constructor(readonly clientMetadataUrl: string, redirectUrl: string) {
    super(redirectUrl, 'ignored: the document names the client');
  }
}

function textOf(result: unknown): string {
  return (result as { content: Array<{ text: string }> }).content.map((c) => c.text).join('');
}

function authorizeUrl(stack: Stack, clientId: string, redirectUri = 'http://localhost:51234/callback'): string {
  const q = new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: redirectUri, code_challenge: CHALLENGE, code_challenge_method: 'S256', state: 'st', resource: stack.mcpUrl });
  return `${stack.publicUrl}/authorize?${q}`;
}

/** GET /authorize and expect keyhole's error page (never a redirect). */
async function expectRefusalPage(stack: Stack, clientId: string, why: RegExp, redirectUri?: string): Promise<string> {
  const res = await fetch(authorizeUrl(stack, clientId, redirectUri), { redirect: 'manual' });
  const html = await res.text();
  expect(res.headers.get('location')).toBeNull();
  expect(res.status).toBe(400);
  expect(res.headers.get('content-type')).toMatch(/text\/html/);
  expect(html).toContain('invalid_client');
  expect(decode(html)).toMatch(why);
  return html;
}

function decode(html: string): string {
  return html.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>');
}

describe('client ID metadata documents, end to end', () => {
  let docs: DocumentServer;
  let stack: Stack;
  let conn: ConnectedClient;
  let docUrl: string;
  /** Claude Code's shape: a portless loopback redirect, then an ephemeral port at authorize. */
  const ephemeralRedirect = 'http://localhost:47213/callback';

  beforeAll(async () => {
    docs = await startDocumentServer();
    docUrl = docs.url('/oauth/client-metadata.json');
    docs.json('/oauth/client-metadata.json', {
      client_id: docUrl,
      client_name: 'CIMD e2e client',
      client_uri: docs.url('/'),
      redirect_uris: ['http://localhost/callback'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    }, { 'cache-control': 'max-age=300' });
    stack = await startStack({ config: { cimd: { allowPrivateAddresses: true, extraCa: docs.cert.certPath, timeoutMs: 1_000 } } });
    conn = await connectThroughKeyhole(stack.mcpUrl, { login: 'carol', provider: new CimdProvider(docUrl, ephemeralRedirect) });
  });

  afterAll(async () => {
    await conn?.client.close().catch(() => undefined);
    await stack?.close();
    await docs?.close();
  });

  it('advertises client_id_metadata_document_supported with "none" among the auth methods', async () => {
    const meta = (await (await fetch(`${stack.publicUrl}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    expect(meta.client_id_metadata_document_supported).toBe(true);
    expect(meta.token_endpoint_auth_methods_supported).toContain('none');
  });

  it('the SDK used the document URL as client_id (no registration), and keyhole consent marks it "verified domain"', async () => {
    expect(conn.provider.clientInformation()?.client_id).toBe(docUrl);
    expect((await stack.keyhole.store.clients.list()).filter((c) => c.kind === 'dcr')).toHaveLength(0);
    const html = conn.consent.consentHtml;
    expect(html).toContain('CIMD e2e client');
    expect(html).toContain(`verified domain localhost:${docs.port}`);
    expect(html).not.toContain('unverified');
    // The ephemeral-port loopback redirect matched the portless registered one (RFC 8252 §7.3).
    expect(conn.consent.clientRedirect.href.startsWith(ephemeralRedirect)).toBe(true);
  });

  it('completes the flow: the tool call runs as the upstream user', async () => {
    const who = JSON.parse(textOf(await conn.client.callTool({ name: 'whoami', arguments: {} })));
    expect(who.sub).toBe('carol');
  });

  it('persists a cimd client (id = URL) with a client.registered event, and fetched the document once', async () => {
    const client = await stack.keyhole.store.clients.find(docUrl);
    expect(client).toMatchObject({ clientId: docUrl, kind: 'cimd', secretHash: null });
    expect(client!.metadata).toMatchObject({ client_name: 'CIMD e2e client', redirect_uris: ['http://localhost/callback'], token_endpoint_auth_method: 'none' });
    const registered = await stack.keyhole.store.events.list({ type: 'client.registered', clientId: docUrl });
    expect(registered).toHaveLength(1);
    expect(registered[0]!.detail).toMatchObject({ kind: 'cimd' });
    const grants = await stack.keyhole.store.grants.list({ clientId: docUrl });
    expect(grants).toHaveLength(1);
    // /authorize fetched it; /token used the cached document (max-age=300).
    expect(docs.hits.get('/oauth/client-metadata.json')).toBe(1);
  });

  it('refreshes and revokes with the URL client_id (public client, no secret)', async () => {
    const refreshToken = conn.provider.tokens()!.refresh_token!;
    const refreshed = await fetch(`${stack.publicUrl}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: docUrl }),
    });
    expect(refreshed.status).toBe(200);
    const pair = (await refreshed.json()) as { refresh_token: string };
    const withSecret = await fetch(`${stack.publicUrl}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${encodeURIComponent(docUrl)}:guess`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: pair.refresh_token }),
    });
    expect(withSecret.status).toBe(401);
    expect(((await withSecret.json()) as { error: string }).error).toBe('invalid_client');
    const revoked = await fetch(`${stack.publicUrl}/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: pair.refresh_token, client_id: docUrl }),
    });
    expect(revoked.status).toBe(200);
    expect((await stack.keyhole.store.grants.list({ clientId: docUrl }))[0]!.status).toBe('revoked');
  });

  it('answers invalid_client at /token for a URL client_id that never authorized, without fetching it', async () => {
    docs.json('/never.json', { client_id: docs.url('/never.json'), redirect_uris: ['http://localhost/callback'] });
    const res = await fetch(`${stack.publicUrl}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: 'kh_code_nothing', code_verifier: 'x'.repeat(43), client_id: docs.url('/never.json') }),
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: string }).error).toBe('invalid_client');
    expect(docs.hits.get('/never.json')).toBeUndefined();
  });

  it('shows a DCR client as "unverified" on the consent page', async () => {
    const reg = await fetch(`${stack.publicUrl}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: 'Dynamic client', redirect_uris: ['http://127.0.0.1:9/cb'], token_endpoint_auth_method: 'none' }),
    });
    const { client_id } = (await reg.json()) as { client_id: string };
    const page = await new CookieBrowser().get(authorizeUrl(stack, client_id, 'http://127.0.0.1:9/cb'));
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(html).toContain('unverified');
    expect(html).not.toContain('verified domain');
  });

  it('re-fetches a no-store document on every authorization', async () => {
    const url = docs.url('/nostore.json');
    docs.json('/nostore.json', { client_id: url, client_name: 'No store', redirect_uris: ['http://localhost/callback'] }, { 'cache-control': 'no-store' });
    for (let i = 0; i < 2; i++) {
      const page = await new CookieBrowser().get(authorizeUrl(stack, url));
      expect(page.status).toBe(200);
      await page.body?.cancel();
    }
    expect(docs.hits.get('/nostore.json')).toBe(2);
  });

  describe('refusals (an error page, never a redirect)', () => {
    it('refuses a redirect (302 to a valid document)', async () => {
      docs.route('/redirecting.json', (_req, res) => res.writeHead(302, { location: '/oauth/client-metadata.json' }).end());
      await expectRefusalPage(stack, docs.url('/redirecting.json'), /302 \(a redirect\): redirects are not followed/);
    });

    it('refuses an oversized document (> 5 KB), declared or streamed', async () => {
      const big = (url: string) => JSON.stringify({ client_id: url, client_name: 'Big', redirect_uris: ['http://localhost/callback'], padding: 'x'.repeat(6_000) });
      docs.route('/big.json', (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(big(docs.url('/big.json'))));
      await expectRefusalPage(stack, docs.url('/big.json'), /larger than 5120 bytes/);
      docs.route('/big-stream.json', (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        const body = big(docs.url('/big-stream.json'));
        for (let i = 0; i < body.length; i += 1000) res.write(body.slice(i, i + 1000));
        res.end();
      });
      await expectRefusalPage(stack, docs.url('/big-stream.json'), /larger than 5120 bytes/);
    });

    it('refuses a document whose client_id is not its URL', async () => {
      docs.json('/impostor.json', { client_id: docUrl, client_name: 'Impostor', redirect_uris: ['http://localhost/callback'] });
      await expectRefusalPage(stack, docs.url('/impostor.json'), /names another client_id .* must equal the document URL exactly/);
      expect(await stack.keyhole.store.clients.find(docs.url('/impostor.json'))).toBeUndefined();
    });

    it('refuses an http:// client_id, and an https one without a path', async () => {
      await expectRefusalPage(stack, `http://localhost:${docs.port}/oauth/client-metadata.json`, /must use https/);
      await expectRefusalPage(stack, `https://localhost:${docs.port}/`, /must have a path/);
    });

    it('refuses a server that never answers, at the configured deadline', async () => {
      docs.route('/hang.json', () => undefined);
      const t0 = Date.now();
      await expectRefusalPage(stack, docs.url('/hang.json'), /no complete answer within 1000 ms/);
      expect(Date.now() - t0).toBeLessThan(3_000);
    });

    it('refuses a document with a secret or a confidential auth method', async () => {
      docs.json('/secret.json', { client_id: docs.url('/secret.json'), client_secret: 'shh', redirect_uris: ['http://localhost/callback'] });
      await expectRefusalPage(stack, docs.url('/secret.json'), /must not contain client_secret/);
      docs.json('/basic.json', { client_id: docs.url('/basic.json'), token_endpoint_auth_method: 'client_secret_basic', redirect_uris: ['http://localhost/callback'] });
      await expectRefusalPage(stack, docs.url('/basic.json'), /only public clients/);
    });

    it('refuses a missing document, invalid JSON and bad redirect URIs', async () => {
      await expectRefusalPage(stack, docs.url('/missing.json'), /HTTP 404/);
      docs.route('/broken.json', (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"client_id":'));
      await expectRefusalPage(stack, docs.url('/broken.json'), /is not valid JSON/);
      docs.json('/evil-redirect.json', { client_id: docs.url('/evil-redirect.json'), redirect_uris: ['http://evil.example.com/cb'] });
      await expectRefusalPage(stack, docs.url('/evil-redirect.json'), /must use https unless the host is loopback/);
    });

    it('refuses a redirect_uri that the document does not list', async () => {
      const res = await fetch(authorizeUrl(stack, docUrl, 'https://attacker.example.com/cb'), { redirect: 'manual' });
      expect(res.status).toBe(400);
      expect(res.headers.get('location')).toBeNull();
      expect(await res.text()).toContain('redirect_uri does not match a registered redirect URI');
    });
  });
});

describe('client ID metadata documents on private addresses (allowPrivateAddresses: false)', () => {
  let docs: DocumentServer;
  let stack: Stack;

  beforeAll(async () => {
    docs = await startDocumentServer();
    for (const host of ['localhost', '127.0.0.1']) {
      docs.json(`/${host}.json`, { client_id: docs.url(`/${host}.json`, host), client_name: 'Local', redirect_uris: ['http://localhost/callback'] });
    }
    // Trusted certificate, so the address is the only reason for the refusal.
    stack = await startStack({ config: { cimd: { allowPrivateAddresses: false, extraCa: docs.cert.certPath } } });
  });

  afterAll(async () => {
    await stack?.close();
    await docs?.close();
  });

  it('refuses a host name that resolves to loopback, though the server is up, without connecting', async () => {
    const reachable = await fetch(`${stack.publicUrl}/.well-known/oauth-authorization-server`);
    expect(reachable.status).toBe(200);
    // The page says only that the address is not allowed; what localhost resolves to stays in the operator log.
    await expectRefusalPage(stack, docs.url('/localhost.json'), /the address of localhost is not allowed: refused/);
    expect(stack.logs.join('\n')).toMatch(/"keyhole.cimd_fetch_failed".*resolves to (127\.0\.0\.1|::1), a loopback address/);
    expect(docs.hits.get('/localhost.json')).toBeUndefined();
  });

  it('refuses a loopback IP literal', async () => {
    await expectRefusalPage(stack, docs.url('/127.0.0.1.json', '127.0.0.1'), /the address of 127\.0\.0\.1 is not allowed: refused/);
    expect(docs.hits.get('/127.0.0.1.json')).toBeUndefined();
  });

  it('records no client for a refused document', async () => {
    expect((await stack.keyhole.store.clients.list()).filter((c) => c.kind === 'cimd')).toHaveLength(0);
  });
});
