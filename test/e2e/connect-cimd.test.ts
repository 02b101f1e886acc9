/**
 * `keyhole connect --client-metadata-url`: against a keyhole that advertises client ID metadata documents, the
 * bridge uses the hosted https document as its client_id instead of registering (draft-ietf-oauth-client-id-
 * metadata-document; the SDK's SEP-991 path). The document lists the portless `http://127.0.0.1/callback`; the
 * bridge's ephemeral-port redirect matches it (RFC 8252 §7.3). The document is served over real TLS by a local
 * https server whose certificate keyhole trusts through `cimd.extraCa`.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDocumentServer, type DocumentServer } from '../helpers/https-document-server.js';
import { ensureBuiltCli } from '../helpers/keyhole-cli.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { childEnv, spawnBridge, textOf, withSignIn, type SpawnedBridge } from './connect-support.js';

describe('keyhole connect with a client ID metadata document', () => {
  let docs: DocumentServer;
  let docUrl: string;
  let stack: Stack;
  let xdg: string;
  let bridge: SpawnedBridge;

  beforeAll(async () => {
    await ensureBuiltCli();
    docs = await startDocumentServer();
    docUrl = docs.url('/oauth/keyhole-connect.json');
    docs.json('/oauth/keyhole-connect.json', {
      client_id: docUrl,
      client_name: 'keyhole connect (CIMD)',
      redirect_uris: ['http://127.0.0.1/callback'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    });
    stack = await startStack({ config: { cimd: { allowPrivateAddresses: true, extraCa: docs.cert.certPath, timeoutMs: 2_000 } } });
    xdg = mkdtempSync(join(tmpdir(), 'keyhole-connect-xdg-'));
    bridge = spawnBridge(stack.mcpUrl, childEnv({ XDG_CONFIG_HOME: xdg, KEYHOLE_CONNECT_STORE: 'file' }), ['--client-metadata-url', docUrl]);
  });

  afterAll(async () => {
    await bridge?.close().catch(() => undefined);
    await stack?.close();
    await docs?.close();
    if (xdg) rmSync(xdg, { recursive: true, force: true });
  });

  it('signs in with the document URL as client_id, without registering, and calls tools', async () => {
    const { authorizationUrl } = await withSignIn(bridge, 'dana', () => bridge.client.connect(bridge.transport));
    expect(authorizationUrl.searchParams.get('client_id')).toBe(docUrl);
    expect(new URL(authorizationUrl.searchParams.get('redirect_uri')!).port).not.toBe('');
    expect(JSON.parse(textOf(await bridge.client.callTool({ name: 'whoami', arguments: {} }))).sub).toBe('dana');
    const clients = await stack.keyhole.store.clients.list();
    expect(clients.map((c) => c.kind)).toEqual(['cimd']);
    expect(docs.hits.get('/oauth/keyhole-connect.json')).toBeGreaterThanOrEqual(1);
    const dir = join(xdg, 'keyhole', 'connect');
    const [file] = readdirSync(dir);
    expect(JSON.parse(readFileSync(join(dir, file!), 'utf8')).client.client_id).toBe(docUrl);
  });
});
