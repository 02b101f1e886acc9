/**
 * A pre-registered confidential client from the config (a CI agent): its secret comes from `${ENV}` and is stored
 * only as SHA-256. The SDK client (client_secret_basic) authorizes through keyhole's consent and oidc-provider, calls
 * a tool, then refreshes and revokes with Basic credentials. A wrong secret is invalid_client with a Basic challenge.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { OAuthClientInformationMixed } from '@modelcontextprotocol/sdk/shared/auth.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { CapturingProvider, connectThroughKeyhole, type ConnectedClient } from '../helpers/sdk-client.js';
import { CookieBrowser } from '../helpers/cookie-browser.js';
import { parseConfig, ConfigError } from '../../src/config/load-config.js';

const REDIRECT = 'http://127.0.0.1:9/ci/callback';
const SECRET = `ci-${randomBytes(24).toString('base64url')}`;
const PUBLIC_SECRET_HASHED = randomBytes(24).toString('base64url');

/** A provider with pre-registered credentials: the SDK does not register, and authenticates with Basic. */
class StaticProvider extends CapturingProvider {
  constructor(private readonly creds: OAuthClientInformationMixed) {
    super(REDIRECT, 'CI agent');
  }
  override clientInformation() {
    return this.creds;
  }
  override saveClientInformation() {
    throw new Error('a pre-registered client must not register');
  }
}

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

describe('pre-registered static clients', () => {
  let stack: Stack;
  let conn: ConnectedClient;

  beforeAll(async () => {
    process.env.KEYHOLE_TEST_CI_SECRET = SECRET;
    stack = await startStack({
      config: {
        clients: [
          { clientId: 'ci-agent', clientName: 'CI agent', redirectUris: [REDIRECT], clientSecret: '${KEYHOLE_TEST_CI_SECRET}' },
          { clientId: 'hashed-agent', clientName: 'Hashed agent', redirectUris: [REDIRECT], clientSecretSha256: createHash('sha256').update(PUBLIC_SECRET_HASHED).digest('hex') },
        ],
      },
    });
    const provider = new StaticProvider({ client_id: 'ci-agent', client_secret: SECRET, token_endpoint_auth_method: 'client_secret_basic' } as OAuthClientInformationMixed);
    conn = await connectThroughKeyhole(stack.mcpUrl, { login: 'ci-bot', provider });
  });

  afterAll(async () => {
    delete process.env.KEYHOLE_TEST_CI_SECRET;
    await conn?.client.close().catch(() => undefined);
    await stack?.close();
  });

  it('is upserted as kind static with only the secret hash, and shown as "pre-registered"', async () => {
    const client = await stack.keyhole.store.clients.find('ci-agent');
    expect(client).toMatchObject({ kind: 'static', secretHash: createHash('sha256').update(SECRET).digest('hex'), blockedAt: null });
    expect(client!.metadata).toMatchObject({ client_name: 'CI agent', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'client_secret_basic' });
    expect(conn.consent.consentHtml).toContain('pre-registered');
    expect(conn.consent.consentHtml).toContain('CI agent');
    expect((await stack.keyhole.store.events.list({ type: 'client.registered', clientId: 'ci-agent' }))[0]!.detail).toMatchObject({ kind: 'static' });
  });

  it('completed authorization_code with client_secret_basic: the tool call runs as the upstream user', async () => {
    const result = (await conn.client.callTool({ name: 'whoami', arguments: {} })) as { content: Array<{ text: string }> };
    const who = JSON.parse(result.content.map((c) => c.text).join(''));
    expect(who.sub).toBe('ci-bot');
  });

  it('refreshes with client_secret_basic and with client_secret_post', async () => {
    const first = await fetch(`${stack.publicUrl}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('ci-agent', SECRET) },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: conn.provider.tokens()!.refresh_token! }),
    });
    expect(first.status).toBe(200);
    expect(first.headers.get('cache-control')).toBe('no-store');
    const pair = (await first.json()) as { access_token: string; refresh_token: string };
    expect(pair.access_token).toMatch(/^kh_at_/);
    const second = await fetch(`${stack.publicUrl}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: pair.refresh_token, client_id: 'ci-agent', client_secret: SECRET }),
    });
    expect(second.status).toBe(200);
    conn.provider.saveTokens((await second.json()) as never);
  });

  it('refuses a wrong or missing secret with invalid_client (401, Basic challenge)', async () => {
    const wrong = await fetch(`${stack.publicUrl}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('ci-agent', 'not-the-secret') },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: conn.provider.tokens()!.refresh_token! }),
    });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toMatch(/^Basic /);
    expect(((await wrong.json()) as { error: string }).error).toBe('invalid_client');
    const none = await fetch(`${stack.publicUrl}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: conn.provider.tokens()!.refresh_token!, client_id: 'ci-agent' }),
    });
    expect(none.status).toBe(401);
    expect(((await none.json()) as { error: string }).error).toBe('invalid_client');
    // The refused attempts did not burn the refresh token.
    const ok = await fetch(`${stack.publicUrl}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('ci-agent', SECRET) },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: conn.provider.tokens()!.refresh_token! }),
    });
    expect(ok.status).toBe(200);
    conn.provider.saveTokens((await ok.json()) as never);
  });

  it('authenticates a client configured by clientSecretSha256', async () => {
    // Authorize needs no secret; the hash is only checked at the token endpoint — a bad code still proves authentication passed.
    const page = await new CookieBrowser().get(`${stack.publicUrl}/authorize?${new URLSearchParams({ response_type: 'code', client_id: 'hashed-agent', redirect_uri: REDIRECT, code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', resource: stack.mcpUrl })}`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('pre-registered');
    const authed = await fetch(`${stack.publicUrl}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('hashed-agent', PUBLIC_SECRET_HASHED) },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: 'kh_code_unknown', code_verifier: 'x'.repeat(43) }),
    });
    expect(((await authed.json()) as { error: string }).error).toBe('invalid_grant');
    const refused = await fetch(`${stack.publicUrl}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('hashed-agent', 'wrong-secret') },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: 'kh_code_unknown', code_verifier: 'x'.repeat(43) }),
    });
    expect(refused.status).toBe(401);
  });

  it('revokes with client_secret_basic', async () => {
    const res = await fetch(`${stack.publicUrl}/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('ci-agent', SECRET) },
      body: new URLSearchParams({ token: conn.provider.tokens()!.refresh_token!, token_type_hint: 'refresh_token' }),
    });
    expect(res.status).toBe(200);
    expect((await stack.keyhole.store.grants.list({ clientId: 'ci-agent' }))[0]!.status).toBe('revoked');
  });

  it('keeps the secret out of the database file, events and logs (only its hash)', () => {
    const db = new Database(stack.dbPath, { readonly: true });
    try {
      const row = db.prepare('SELECT secret_hash FROM clients WHERE client_id = ?').get('ci-agent') as { secret_hash: string };
      expect(row.secret_hash).toBe(createHash('sha256').update(SECRET).digest('hex'));
    } finally {
      db.close();
    }
    for (const f of readdirSync(stack.dir).filter((n) => n.startsWith('keyhole.db'))) {
      expect(readFileSync(join(stack.dir, f)).includes(SECRET)).toBe(false);
    }
    expect(stack.logs.join('\n')).not.toContain(SECRET);
  });
});

describe('static client config', () => {
  const base = {
    publicUrl: 'http://127.0.0.1:8787',
    servers: { s: { upstream: 'http://127.0.0.1:9/mcp', oauth: { issuer: 'http://127.0.0.1:9', clientId: 'k' } } },
  };
  const parse = (clients: unknown[]) => parseConfig({ ...base, clients }, {});
  const problems = (clients: unknown[]) => {
    try {
      parse(clients);
      return [];
    } catch (e) {
      return (e as ConfigError).problems;
    }
  };

  it('refuses ids that look like URLs or collide with DCR ids', () => {
    expect(problems([{ clientId: 'https://app.example.com/c.json', clientName: 'x', redirectUris: [REDIRECT] }]).join()).toMatch(/clients\.0\.clientId: must not look like a URL/);
    expect(problems([{ clientId: 'c_abc', clientName: 'x', redirectUris: [REDIRECT] }]).join()).toMatch(/must not start with "c_"/);
  });

  it('refuses duplicate ids, both secret forms, short secrets, bad hashes and bad redirect URIs', () => {
    const c = { clientId: 'a', clientName: 'A', redirectUris: [REDIRECT] };
    expect(problems([c, c]).join()).toMatch(/unique/);
    expect(problems([{ ...c, clientSecret: 'x'.repeat(20), clientSecretSha256: 'a'.repeat(64) }]).join()).toMatch(/not both/);
    expect(problems([{ ...c, clientSecret: 'short' }]).join()).toMatch(/clientSecret: must be at least 16/);
    expect(problems([{ ...c, clientSecretSha256: 'xyz' }]).join()).toMatch(/clientSecretSha256: must be 64 hex/);
    expect(problems([{ ...c, redirectUris: ['http://evil.example.com/cb'] }]).join()).toMatch(/clients\.0\.redirectUris\.0: redirect URI must use https/);
  });

  it('names a missing ${ENV} secret', () => {
    expect(problems([{ clientId: 'a', clientName: 'A', redirectUris: [REDIRECT], clientSecret: '${KEYHOLE_TEST_UNSET_SECRET}' }]).join()).toMatch(/KEYHOLE_TEST_UNSET_SECRET is not set/);
  });

  it('defaults to no clients and CIMD enabled with the 5 KB / 5 s guard', () => {
    const config = parseConfig(base, {});
    expect(config.clients).toEqual([]);
    expect(config.cimd).toMatchObject({ enabled: true, allowPrivateAddresses: false, timeoutMs: 5_000, maxBytes: 5_120 });
  });
});
