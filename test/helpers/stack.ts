/**
 * The full real stack for e2e tests: oidc-provider (upstream AS) + SDK MCP server (upstream) + keyhole, all on
 * 127.0.0.1 with ephemeral ports, a real SQLite file in a temp dir, and captured log lines.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startUpstreamAuthorizationServer, type UpstreamAs } from '../../examples/demo/upstream-authorization-server.js';
import { startUpstreamMcpServer, type UpstreamMcp, type UpstreamMcpOptions } from '../../examples/demo/upstream-mcp-server.js';
import { parseConfig } from '../../src/config/load-config.js';
import { createKeyhole, type Keyhole } from '../../src/keyhole.js';
import { keyringFromMasterKey } from '../../src/store/crypto/vault-cipher.js';
import type { KeyholeConfig } from '../../src/config/schema.js';
import { reservePort } from './free-port.js';
import { startOrgIdp, type OrgAccount, type OrgIdp } from './org-idp.js';

export interface StackOptions {
  /** Upstream access-token lifetime (oidc-provider). */
  upstreamAccessTokenTtlSeconds?: number;
  /** Extra top-level config (tokens, allowedOrigins, …) merged into keyhole's config. */
  config?: Record<string, unknown>;
  /** Extra per-server config for server "demo" (scopes, defaultPolicy, …). */
  server?: Record<string, unknown>;
  masterKey?: string;
  dir?: string;
  /** More servers, each with its own oidc-provider and SDK MCP server (audience isolation tests). */
  extraServers?: Record<string, { jsonResponse?: boolean; server?: Record<string, unknown>; extraTools?: UpstreamMcpOptions['extraTools'] }>;
  /** The demo upstream answers in plain JSON instead of SSE. */
  jsonResponse?: boolean;
  /** More tools on the demo upstream (see UpstreamMcpOptions.extraTools). */
  extraTools?: UpstreamMcpOptions['extraTools'];
  /** Organization sign-in (issue 13): a second oidc-provider as the organization's IdP, and `identity` pointing at it. */
  orgIdp?: { accounts: Record<string, OrgAccount>; identity?: Record<string, unknown> };
}

export interface Upstream {
  as: UpstreamAs;
  mcp: UpstreamMcp;
}

export interface Stack {
  keyhole: Keyhole;
  config: KeyholeConfig;
  publicUrl: string;
  mcpUrl: string;
  as: UpstreamAs;
  mcp: UpstreamMcp;
  upstreamClient: { clientId: string; clientSecret: string };
  masterKey: string;
  dir: string;
  dbPath: string;
  /** Every JSON log line keyhole wrote. */
  logs: string[];
  /** The extra servers' upstreams, by server name. */
  extra: Record<string, Upstream>;
  /** The organization IdP, with `orgIdp`. */
  orgIdp: OrgIdp | undefined;
  close(): Promise<void>;
}

async function startUpstream(publicUrl: string, client: { clientId: string; clientSecret: string }, ttl: number, jsonResponse: boolean, extraTools?: UpstreamMcpOptions['extraTools']): Promise<Upstream> {
  const as = await startUpstreamAuthorizationServer({ clients: [{ ...client, redirectUris: [`${publicUrl}/oauth/callback`] }], accessTokenTtlSeconds: ttl });
  const mcp = await startUpstreamMcpServer({ issuer: as.issuer, jsonResponse, ...(extraTools ? { extraTools } : {}) });
  as.addResource(mcp.url);
  return { as, mcp };
}

function oauthFor(u: Upstream, client: { clientId: string; clientSecret: string }) {
  return { issuer: u.as.issuer, ...client, scopes: ['openid', 'offline_access', 'mcp:tools'], resource: u.mcp.url };
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'keyhole-e2e-'));
  const reserved = await reservePort();
  const port = reserved.port;
  const publicUrl = `http://127.0.0.1:${port}`;
  const upstreamClient = { clientId: 'keyhole', clientSecret: randomBytes(24).toString('base64url') };
  const ttl = opts.upstreamAccessTokenTtlSeconds ?? 300;
  const main = await startUpstream(publicUrl, upstreamClient, ttl, opts.jsonResponse ?? false, opts.extraTools);
  const extra: Record<string, Upstream> = {};
  for (const [name, o] of Object.entries(opts.extraServers ?? {})) extra[name] = await startUpstream(publicUrl, upstreamClient, ttl, o.jsonResponse ?? false, o.extraTools);
  const dbPath = join(dir, 'keyhole.db');
  const orgIdp = opts.orgIdp ? await startOrgIdp({ publicUrl, accounts: opts.orgIdp.accounts }) : undefined;
  const config = parseConfig({
    publicUrl,
    listen: { host: '127.0.0.1', port },
    storage: { sqlite: dbPath, vault: 'sqlite' },
    admin: { token: 'admin-token-for-tests-0123456789' },
    ...(orgIdp ? { identity: orgIdp.identityConfig(opts.orgIdp?.identity) } : {}),
    ...opts.config,
    servers: {
      demo: { displayName: 'Demo', upstream: main.mcp.url, oauth: oauthFor(main, upstreamClient), ...opts.server },
      ...Object.fromEntries(Object.entries(extra).map(([name, u]) => [name, { upstream: u.mcp.url, oauth: oauthFor(u, upstreamClient), ...opts.extraServers?.[name]?.server }])),
    },
  });
  const masterKey = opts.masterKey ?? randomBytes(32).toString('base64url');
  const logs: string[] = [];
  const keyhole = await createKeyhole({ config, keyring: keyringFromMasterKey(masterKey), log: (l) => logs.push(l) });
  await reserved.release();
  await keyhole.listen();
  return {
    keyhole, config, publicUrl, mcpUrl: `${publicUrl}/mcp/demo`, as: main.as, mcp: main.mcp, upstreamClient, masterKey, dir, dbPath, logs, extra, orgIdp,
    async close() {
      await keyhole.close();
      await orgIdp?.close();
      for (const u of [main, ...Object.values(extra)]) {
        await u.mcp.close();
        await u.as.close();
      }
      if (!opts.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
