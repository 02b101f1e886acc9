import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { UpstreamOAuthClient } from '../../../src/upstream/oauth-client.js';
import { UpstreamUnavailableError } from '../../../src/upstream/errors.js';
import { upstreamOAuthSchema } from '../../../src/config/schema.js';

describe('UpstreamOAuthClient › onDiscoveryFailure', () => {
  let server: Server | undefined;
  afterEach(async () => { await new Promise((r) => (server ? server.close(r) : r(undefined))); server = undefined; });

  it('tells the cause of each failed discovery (a 5xx issuer), and retries next time', async () => {
    let status = 503;
    server = createServer((_req, res) => res.writeHead(status, { 'content-type': 'application/json' }).end('{}'));
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const causes: string[] = [];
    const client = new UpstreamOAuthClient('demo', upstreamOAuthSchema.parse({ issuer, clientId: 'k' }), 'http://127.0.0.1/cb', undefined, (c) => causes.push(c));
    await expect(client.metadata()).rejects.toBeInstanceOf(UpstreamUnavailableError);
    await expect(client.metadata()).rejects.toBeInstanceOf(UpstreamUnavailableError);
    expect(causes).toEqual(['server', 'server']);
    status = 404; // neither RFC 8414 nor OIDC metadata: no discovery document, a different failure
    await expect(client.metadata()).rejects.toThrow();
    expect(causes).toEqual(['server', 'server', 'protocol']);
  });
});
