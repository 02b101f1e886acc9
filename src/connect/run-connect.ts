/**
 * `keyhole connect <mcp-url>`: wires the pieces and runs until stdin closes (MCP stdio §Shutdown: the client closes
 * the server's input stream), SIGINT/SIGTERM, or stdout going away. Logs are plain lines on stderr; stdout belongs
 * to the StdioServerTransport alone.
 */
import type { Readable, Writable } from 'node:stream';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { ConnectOptions } from './connect-options.js';
import { ConnectOAuthProvider } from './connect-oauth-provider.js';
import type { ConnectCredentials } from './credential-store.js';
import { headerFetch } from './header-fetch.js';
import { CALLBACK_PATH, startLoopbackCallback } from './loopback-callback.js';
import { selectCredentialStore } from './select-credential-store.js';
import { SignIn } from './sign-in.js';
import { StdioHttpBridge } from './stdio-http-bridge.js';

export interface ConnectIo {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  env: NodeJS.ProcessEnv;
  version: string;
}

/** The port of a loopback redirect URI registered before (DCR answer), to keep matching strict servers. */
export function registeredCallbackPort(credentials: ConnectCredentials): number | undefined {
  const uris = (credentials.client as { redirect_uris?: unknown } | undefined)?.redirect_uris;
  if (!Array.isArray(uris)) return undefined;
  for (const raw of uris) {
    try {
      const u = new URL(String(raw));
      if (u.protocol === 'http:' && u.hostname === '127.0.0.1' && u.pathname === CALLBACK_PATH && u.port) return Number(u.port);
    } catch {
      // not a URL: ignore
    }
  }
  return undefined;
}

export async function runConnect(opts: ConnectOptions, io: ConnectIo): Promise<number> {
  const log = (line: string) => void io.stderr.write(`keyhole connect: ${line}\n`);
  const serverUrl = opts.serverUrl.href;
  const store = await selectCredentialStore(opts.store, io.env, log);
  const credentials = await store.load(serverUrl);
  const callback = await startLoopbackCallback({
    preferredPort: opts.callbackPort ?? registeredCallbackPort(credentials),
    // --callback-port is a promise to the user: fail rather than listen elsewhere.
    strictPort: opts.callbackPort !== undefined,
  });
  const registered = registeredCallbackPort(credentials);
  if (registered !== undefined && registered !== callback.port && !credentials.tokens) {
    // The registered redirect's port is taken and there are no tokens to keep: register again with this port, for
    // servers that (against RFC 8252 §7.3) compare loopback ports exactly.
    log(`the registered redirect URI uses port ${registered}, this run listens on ${callback.port}: registering again`);
    delete credentials.client;
  }
  const signIn = new SignIn({ callback, timeoutMs: opts.authTimeoutMs, openBrowser: opts.openBrowser, log });
  const provider = new ConnectOAuthProvider({
    serverUrl,
    store,
    credentials,
    redirectUrl: callback.redirectUrl,
    clientMetadataUrl: opts.clientMetadataUrl,
    softwareVersion: io.version,
    onAuthorizationUrl: (url) => signIn.begin(url),
    log,
  });
  const fetchWithHeaders = headerFetch(opts.serverUrl, opts.headers);
  const bridge = new StdioHttpBridge({
    client: new StdioServerTransport(io.stdin, io.stdout),
    newServerTransport: () => new StreamableHTTPClientTransport(opts.serverUrl, { authProvider: provider, fetch: fetchWithHeaders }),
    signIn,
    log,
  });
  signIn.attach(provider, () => bridge.server);

  const stopped = new Promise<string>((resolve) => {
    io.stdin.once('end', () => resolve('stdin closed'));
    io.stdin.once('close', () => resolve('stdin closed'));
    io.stdout.once('error', () => resolve('stdout closed'));
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  await bridge.start();
  log(`bridging stdio to ${serverUrl}; tokens in ${store.location}${credentials.tokens ? ' (found)' : ''}`);
  const reason = await stopped;
  log(`${reason}; closing`);
  await bridge.close();
  await callback.close();
  return 0;
}
