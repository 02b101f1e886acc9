/**
 * Issue 11 §3: which kind of registration a client_id is resolved as, in order — pre-registered (static, from the
 * config) first, then a client ID metadata document (https URL client_id), then dynamic registration (`c_…`). The id
 * spaces are disjoint, so no kind can shadow another.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../../src/config/load-config.js';
import { createKeyhole, type Keyhole } from '../../../src/keyhole.js';
import { keyringFromMasterKey } from '../../../src/store/crypto/vault-cipher.js';
import { openSqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import { ClientIdMetadataResolver, ClientMetadataDocumentError } from '../../../src/authorization-server/client-id-metadata.js';
import { CHALLENGE, PUBLIC_URL, RESOURCE_A, T0, rawConfig } from './harness.js';

const STATIC = { clientId: 'ci-agent', clientName: 'CI agent', redirectUris: ['http://127.0.0.1:8976/callback'] };
const DOC_URL = 'https://app.example.com/oauth/client.json';

describe('registration order', () => {
  let keyhole: Keyhole;
  let resolve: ReturnType<typeof vi.spyOn>;
  beforeEach(async () => {
    resolve = vi.spyOn(ClientIdMetadataResolver.prototype, 'resolve').mockRejectedValue(new ClientMetadataDocumentError('document fetch stubbed'));
    const config = parseConfig({ ...rawConfig(), clients: [STATIC] }, {});
    keyhole = await createKeyhole({ config, store: openSqliteStore(':memory:'), keyring: keyringFromMasterKey(randomBytes(32).toString('base64url')), log: () => {}, clock: () => T0 });
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await keyhole.close();
  });

  const authorize = (clientId: string, redirectUri: string) =>
    Promise.resolve(
      keyhole.app.request(
        `${PUBLIC_URL}/authorize?${new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: redirectUri, code_challenge: CHALLENGE, code_challenge_method: 'S256', state: 's', resource: RESOURCE_A })}`,
      ),
    );

  it('resolves a pre-registered client id as the static client, without any document fetch', async () => {
    const res = await authorize(STATIC.clientId, STATIC.redirectUris[0]!);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('pre-registered');
    expect((await keyhole.store.clients.find(STATIC.clientId))?.kind).toBe('static');
    expect(resolve).not.toHaveBeenCalled();
  });

  it('resolves an https URL client id as a client ID metadata document, before any stored lookup', async () => {
    const res = await authorize(DOC_URL, 'https://app.example.com/cb');
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('document fetch stubbed');
    expect(resolve).toHaveBeenCalledWith(DOC_URL, 'authorize');
  });

  it('never lets a stored row of another kind answer for a URL client id', async () => {
    resolve.mockRestore();
    await keyhole.store.clients.create({ clientId: DOC_URL, kind: 'dcr', metadata: { redirect_uris: ['https://app.example.com/cb'] }, secretHash: null, createdAt: T0, blockedAt: null });
    const res = await authorize(DOC_URL, 'https://app.example.com/cb');
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('registered as another kind of client');
  });

  it('resolves any other id as a dynamic registration, issued by POST /register with a c_ id', async () => {
    const reg = await keyhole.app.request(`${PUBLIC_URL}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: STATIC.clientId, redirect_uris: ['http://127.0.0.1:3334/cb'], token_endpoint_auth_method: 'none' }),
    });
    const { client_id } = (await reg.json()) as { client_id: string };
    expect(client_id).toMatch(/^c_/);
    expect((await keyhole.store.clients.find(STATIC.clientId))?.kind).toBe('static');
    const res = await authorize(client_id, 'http://127.0.0.1:3334/cb');
    expect(res.status).toBe(200);
    expect(resolve).not.toHaveBeenCalled();
  });

  it('keeps the id spaces disjoint: a static id can be neither a URL nor a c_ id', () => {
    for (const clientId of [DOC_URL, 'c_abc']) {
      expect(() => parseConfig({ ...rawConfig(), clients: [{ ...STATIC, clientId }] }, {}), clientId).toThrow(/clients\.0\.clientId/);
    }
  });
});
