/**
 * `keyhole demo`: keyhole in front of a local upstream — oidc-provider as the authorization server and an SDK
 * MCP server — all on 127.0.0.1, no account needed. The upstream peers are the same code the e2e tests use
 * (examples/demo). They are loaded only here, so a production install never needs oidc-provider.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
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
  /** The SQLite file; in a temporary directory deleted on close unless `dbPath` was given. */
  dbPath: string;
  mcpUrl: string;
  issuer: string;
  upstreamMcpUrl: string;
  adminToken: string;
  close(): Promise<void>;
}

/** The demo's three listeners, by the option that sets each one's port. */
const COMPONENTS = {
  keyhole: { flag: '--port', what: 'keyhole' },
  as: { flag: '--auth-port', what: "the demo's upstream authorization server (oidc-provider)" },
  mcp: { flag: '--upstream-port', what: "the demo's upstream MCP server" },
} as const;

/** A port of the demo is taken: names the component and the option that moves it. */
export class DemoPortInUseError extends Error {
  override name = 'DemoPortInUseError';
  constructor(readonly component: keyof typeof COMPONENTS, readonly port: number) {
    const c = COMPONENTS[component];
    super(`port ${port} is already in use: ${c.what} cannot listen there; choose another with ${c.flag} N`);
  }
}

async function listening<T>(component: keyof typeof COMPONENTS, port: number, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (e) {
    if ((e as NodeJS.ErrnoException)?.code === 'EADDRINUSE') throw new DemoPortInUseError(component, port);
    throw e;
  }
}

/**
 * oidc-provider prints development warnings meant for its production users (in-memory adapter, dev interactions,
 * dev keys) and, on Node 20, "Unsupported runtime" (it asks for Node 22 but works on 20, see TESTING-NOTES).
 * In the demo all of that is intended; the banner says so once instead. Only lines starting with
 * "oidc-provider WARNING:" are dropped.
 */
export function quietOidcProviderWarnings(): void {
  const warn = console.warn.bind(console);
  console.warn = (...args: unknown[]) => {
    // eslint-disable-next-line no-control-regex
    if (typeof args[0] === 'string' && /^(\x1b\[[0-9;]*m)?oidc-provider WARNING:/.test(args[0])) return;
    warn(...args);
  };
}

async function loadPeers() {
  try {
    const as = await import('../examples/demo/upstream-authorization-server.js');
    const mcp = await import('../examples/demo/upstream-mcp-server.js');
    return { startUpstreamAuthorizationServer: as.startUpstreamAuthorizationServer, startUpstreamMcpServer: mcp.startUpstreamMcpServer };
  } catch (e) {
    throw new Error(`keyhole demo needs the optional dependency oidc-provider, which is not installed (npm install --omit=optional leaves it out; serving never needs it). Install it with: npm install oidc-provider (${(e as Error).message.split('\n')[0]})`);
  }
}

export async function startDemo(opts: DemoOptions): Promise<RunningDemo> {
  const { startUpstreamAuthorizationServer, startUpstreamMcpServer } = await loadPeers();
  const publicUrl = `http://127.0.0.1:${opts.port}`;
  const clientSecret = randomBytes(24).toString('base64url');
  const as = await listening('as', opts.asPort, () => startUpstreamAuthorizationServer({
    port: opts.asPort,
    clients: [{ clientId: 'keyhole', clientSecret, redirectUris: [`${publicUrl}/oauth/callback`] }],
    accessTokenTtlSeconds: opts.upstreamAccessTokenTtlSeconds ?? 300,
  }));
  const mcp = await listening('mcp', opts.mcpPort, () => startUpstreamMcpServer({ issuer: as.issuer, port: opts.mcpPort })).catch(async (e: unknown) => {
    await as.close();
    throw e;
  });
  as.addResource(mcp.url);
  const tempDir = opts.dbPath ? undefined : mkdtempSync(join(tmpdir(), 'keyhole-demo-'));
  const dbPath = opts.dbPath ?? join(tempDir!, 'keyhole.db');
  const cleanUp = async () => {
    await mcp.close();
    await as.close();
    if (tempDir) rmSync(tempDir, { recursive: true, force: true });
  };
  const adminToken = randomBytes(24).toString('base64url');
  const config = parseConfig({
    publicUrl,
    listen: { host: '127.0.0.1', port: opts.port },
    storage: { sqlite: dbPath, vault: 'sqlite' },
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
  try {
    await listening('keyhole', opts.port, () => keyhole.listen());
  } catch (e) {
    await keyhole.close().catch(() => undefined);
    await cleanUp();
    throw e;
  }
  return {
    keyhole, adminToken, issuer: as.issuer, upstreamMcpUrl: mcp.url, dbPath,
    mcpUrl: `${publicUrl}/mcp/demo`,
    async close() {
      await keyhole.close();
      await cleanUp();
    },
  };
}

export function demoBanner(d: RunningDemo): string {
  return [
    '',
    'keyhole demo is running.',
    '',
    `  MCP endpoint (connect your client here):  ${d.mcpUrl}`,
    `  Upstream authorization server (oidc-provider, --auth-port): ${d.issuer}   — sign in with ANY username and password`,
    `  Upstream MCP server (--upstream-port; only keyhole talks to it): ${d.upstreamMcpUrl}`,
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
    `Database: ${d.dbPath}`,
    'oidc-provider is the demo\'s stand-in SaaS: its in-memory storage and test login are intended here, and its',
    '"unsupported runtime" warning on Node 20 is silenced (it works on Node 20).',
    'Press Ctrl+C to stop. The demo\'s temporary directory (database) is deleted on exit.',
    '',
  ].join('\n');
}
