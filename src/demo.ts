/**
 * `keyhole demo`: keyhole in front of a local upstream — oidc-provider as the authorization server and an SDK
 * MCP server — all on 127.0.0.1, no account needed. The upstream peers are the same code the e2e tests use
 * (examples/demo). They are loaded only here, so a production install never needs oidc-provider.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from './config/load-config.js';
import { createKeyhole, type Keyhole } from './keyhole.js';
import { keyringFromMasterKey } from './store/crypto/vault-cipher.js';

export interface DemoOptions {
  port: number;
  asPort: number;
  mcpPort: number;
  dbPath?: string;
  upstreamAccessTokenTtlSeconds?: number;
  log?: (line: string) => void;
}

export interface RunningDemo {
  keyhole: Keyhole;
  mcpUrl: string;
  issuer: string;
  upstreamMcpUrl: string;
  adminToken: string;
  close(): Promise<void>;
}

async function loadPeers() {
  try {
    const as = await import('../examples/demo/upstream-authorization-server.js');
    const mcp = await import('../examples/demo/upstream-mcp-server.js');
    return { startUpstreamAuthorizationServer: as.startUpstreamAuthorizationServer, startUpstreamMcpServer: mcp.startUpstreamMcpServer };
  } catch (e) {
    throw new Error(`keyhole demo needs the development dependencies (oidc-provider). Run \`npm install\` in a keyhole checkout. (${(e as Error).message})`);
  }
}

export async function startDemo(opts: DemoOptions): Promise<RunningDemo> {
  const { startUpstreamAuthorizationServer, startUpstreamMcpServer } = await loadPeers();
  const publicUrl = `http://127.0.0.1:${opts.port}`;
  const clientSecret = randomBytes(24).toString('base64url');
  const as = await startUpstreamAuthorizationServer({
    port: opts.asPort,
    clients: [{ clientId: 'keyhole', clientSecret, redirectUris: [`${publicUrl}/oauth/callback`] }],
    accessTokenTtlSeconds: opts.upstreamAccessTokenTtlSeconds ?? 300,
  });
  const mcp = await startUpstreamMcpServer({ issuer: as.issuer, port: opts.mcpPort });
  as.addResource(mcp.url);
  const adminToken = randomBytes(24).toString('base64url');
  const config = parseConfig({
    publicUrl,
    listen: { host: '127.0.0.1', port: opts.port },
    storage: { sqlite: opts.dbPath ?? join(mkdtempSync(join(tmpdir(), 'keyhole-demo-')), 'keyhole.db'), vault: 'sqlite' },
    admin: { token: adminToken },
    tokens: { upstreamRefreshSkewSeconds: 30 },
    servers: {
      demo: {
        displayName: 'Demo issue tracker',
        upstream: mcp.url,
        oauth: { issuer: as.issuer, clientId: 'keyhole', clientSecret, scopes: ['openid', 'offline_access', 'mcp:tools'], resource: mcp.url },
        // Delegated scopes: a client granted only `read` sees and calls only the read tools.
        scopes: {
          read: { description: 'Read issues and use the harmless tools', upstreamScopes: ['mcp:read'], tools: ['whoami', 'echo', 'count', 'list_*'] },
          write: { description: 'Create and delete issues', upstreamScopes: ['mcp:write'], tools: ['create_issue', 'delete_issue'] },
        },
        defaultPolicy: 'deny',
      },
    },
  });
  // The demo makes a throwaway master key unless one is given: its database lives in a temp dir.
  const keyring = keyringFromMasterKey(process.env.KEYHOLE_MASTER_KEY ?? randomBytes(32).toString('base64url'));
  const keyhole = await createKeyhole({ config, keyring, ...(opts.log ? { log: opts.log } : {}) });
  await keyhole.listen();
  return {
    keyhole, adminToken, issuer: as.issuer, upstreamMcpUrl: mcp.url,
    mcpUrl: `${publicUrl}/mcp/demo`,
    async close() {
      await keyhole.close();
      await mcp.close();
      await as.close();
    },
  };
}

export function demoBanner(d: RunningDemo): string {
  return [
    '',
    'keyhole demo is running.',
    '',
    `  MCP endpoint (connect your client here):  ${d.mcpUrl}`,
    `  Upstream authorization server (oidc-provider): ${d.issuer}   — sign in with ANY username and password`,
    `  Upstream MCP server (only keyhole talks to it): ${d.upstreamMcpUrl}`,
    `  Admin page (grants, clients, events, revoke): ${d.mcpUrl.replace(/\/mcp\/demo$/, '/admin')}   — admin token: ${d.adminToken}`,
    '',
    'Connect a client:',
    `  Claude Code:     claude mcp add --transport http keyhole-demo ${d.mcpUrl}`,
    `  mcp-remote:      npx mcp-remote ${d.mcpUrl}`,
    `  MCP Inspector:   npx @modelcontextprotocol/inspector  → Streamable HTTP → ${d.mcpUrl}`,
    `  VS Code:         .vscode/mcp.json → { "servers": { "keyhole-demo": { "type": "http", "url": "${d.mcpUrl}" } } }`,
    '',
    'Your client opens a browser: approve on keyhole\'s consent page, sign in upstream, then call the tools',
    '(whoami, echo, count, list_issues; create_issue and delete_issue need the `write` scope). Lifecycle events are',
    'printed below as JSON lines.',
    'Press Ctrl+C to stop. Everything (database, keys) is thrown away on exit.',
    '',
  ].join('\n');
}
