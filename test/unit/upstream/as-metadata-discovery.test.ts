/**
 * The one RFC 8414 → OpenID Connect discovery rule (docs/client-requirements.md B.6): a 4xx at the RFC 8414
 * location moves on to openid-configuration, a 5xx aborts. Against a scripted node:http authorization server, through
 * the shared function and through both of its callers (MCP discovery, the configured-issuer OAuth client).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as oauth from 'oauth4webapi';
import { AuthorizationServerMetadataError, discoverAuthorizationServer } from '../../../src/upstream/as-metadata-discovery.js';
import { discoverMcpAuthorization, UpstreamDiscoveryError } from '../../../src/upstream/mcp-discovery.js';
import { UpstreamOAuthClient } from '../../../src/upstream/oauth-client.js';
import { UpstreamUnavailableError } from '../../../src/upstream/errors.js';
import { upstreamOAuthSchema } from '../../../src/config/schema.js';

const RFC8414 = '/.well-known/oauth-authorization-server';
const OIDC = '/.well-known/openid-configuration';
const insecure = { [oauth.allowInsecureRequests]: true };

let server: Server;
let origin: string;
let hits: string[];
/** Status of the RFC 8414 location; the OIDC location always answers the document. */
let rfc8414Status: number;

beforeEach(async () => {
  hits = [];
  rfc8414Status = 404;
  server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', origin).pathname;
    hits.push(path);
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (path === '/.well-known/oauth-protected-resource/mcp') return send(200, { resource: `${origin}/mcp`, authorization_servers: [origin] });
    if (path === RFC8414) return send(rfc8414Status, { error: 'nope' });
    if (path === OIDC) return send(200, { issuer: origin, authorization_endpoint: `${origin}/authorize`, token_endpoint: `${origin}/token`, response_types_supported: ['code'] });
    send(404, { error: 'not_found' });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

describe('discoverAuthorizationServer', () => {
  it.each([400, 401, 403, 404, 410])('moves on to OpenID Connect Discovery after a %i', async (status) => {
    rfc8414Status = status;
    const as = await discoverAuthorizationServer(new URL(origin), insecure);
    expect(as.token_endpoint).toBe(`${origin}/token`);
    expect(hits).toEqual([RFC8414, OIDC]);
  });

  it.each([500, 502, 503])('aborts after a %i: no OpenID Connect request', async (status) => {
    rfc8414Status = status;
    const err = await discoverAuthorizationServer(new URL(origin), insecure).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthorizationServerMetadataError);
    expect(err).toMatchObject({ status, kind: 'server' });
    expect(hits).toEqual([RFC8414]);
  });
});

describe('both discovery callers follow the rule', () => {
  const client = () =>
    new UpstreamOAuthClient('demo', upstreamOAuthSchema.parse({ issuer: origin, clientId: 'keyhole', clientSecret: 's' }), 'http://127.0.0.1/cb');

  it('moves on after a 403 in both', async () => {
    rfc8414Status = 403;
    expect((await client().metadata()).token_endpoint).toBe(`${origin}/token`);
    expect((await discoverMcpAuthorization(`${origin}/mcp`)).as.token_endpoint).toBe(`${origin}/token`);
  });

  it('aborts on a 503 in both, as a server failure', async () => {
    rfc8414Status = 503;
    await expect(client().metadata()).rejects.toMatchObject({ kind: 'server' });
    await expect(client().metadata()).rejects.toBeInstanceOf(UpstreamUnavailableError);
    const err = await discoverMcpAuthorization(`${origin}/mcp`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamDiscoveryError);
    expect(err).toMatchObject({ kind: 'server', detail: 'authorization server metadata: HTTP 503' });
    expect(hits).not.toContain(OIDC);
  });
});
