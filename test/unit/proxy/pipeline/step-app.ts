/**
 * A tiny Hono app around ONE step of the `/mcp/{server}` pipeline: a seed middleware puts a request object on the
 * context (what the earlier steps would have filled), then the step, then a stub `next` that records what reached
 * it and answers 200 `{ reached: true }`.
 */
import { Readable } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import type { HttpBindings } from '@hono/node-server';
import { Hono } from 'hono';
import type { AccessTokenLookup } from '../../../../src/store/types.js';
import type { McpEnv, McpRequest, McpStep } from '../../../../src/proxy/pipeline/mcp-request.js';
import { serverRoute } from '../../../../src/proxy/pipeline/resolve-server.js';

export const PUBLIC_URL = 'http://127.0.0.1:8787';
export const NOW = 1_700_000_000;

export const routeOptions = {
  publicUrl: PUBLIC_URL,
  servers: { demo: { upstream: 'http://127.0.0.1:9000/mcp', upstreamTimeoutMs: 1234 }, other: { upstream: 'http://127.0.0.1:9001/mcp', upstreamTimeoutMs: 5 } },
  prmUrl: (s: string) => `${PUBLIC_URL}/.well-known/oauth-protected-resource/mcp/${s}`,
  scope: (s: string) => (s === 'demo' ? 'read write' : 'mcp'),
};
export const demoRoute = serverRoute(routeOptions, 'demo');

export function accessToken(over: Partial<AccessTokenLookup> = {}): AccessTokenLookup {
  return {
    hash: 'h', grantId: 'g_1', familyId: 'f_1', clientId: 'c_1', resource: `${PUBLIC_URL}/mcp/demo`, scopes: ['read'],
    expiresAt: NOW + 900, revokedAt: null, grantStatus: 'active', server: 'demo', subject: 'user-1', personId: null, ...over,
  };
}

/** The request as it stands after authenticate (and read-body, when `body` is given). */
export function authenticatedRequest(over: Partial<McpRequest> = {}): McpRequest {
  const token = over.token ?? accessToken();
  return {
    server: 'demo', route: demoRoute, method: 'POST', body: null, token,
    grant: { id: token.grantId, server: 'demo', clientId: token.clientId, subject: token.subject, scopes: token.scopes },
    ...over,
  };
}

/** A Node request body for `c.env.incoming` (app.request runs no Node server). */
export function incoming(body: string | Buffer, headers: Record<string, string> = {}): IncomingMessage {
  // A real IncomingMessage has both: `rawHeaders` (what the /mcp path reads) and the `headers` Node builds from it.
  const rawHeaders = Object.entries(headers).flat();
  return Object.assign(Readable.from([Buffer.from(body)]), { headers, rawHeaders }) as unknown as IncomingMessage;
}

export function stepApp(step: McpStep, seed?: (c: { req: { method: string } }) => McpRequest) {
  const reached: McpRequest[] = [];
  const app = new Hono<McpEnv>();
  if (seed) {
    app.use('/mcp/:server', async function seedRequest(c, next) {
      c.set('mcp', seed(c));
      await next();
    });
  }
  app.on(['POST', 'GET', 'DELETE'], '/mcp/:server', step, (c) => {
    reached.push(c.get('mcp'));
    return c.json({ reached: true }, 200);
  });
  const request = (path: string, init: RequestInit = {}, env?: Partial<HttpBindings>) => app.request(path, init, env);
  return { app, reached, request };
}
