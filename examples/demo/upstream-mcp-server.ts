// A real upstream MCP server for the demo and the e2e tests: the SDK's McpServer
// over stateful Streamable HTTP at /mcp, accepting only RFC 9068 JWT access
// tokens from the upstream authorization server whose `aud` is its own URL.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { listenOnLoopback } from './loopback-server.js';

import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { z } from 'zod';

export interface UpstreamMcpOptions {
  /** Issuer of the upstream authorization server, e.g. http://127.0.0.1:PORT. */
  issuer: string;
  /** Answer POSTs with plain JSON instead of SSE (the SDK's enableJsonResponse). Default false. */
  jsonResponse?: boolean;
  /** Port on 127.0.0.1; 0 (default) picks an ephemeral one. */
  port?: number;
  /**
   * Trust JWTs from another issuer instead of `issuer`'s authorization server (keyhole's identity mode): each token
   * must be `typ: at+jwt`, signed by a key of `jwksUrl`, with this `issuer` and `audience` (default: `url`).
   */
  trust?: { jwksUrl: string; issuer: string; audience?: string };
  /** Accept this static API key in `header` instead of a bearer token (keyhole's static credentials). */
  apiKey?: { header: string; value: string };
  /**
   * More tools, registered on every session's server after the built-in ones (e2e tests of traffic policy).
   * `record(tool, extra.authInfo)` adds the call to `calls`.
   */
  extraTools?: (mcp: McpServer, record: (tool: string, authInfo: AuthInfo | undefined) => void) => void;
}

export interface UpstreamMcpCall {
  tool: string;
  sub: string;
  clientId?: string;
}

export interface UpstreamMcp {
  /** http://127.0.0.1:PORT/mcp; also its RFC 8707 resource identifier (the JWT `aud`). */
  url: string;
  port: number;
  /** Every Authorization header value received (undefined ones are skipped). */
  seenAuthorizationHeaders: string[];
  /** The headers of every request received. */
  seenRequestHeaders: Array<Record<string, string | string[] | undefined>>;
  /** Every tool call, with the verified token's `sub` and `client_id`. */
  calls: UpstreamMcpCall[];
  close(): Promise<void>;
}

type AuthedRequest = IncomingMessage & { auth?: AuthInfo };

const MAX_BODY = 4 * 1024 * 1024;

async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_BODY) throw new Error('body too large');
    chunks.push(buf);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  return text.length ? (JSON.parse(text) as unknown) : undefined;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function text(value: string) {
  return { content: [{ type: 'text' as const, text: value }] };
}

export async function startUpstreamMcpServer(opts: UpstreamMcpOptions): Promise<UpstreamMcp> {
  const issuer = opts.issuer.replace(/\/+$/, '');
  const seenAuthorizationHeaders: string[] = [];
  const seenRequestHeaders: Array<Record<string, string | string[] | undefined>> = [];
  const calls: UpstreamMcpCall[] = [];
  const transports = new Map<string, StreamableHTTPServerTransport>();

  // The JWKS location comes from the AS's own metadata, fetched once on first use.
  let jwksPromise: Promise<ReturnType<typeof createRemoteJWKSet>> | undefined;
  const getJwks = () => {
    jwksPromise ??= (async () => {
      const res = await fetch(`${issuer}/.well-known/openid-configuration`);
      if (!res.ok) throw new Error(`upstream AS metadata: HTTP ${res.status}`);
      const meta = (await res.json()) as { jwks_uri?: string };
      return createRemoteJWKSet(new URL(meta.jwks_uri ?? `${issuer}/jwks`));
    })().catch((err: unknown) => {
      jwksPromise = undefined;
      throw err;
    });
    return jwksPromise;
  };

  const { server, port, close: closeListener } = await listenOnLoopback(opts.port);
  const origin = `http://127.0.0.1:${port}`;
  const url = `${origin}/mcp`;
  const resourceMetadataUrl = `${origin}/.well-known/oauth-protected-resource/mcp`;

  const unauthorized = (res: ServerResponse, description: string) =>
    sendJson(
      res,
      401,
      { error: 'invalid_token', error_description: description },
      {
        'www-authenticate': `Bearer error="invalid_token", error_description="${description.replace(/["\\]/g, '')}", resource_metadata="${resourceMetadataUrl}"`,
      },
    );

  const trustedJwks = opts.trust ? createRemoteJWKSet(new URL(opts.trust.jwksUrl)) : undefined;
  const verify = async (authorization: string | undefined, req: IncomingMessage): Promise<AuthInfo> => {
    if (opts.apiKey) {
      const presented = req.headers[opts.apiKey.header.toLowerCase()];
      if (presented !== opts.apiKey.value) throw new Error('missing or wrong API key');
      return { token: presented, clientId: '', scopes: [], resource: new URL(url), extra: { sub: 'api-key', claims: { sub: 'api-key' } } };
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!match?.[1]) throw new Error('missing bearer token');
    const token = match[1];
    const { payload } = trustedJwks
      ? await jwtVerify(token, trustedJwks, { issuer: opts.trust!.issuer, audience: opts.trust!.audience ?? url, typ: 'at+jwt', algorithms: ['ES256'] })
      : await jwtVerify(token, await getJwks(), { issuer, audience: url });
    if (typeof payload.sub !== 'string') throw new Error('token has no sub');
    const p = payload as JWTPayload & { client_id?: unknown; scope?: unknown };
    return {
      token,
      clientId: typeof p.client_id === 'string' ? p.client_id : '',
      scopes: typeof p.scope === 'string' && p.scope ? p.scope.split(' ') : [],
      ...(typeof p.exp === 'number' ? { expiresAt: p.exp } : {}),
      resource: new URL(url),
      extra: { sub: payload.sub, claims: payload },
    };
  };

  const record = (tool: string, authInfo: AuthInfo | undefined) => {
    const sub = typeof authInfo?.extra?.sub === 'string' ? authInfo.extra.sub : '';
    calls.push({ tool, sub, ...(authInfo?.clientId ? { clientId: authInfo.clientId } : {}) });
  };

  const buildServer = (): McpServer => {
    const mcp = new McpServer({ name: 'keyhole-demo-upstream', version: '1.0.0' }, { capabilities: { logging: {} } });

    mcp.registerTool('whoami', { description: 'Who the upstream token belongs to', annotations: { readOnlyHint: true } }, async (extra) => {
      record('whoami', extra.authInfo);
      const claims = (extra.authInfo?.extra?.claims ?? {}) as Record<string, unknown>;
      return text(JSON.stringify({ sub: claims.sub, client_id: claims.client_id, scope: claims.scope }));
    });

    mcp.registerTool(
      'echo',
      { description: 'Echo the text back', inputSchema: { text: z.string() }, annotations: { readOnlyHint: true } },
      async ({ text: value }, extra) => {
        record('echo', extra.authInfo);
        return text(value);
      },
    );

    mcp.registerTool(
      'count',
      {
        description: 'Count to n, sending a progress notification per step',
        inputSchema: { n: z.number().int().min(0).max(10_000), delayMs: z.number().int().min(0).max(60_000).optional() },
        annotations: { readOnlyHint: true },
      },
      async ({ n, delayMs }, extra) => {
        record('count', extra.authInfo);
        const progressToken = extra._meta?.progressToken;
        for (let i = 1; i <= n; i++) {
          if (extra.signal.aborted) return { ...text(`cancelled at ${i}`), isError: true };
          if (progressToken !== undefined) {
            await extra.sendNotification({
              method: 'notifications/progress',
              params: { progressToken, progress: i, total: n, message: `${i}/${n}` },
            });
          }
          if (delayMs && i < n) await new Promise((r) => setTimeout(r, delayMs));
        }
        return text(`counted ${n}`);
      },
    );

    mcp.registerTool('list_issues', { description: 'List issues (read)', annotations: { readOnlyHint: true } }, async (extra) => {
      record('list_issues', extra.authInfo);
      return text(JSON.stringify([{ id: '1', title: 'First issue' }]));
    });

    mcp.registerTool(
      'create_issue',
      { description: 'Create an issue (write)', inputSchema: { title: z.string() }, annotations: { readOnlyHint: false } },
      async ({ title }, extra) => {
        record('create_issue', extra.authInfo);
        return text(`created issue "${title}"`);
      },
    );

    mcp.registerTool(
      'delete_issue',
      {
        description: 'Delete an issue (write)',
        inputSchema: { id: z.string() },
        annotations: { readOnlyHint: false, destructiveHint: true },
      },
      async ({ id }, extra) => {
        record('delete_issue', extra.authInfo);
        return text(`deleted issue ${id}`);
      },
    );

    opts.extraTools?.(mcp, record);
    return mcp;
  };

  const handle = async (req: AuthedRequest, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', origin).pathname;

    // RFC 9728 protected resource metadata (unauthenticated).
    if (req.method === 'GET' && (path === '/.well-known/oauth-protected-resource/mcp' || path === '/.well-known/oauth-protected-resource')) {
      sendJson(res, 200, {
        resource: url,
        authorization_servers: [issuer],
        bearer_methods_supported: ['header'],
        scopes_supported: ['mcp:tools', 'mcp:read', 'mcp:write'],
      });
      return;
    }

    // Liveness for keyhole's active health checks (`health.path`), unauthenticated.
    if (req.method === 'GET' && path === '/healthz') {
      sendJson(res, 200, { status: 'ok' });
      return;
    }

    if (path !== '/mcp') {
      sendJson(res, 404, { error: 'not_found' });
      return;
    }

    seenRequestHeaders.push({ ...req.headers });
    const authorization = req.headers.authorization;
    if (authorization !== undefined) seenAuthorizationHeaders.push(authorization);

    try {
      req.auth = await verify(authorization, req);
    } catch (err) {
      unauthorized(res, err instanceof Error ? err.message : 'invalid token');
      return;
    }

    const sessionId = req.headers['mcp-session-id'];
    const sid = Array.isArray(sessionId) ? sessionId[0] : sessionId;

    if (req.method === 'POST') {
      let body: unknown;
      try {
        body = await readJsonBody(req);
      } catch {
        sendJson(res, 400, { jsonrpc: '2.0', error: { code: -32700, message: 'Parse error' }, id: null });
        return;
      }
      const existing = sid ? transports.get(sid) : undefined;
      if (existing) {
        await existing.handleRequest(req, res, body);
        return;
      }
      if (!sid && isInitializeRequest(body)) {
        const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
          sessionIdGenerator: () => randomUUID(),
          enableJsonResponse: opts.jsonResponse ?? false,
          onsessioninitialized: (id) => {
            transports.set(id, transport);
          },
        });
        transport.onclose = () => {
          if (transport.sessionId) transports.delete(transport.sessionId);
        };
        await buildServer().connect(transport);
        await transport.handleRequest(req, res, body);
        return;
      }
      if (sid) {
        sendJson(res, 404, { jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null });
      } else {
        sendJson(res, 400, { jsonrpc: '2.0', error: { code: -32000, message: 'Bad Request: No valid session ID provided' }, id: null });
      }
      return;
    }

    if (req.method === 'GET' || req.method === 'DELETE') {
      if (!sid) {
        sendJson(res, 400, { jsonrpc: '2.0', error: { code: -32000, message: 'Missing session ID' }, id: null });
        return;
      }
      const transport = transports.get(sid);
      if (!transport) {
        sendJson(res, 404, { jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null });
        return;
      }
      await transport.handleRequest(req, res);
      return;
    }

    res.writeHead(405, { allow: 'GET, POST, DELETE' }).end();
  };

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) {
        sendJson(res, 500, { jsonrpc: '2.0', error: { code: -32603, message: String(err) }, id: null });
      } else {
        res.destroy();
      }
    });
  });

  return {
    url,
    port,
    seenAuthorizationHeaders,
    seenRequestHeaders,
    calls,
    async close() {
      for (const t of [...transports.values()]) await t.close().catch(() => undefined);
      transports.clear();
      await closeListener();
    },
  };
}
