/**
 * Shared by the `keyhole connect` e2e tests: the SDK 1.x StdioClientTransport + Client spawn the real command
 * (`node bin/keyhole.js connect <url>`), read the authorization URL from its stderr, and a CookieBrowser (one cookie
 * jar per "browser") goes through keyhole's consent, oidc-provider's login and consent, and finally GETs the loopback
 * redirect the bridge listens on.
 */
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { CookieBrowser } from '../helpers/cookie-browser.js';
import { ROOT } from '../helpers/keyhole-cli.js';
import { driveConsent } from '../helpers/sdk-client.js';
import type { Stack } from '../helpers/stack.js';

export const BIN = join(ROOT, 'bin', 'keyhole.js');
export const AUTHORIZATION_URL = /^(https?:\/\/\S+\/authorize\?\S+)$/m;

export interface SpawnedBridge {
  client: Client;
  transport: StdioClientTransport;
  /** Everything the bridge wrote on stderr so far. */
  stderr(): string;
  /** Errors the client saw, e.g. a stdout line that is not a JSON-RPC message. */
  clientErrors: Error[];
  close(): Promise<void>;
}

/** The environment for the child: ours (D-Bus address for the keychain…) plus the given values, strings only. */
export function childEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (typeof v === 'string') env[k] = v;
  return { ...env, KEYHOLE_CONNECT_BROWSER: 'none', ...extra };
}

/** A new Client over a new StdioClientTransport that runs `keyhole connect <mcpUrl> …args` (not started yet). */
export function spawnBridge(mcpUrl: string, env: Record<string, string>, args: string[] = []): SpawnedBridge {
  const transport = new StdioClientTransport({ command: process.execPath, args: [BIN, 'connect', mcpUrl, ...args], env, stderr: 'pipe', cwd: ROOT });
  let stderr = '';
  transport.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const client = new Client({ name: 'connect-e2e', version: '1.0.0' });
  const clientErrors: Error[] = [];
  client.onerror = (e) => void clientErrors.push(e);
  return { client, transport, stderr: () => stderr, clientErrors, close: () => client.close() };
}

/** Resolves with the first authorization URL printed after stderr offset `from`. */
export async function waitForAuthorizationUrl(bridge: SpawnedBridge, from = 0, timeoutMs = 20_000): Promise<URL> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = AUTHORIZATION_URL.exec(bridge.stderr().slice(from));
    if (match) return new URL(match[1]!);
    if (Date.now() > deadline) throw new Error(`no authorization URL on stderr:\n${bridge.stderr()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Approves keyhole's consent, signs in upstream as `login`, and lets the browser land on the loopback redirect. */
export async function signInWithBrowser(authorizationUrl: URL, login: string, browser = new CookieBrowser()): Promise<Response> {
  const redirectUri = authorizationUrl.searchParams.get('redirect_uri');
  if (!redirectUri) throw new Error(`no redirect_uri in ${authorizationUrl.href}`);
  const { clientRedirect } = await driveConsent(authorizationUrl, { login, browser, redirectPrefix: redirectUri });
  const landed = await browser.get(clientRedirect);
  if (landed.status !== 200) throw new Error(`the loopback redirect answered ${landed.status}: ${await landed.text()}`);
  return landed;
}

/** Runs `action` while a sign-in is driven from the next authorization URL the bridge prints. */
export async function withSignIn<T>(bridge: SpawnedBridge, login: string, action: () => Promise<T>): Promise<{ result: T; authorizationUrl: URL }> {
  const from = bridge.stderr().length;
  const pending = action();
  pending.catch(() => undefined);
  const authorizationUrl = await waitForAuthorizationUrl(bridge, from);
  await signInWithBrowser(authorizationUrl, login);
  return { result: await pending, authorizationUrl };
}

export function textOf(result: unknown): string {
  return (result as { content: Array<{ text?: string }> }).content.map((c) => c.text ?? '').join('');
}

export async function consentApprovals(stack: Stack): Promise<number> {
  return (await stack.keyhole.store.events.list({ type: 'consent.approved', limit: 500 })).length;
}

export async function revokeAllGrants(stack: Stack): Promise<number> {
  const grants = await stack.keyhole.store.grants.list({ status: 'active' });
  for (const g of grants) {
    const res = await fetch(`${stack.publicUrl}/admin/api/grants/${g.id}`, { method: 'DELETE', headers: { authorization: 'Bearer admin-token-for-tests-0123456789' } });
    if (!res.ok) throw new Error(`admin revoke ${g.id}: HTTP ${res.status} ${await res.text()}`);
  }
  return grants.length;
}
