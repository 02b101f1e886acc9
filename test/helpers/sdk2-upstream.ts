/**
 * A real upstream MCP server built with the SDK 2.x server package (`@modelcontextprotocol/server`): the
 * stateless `createMcpHandler` entry that serves the 2026-07-28 revision (`server/discover`, per-request `_meta`
 * envelope, `subscriptions/listen`) and falls back to stateless 2025-era serving. Like the 1.x fixture
 * (examples/demo/upstream-mcp-server.ts) it accepts only RFC 9068 JWTs from the upstream authorization server's
 * JWKS whose `aud` is its own URL.
 * Tools: `whoami`, `echo`, `slow_count` (progress notifications), `write_note`, `purge_notes`, `debug_dump`.
 * @see https://modelcontextprotocol.io/specification/2026-07-28/basic/transports
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { createMcpHandler, McpServer, type AuthInfo, type McpHttpHandler } from '@modelcontextprotocol/server';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { z } from 'zod';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startUpstreamAuthorizationServer, type UpstreamAs } from '../../examples/demo/upstream-authorization-server.js';
import { startUpstreamMcpServer, type UpstreamMcp } from '../../examples/demo/upstream-mcp-server.js';
import { parseConfig } from '../../src/config/load-config.js';
import { createKeyhole, type Keyhole } from '../../src/keyhole.js';
import { keyringFromMasterKey } from '../../src/store/crypto/vault-cipher.js';
import { freePort } from './free-port.js';

export interface Sdk2UpstreamRequest {
  method: string;
  /** Lower-cased request headers as received (after keyhole's header swap). */
  headers: Record<string, string>;
  /** The JSON-RPC method of a POST body, when it had one. */
  rpcMethod?: string;
}

export interface Sdk2Upstream {
  /** http://127.0.0.1:PORT/mcp; also its RFC 8707 resource identifier (the JWT `aud`). */
  url: string;
  /** Every request that reached the MCP endpoint, in order. */
  requests: Sdk2UpstreamRequest[];
  /** Every tool call with the verified token's `sub`. */
  calls: Array<{ tool: string; sub: string }>;
  /** The handler (its `notify` publishes change events onto open `subscriptions/listen` streams). */
  handler: McpHttpHandler;
  /** Starts trusting the upstream authorization server at `issuer` (its JWKS from its metadata). */
  trust(issuer: string): void;
  close(): Promise<void>;
}

const text = (value: string) => ({ content: [{ type: 'text' as const, text: value }] });

export async function startSdk2UpstreamMcpServer(opts: { issuer?: string } = {}): Promise<Sdk2Upstream> {
  const requests: Sdk2UpstreamRequest[] = [];
  const calls: Array<{ tool: string; sub: string }> = [];
  let issuer = opts.issuer;
  let jwks: ReturnType<typeof createRemoteJWKSet> | undefined;
  const getJwks = async () => {
    if (!issuer) throw new Error('no trusted issuer yet');
    if (!jwks) {
      const meta = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as { jwks_uri: string };
      jwks = createRemoteJWKSet(new URL(meta.jwks_uri));
    }
    return jwks;
  };

  const server: Server = createServer();
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const url = `${origin}/mcp`;

  const subOf = (auth: AuthInfo | undefined) => String((auth?.extra as { sub?: unknown } | undefined)?.sub ?? '');
  const factory = () => {
    const mcp = new McpServer({ name: 'keyhole-sdk2-upstream', version: '2.0.0' }, { capabilities: { tools: { listChanged: true } }, cacheHints: { 'tools/list': { ttlMs: 60_000, cacheScope: 'public' } } });
    mcp.registerTool('whoami', { description: 'Who the upstream token belongs to', annotations: { readOnlyHint: true } }, async (ctx) => {
      calls.push({ tool: 'whoami', sub: subOf(ctx.http?.authInfo) });
      return text(JSON.stringify({ sub: subOf(ctx.http?.authInfo), client_id: ctx.http?.authInfo?.clientId }));
    });
    mcp.registerTool('echo', { description: 'Echo the text back', inputSchema: z.object({ text: z.string() }), annotations: { readOnlyHint: true } }, async ({ text: value }, ctx) => {
      calls.push({ tool: 'echo', sub: subOf(ctx.http?.authInfo) });
      return text(value);
    });
    mcp.registerTool(
      'slow_count',
      { description: 'Count to n with a progress notification per step', inputSchema: z.object({ n: z.number().int().min(1).max(100), delayMs: z.number().int().min(0).max(1000) }), annotations: { readOnlyHint: true } },
      async ({ n, delayMs }, ctx) => {
        calls.push({ tool: 'slow_count', sub: subOf(ctx.http?.authInfo) });
        const progressToken = ctx.mcpReq._meta?.progressToken;
        for (let i = 1; i <= n; i++) {
          if (progressToken !== undefined) await ctx.mcpReq.notify({ method: 'notifications/progress', params: { progressToken, progress: i, total: n } });
          if (i < n) await new Promise((r) => setTimeout(r, delayMs));
        }
        return text(`counted ${n}`);
      },
    );
    mcp.registerTool('write_note', { description: 'Write a note (write)', inputSchema: z.object({ note: z.string() }), annotations: { readOnlyHint: false } }, async ({ note }, ctx) => {
      calls.push({ tool: 'write_note', sub: subOf(ctx.http?.authInfo) });
      return text(`noted: ${note}`);
    });
    mcp.registerTool('purge_notes', { description: 'Delete every note (admin)', annotations: { destructiveHint: true } }, async (ctx) => {
      calls.push({ tool: 'purge_notes', sub: subOf(ctx.http?.authInfo) });
      return text('purged');
    });
    mcp.registerTool('debug_dump', { description: 'A tool no keyhole scope names', annotations: { readOnlyHint: true } }, async (ctx) => {
      calls.push({ tool: 'debug_dump', sub: subOf(ctx.http?.authInfo) });
      return text('dump');
    });
    return mcp;
  };
  const handler = createMcpHandler(factory, { keepAliveMs: 0 });

  const verify = async (authorization: string | null): Promise<AuthInfo> => {
    const m = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
    if (!m?.[1]) throw new Error('missing bearer token');
    const { payload } = await jwtVerify(m[1], await getJwks(), { issuer, audience: url });
    const p = payload as JWTPayload & { client_id?: string; scope?: string };
    if (typeof p.sub !== 'string') throw new Error('token has no sub');
    return { token: m[1], clientId: p.client_id ?? '', scopes: p.scope ? p.scope.split(' ') : [], ...(p.exp ? { expiresAt: p.exp } : {}), resource: new URL(url), extra: { sub: p.sub } };
  };

  const listener = getRequestListener(async (req: Request) => {
    const path = new URL(req.url).pathname;
    if (path !== '/mcp') return Response.json({ error: 'not_found' }, { status: 404 });
    const headers: Record<string, string> = {};
    req.headers.forEach((v, k) => (headers[k] = v));
    let rpcMethod: string | undefined;
    if (req.method === 'POST') {
      try {
        const body = (await req.clone().json()) as { method?: unknown };
        if (typeof body?.method === 'string') rpcMethod = body.method;
      } catch {
        /* the handler answers a bad body itself */
      }
    }
    requests.push({ method: req.method, headers, ...(rpcMethod ? { rpcMethod } : {}) });
    let authInfo: AuthInfo;
    try {
      authInfo = await verify(req.headers.get('authorization'));
    } catch (e) {
      return Response.json({ error: 'invalid_token', error_description: (e as Error).message }, { status: 401, headers: { 'www-authenticate': `Bearer error="invalid_token", resource_metadata="${origin}/.well-known/oauth-protected-resource/mcp"` } });
    }
    return handler.fetch(req, { authInfo });
  });
  server.on('request', listener);

  return {
    url,
    requests,
    calls,
    handler,
    trust(value) {
      issuer = value;
      jwks = undefined;
    },
    async close() {
      await handler.close().catch(() => undefined);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        for (const s of sockets) s.destroy();
      });
    },
  };
}

export interface ProtocolStack {
  keyhole: Keyhole;
  publicUrl: string;
  /** `/mcp/legacy`: the SDK 1.x upstream (2025-era, sessions). */
  legacyUrl: string;
  /** `/mcp/modern`: the SDK 2.x upstream, no scope map. */
  modernUrl: string;
  /** `/mcp/scoped`: the same SDK 2.x upstream with delegated scopes `read`, `write` and `admin` (SCOPED). */
  scopedUrl: string;
  as: UpstreamAs;
  v1: UpstreamMcp;
  v2: Sdk2Upstream;
  close(): Promise<void>;
}

export const SCOPED = {
  read: { description: 'Read notes', upstreamScopes: ['mcp:read'], tools: ['whoami', 'echo', 'slow_count'] },
  write: { description: 'Write notes', upstreamScopes: ['mcp:write'], tools: ['write_note'] },
  admin: { description: 'Purge notes', upstreamScopes: ['mcp:write'], tools: ['purge_notes'] },
};
// `debug_dump` is named by no scope: with defaultPolicy "deny" no grant can call it.

/** One oidc-provider, one SDK 1.x and one SDK 2.x upstream, and keyhole in front of them (three servers). */
export async function startProtocolStack(): Promise<ProtocolStack> {
  const dir = mkdtempSync(join(tmpdir(), 'keyhole-protocol-'));
  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${port}`;
  const upstreamClient = { clientId: 'keyhole', clientSecret: randomBytes(24).toString('base64url') };
  const as = await startUpstreamAuthorizationServer({ clients: [{ ...upstreamClient, redirectUris: [`${publicUrl}/oauth/callback`] }], accessTokenTtlSeconds: 300 });
  const [v1, v2] = await Promise.all([startUpstreamMcpServer({ issuer: as.issuer }), startSdk2UpstreamMcpServer({ issuer: as.issuer })]);
  as.addResource(v1.url);
  as.addResource(v2.url);
  const oauth = (resource: string) => ({ issuer: as.issuer, ...upstreamClient, scopes: ['openid', 'offline_access', 'mcp:tools'], resource });
  const config = parseConfig({
    publicUrl,
    listen: { host: '127.0.0.1', port },
    storage: { sqlite: join(dir, 'keyhole.db'), vault: 'sqlite' },
    admin: { token: PROTOCOL_ADMIN_TOKEN },
    servers: {
      legacy: { upstream: v1.url, oauth: oauth(v1.url) },
      modern: { upstream: v2.url, oauth: oauth(v2.url) },
      scoped: { upstream: v2.url, oauth: oauth(v2.url), scopes: SCOPED, defaultPolicy: 'deny' },
    },
  });
  const keyhole = await createKeyhole({ config, keyring: keyringFromMasterKey(randomBytes(32).toString('base64url')), log: () => undefined });
  await keyhole.listen();
  return {
    keyhole, publicUrl, as, v1, v2,
    legacyUrl: `${publicUrl}/mcp/legacy`, modernUrl: `${publicUrl}/mcp/modern`, scopedUrl: `${publicUrl}/mcp/scoped`,
    async close() {
      await keyhole.close();
      await Promise.all([v1.close(), v2.close()]);
      await as.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const PROTOCOL_ADMIN_TOKEN = 'admin-token-for-protocol-tests-0123';
