/**
 * The full real stack for e2e tests: oidc-provider (upstream AS) + SDK MCP server (upstream) + keyhole, all on
 * 127.0.0.1 with ephemeral ports, a real SQLite file in a temp dir, and captured log lines.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startUpstreamAuthorizationServer, type UpstreamAs } from '../../examples/demo/upstream-authorization-server.js';
import { startUpstreamMcpServer, type UpstreamMcp } from '../../examples/demo/upstream-mcp-server.js';
import { parseConfig } from '../../src/config/load-config.js';
import { createKeyhole, type Keyhole } from '../../src/keyhole.js';
import { keyringFromMasterKey } from '../../src/store/crypto/vault-cipher.js';
import type { KeyholeConfig } from '../../src/config/schema.js';
import { freePort } from './free-port.js';

export interface StackOptions {
  /** Upstream access-token lifetime (oidc-provider). */
  upstreamAccessTokenTtlSeconds?: number;
  /** Extra top-level config (tokens, allowedOrigins, …) merged into keyhole's config. */
  config?: Record<string, unknown>;
  /** Extra per-server config for server "demo" (scopes, defaultPolicy, …). */
  server?: Record<string, unknown>;
  masterKey?: string;
  dir?: string;
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
  close(): Promise<void>;
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'keyhole-e2e-'));
  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${port}`;
  const upstreamClient = { clientId: 'keyhole', clientSecret: randomBytes(24).toString('base64url') };
  const as = await startUpstreamAuthorizationServer({
    clients: [{ ...upstreamClient, redirectUris: [`${publicUrl}/oauth/callback`] }],
    accessTokenTtlSeconds: opts.upstreamAccessTokenTtlSeconds ?? 300,
  });
  const mcp = await startUpstreamMcpServer({ issuer: as.issuer });
  as.addResource(mcp.url);
  const dbPath = join(dir, 'keyhole.db');
  const config = parseConfig({
    publicUrl,
    listen: { host: '127.0.0.1', port },
    storage: { sqlite: dbPath, vault: 'sqlite' },
    admin: { token: 'admin-token-for-tests-0123456789' },
    ...opts.config,
    servers: {
      demo: {
        displayName: 'Demo',
        upstream: mcp.url,
        oauth: { issuer: as.issuer, ...upstreamClient, scopes: ['openid', 'offline_access', 'mcp:tools'], resource: mcp.url },
        ...opts.server,
      },
    },
  });
  const masterKey = opts.masterKey ?? randomBytes(32).toString('base64url');
  const logs: string[] = [];
  const keyhole = createKeyhole({ config, keyring: keyringFromMasterKey(masterKey), log: (l) => logs.push(l) });
  await keyhole.listen();
  return {
    keyhole, config, publicUrl, mcpUrl: `${publicUrl}/mcp/demo`, as, mcp, upstreamClient, masterKey, dir, dbPath, logs,
    async close() {
      await keyhole.close();
      await mcp.close();
      await as.close();
      if (!opts.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
