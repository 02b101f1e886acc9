/**
 * keyhole's `/mcp/{server}` end to end over real sockets: a keyhole instance (in-memory SQLite, seeded grants and
 * upstream credentials) served by @hono/node-server, in front of a real node:http upstream that records every
 * request it receives (so a test can assert the upstream saw nothing). Two servers: `plain` (no scope map) and
 * `scoped` (delegated scopes: `read` → get_*, echo; `write` → write_note).
 */
import { randomBytes } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { parseConfig } from '../../../src/config/load-config.js';
import { createKeyhole, type Keyhole } from '../../../src/keyhole.js';
import { keyringFromMasterKey, VaultCipher } from '../../../src/store/crypto/vault-cipher.js';
import { openSqliteStore, type SqliteStore } from '../../../src/store/sqlite/sqlite-store.js';
import { randomToken, sha256Hex } from '../../../src/store/crypto/hash.js';
import { sealContext } from '../../../src/upstream/seal-context.js';
import type { GrantRecord } from '../../../src/store/types.js';
import { makeAccess, makeClient, makeCredential, makeGrant } from '../store/store-contract.js';

export const T0 = 1_700_000_000;

export interface UpstreamRequest {
  method: string;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  body: string;
}

export type UpstreamHandler = (req: UpstreamRequest, res: ServerResponse) => void;

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface McpHarness {
  keyhole: Keyhole;
  store: SqliteStore;
  /** Every request the upstream received, in order. */
  upstreamSeen: UpstreamRequest[];
  /** Replace how the upstream answers (default: a JSON-RPC result echoing nothing). */
  setUpstream(handler: UpstreamHandler): void;
  /** A fresh grant on `server` with an access token and a sealed upstream credential. */
  grant(server: 'plain' | 'scoped', scopes?: string[]): Promise<{ grant: GrantRecord; token: string }>;
  /** keyhole's MCP endpoint URL for a server. */
  url(server: string): string;
  /** One raw HTTP request to keyhole (headers as a flat array keep duplicates and casing). */
  call(method: string, server: string, headers: string[] | Record<string, string>, body?: string | Buffer): Promise<Reply>;
  close(): Promise<void>;
}

async function relayTo(fetchFn: (req: Request) => Promise<Response>, req: IncomingMessage, body: string, res: ServerResponse): Promise<void> {
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
  const answer = await fetchFn(new Request(`http://${req.headers.host}${req.url}`, { method: req.method, headers, ...(req.method === 'POST' ? { body } : {}) }));
  res.writeHead(answer.status, Object.fromEntries(answer.headers));
  res.end(Buffer.from(await answer.arrayBuffer()));
}

const defaultUpstream: UpstreamHandler = (_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end('{"jsonrpc":"2.0","id":1,"result":{}}');
};

/** `upstreamFetch`: serve a web-standard handler (an SDK 2.x `createMcpHandler`) as the upstream instead. */
/** `servers`: extra config per server (traffic policy, …), merged into `plain` and `scoped`. */
/**
 * `via`: how `/mcp` requests reach the pipeline. `dispatch` (default) as `keyhole.listen()` serves them: the plain
 * dispatcher before Hono (src/proxy/mcp-dispatch.ts); `hono`: Hono's route (`app.fetch`), the same steps.
 */
export async function startMcpHarness(opts: { upstreamFetch?: (req: Request) => Promise<Response>; servers?: { plain?: Record<string, unknown>; scoped?: Record<string, unknown> }; via?: 'dispatch' | 'hono' } = {}): Promise<McpHarness> {
  const upstreamSeen: UpstreamRequest[] = [];
  let handler = defaultUpstream;
  const upstream: Server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const seen = { method: req.method!, headers: req.headers, rawHeaders: req.rawHeaders, body: Buffer.concat(chunks).toString('utf8') };
      upstreamSeen.push(seen);
      if (opts.upstreamFetch) void relayTo(opts.upstreamFetch, req, seen.body, res);
      else handler(seen, res);
    });
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/mcp`;
  const oauth = (id: string) => ({ authorizationEndpoint: 'http://127.0.0.1:9/authorize', tokenEndpoint: 'http://127.0.0.1:9/token', clientId: id, clientSecret: 's', scopes: ['openid'] });
  const config = parseConfig({
    publicUrl: 'http://127.0.0.1:8787',
    storage: { sqlite: ':memory:', vault: 'sqlite' },
    servers: {
      plain: { upstream: upstreamUrl, oauth: oauth('kh-plain'), ...opts.servers?.plain },
      scoped: {
        upstream: upstreamUrl,
        oauth: oauth('kh-scoped'),
        scopes: {
          read: { description: 'Read', upstreamScopes: [], tools: ['get_*', 'echo'] },
          write: { description: 'Write', upstreamScopes: [], tools: ['write_note'] },
        },
        ...opts.servers?.scoped,
      },
    },
  }, {});
  const keyring = keyringFromMasterKey(randomBytes(32).toString('base64url'));
  const store = openSqliteStore(':memory:');
  const cipher = new VaultCipher(keyring);
  const keyhole = await createKeyhole({ config, keyring, store, log: () => undefined, clock: () => T0 });
  let port = 0;
  const server: ServerType = await new Promise((resolve) => {
    const front = opts.via === 'hono' ? {} : {
      createServer: ((options: object, hono: (req: IncomingMessage, res: ServerResponse) => void) => createServer(options, (req, res) => {
        if (!keyhole.app.dispatchMcp(req, res)) hono(req, res);
      })) as unknown as typeof createServer,
    };
    const s = serve({ fetch: keyhole.app.fetch, hostname: '127.0.0.1', port: 0, ...front }, (info) => {
      port = info.port;
      resolve(s);
    });
  });
  const client = makeClient({ createdAt: T0 });
  await store.clients.create(client);

  return {
    keyhole,
    store,
    upstreamSeen,
    setUpstream(h) {
      handler = h;
    },
    async grant(name, scopes = ['read']) {
      const grant = makeGrant({ clientId: client.clientId, server: name, scopes, createdAt: T0 });
      await store.grants.create(grant);
      const token = randomToken('kh_at_');
      await store.tokens.createAccess(makeAccess(grant, `f_${randomBytes(8).toString('hex')}`, { hash: sha256Hex(token), expiresAt: T0 + 900, resource: `${config.publicUrl}/mcp/${name}`, scopes }));
      await store.upstreamCredentials.put(makeCredential(grant, {
        accessToken: await cipher.seal('upstream-access-value', sealContext.access(grant.id)),
        refreshToken: await cipher.seal('upstream-refresh-value', sealContext.refresh(grant.id)),
        accessExpiresAt: T0 + 3600,
        updatedAt: T0,
      }));
      return { grant, token };
    },
    url(name) {
      return `http://127.0.0.1:${port}/mcp/${name}`;
    },
    call(method, name, headers, body) {
      const flat = Array.isArray(headers) ? headers : Object.entries(headers).flat();
      return new Promise((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port, method, path: `/mcp/${name}`, headers: ['Host', `127.0.0.1:${port}`, ...flat] as never, agent: false }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end(body);
      });
    },
    async close() {
      await keyhole.close();
      await new Promise<void>((r) => server.close(() => r()));
      upstream.closeAllConnections();
      await new Promise<void>((r) => upstream.close(() => r()));
    },
  };
}
