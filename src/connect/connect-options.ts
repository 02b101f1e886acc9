/**
 * `keyhole connect` arguments and environment → one validated options object, and the command's help text.
 * Pure: no I/O, so every rule here is unit-tested.
 */
import { parseArgs } from 'node:util';
import { isLoopbackHttp } from '../oauth/redirect-uri.js';

export type StoreMode = 'auto' | 'keychain' | 'file';

export interface ConnectOptions {
  /** The MCP endpoint (Streamable HTTP), e.g. https://keyhole.example.com/mcp/github. */
  serverUrl: URL;
  /** Extra request headers for every request to the server (`--header 'Name: value'`, repeatable). */
  headers: Record<string, string>;
  /** An https client ID metadata document URL (used when the server advertises CIMD support). */
  clientMetadataUrl: string | undefined;
  /** Where tokens live: `auto` = OS keychain, else a 0600 file (said on stderr). */
  store: StoreMode;
  /** false: print the authorization URL on stderr only, never start a browser. */
  openBrowser: boolean;
  /** How long to wait for the browser to come back to the loopback redirect. */
  authTimeoutMs: number;
  /** The loopback port to listen on for the redirect; undefined = the registered one if free, else ephemeral. */
  callbackPort: number | undefined;
}

export class ConnectUsageError extends Error {
  override readonly name = 'ConnectUsageError';
}

export const CONNECT_USAGE = `keyhole connect — a stdio bridge to a remote MCP server, with OAuth

Usage:
  keyhole connect <mcp-url> [options]

Speaks the MCP stdio transport (newline-delimited JSON-RPC) on stdin/stdout and Streamable HTTP to <mcp-url>:
keyhole, or any MCP server that implements MCP authorization. Every message passes through unchanged.
On the first connection it signs in through the system browser (OAuth 2.1 + PKCE, loopback redirect to
http://127.0.0.1:<port>/callback) and keeps the tokens in the OS keychain (service "mcp-keyhole-connect",
account = <mcp-url>). Later runs reuse and refresh them; when a refresh is refused it signs in again.
Logs go to stderr; stdout carries nothing but MCP messages. It exits when stdin closes.

Options:
  --header 'Name: value'        send this header with every request to the server (repeatable)
  --client-metadata-url URL     an https client ID metadata document to register with, when the server
                                supports it (its redirect_uris must include http://127.0.0.1/callback);
                                otherwise keyhole connect registers dynamically (RFC 7591)
  --store auto|keychain|file    where tokens live (default auto: the OS keychain, else a file)
                                file: $XDG_CONFIG_HOME/keyhole/connect/ (~/.config/…), mode 0600 in a 0700
                                directory, in plain text, like any file-based token cache
  --no-browser                  do not open a browser; print the authorization URL on stderr only
  --callback-port N             listen for the OAuth redirect on this loopback port (default: the port used
                                before if free, else an ephemeral one)
  --auth-timeout SECONDS        how long to wait for the sign-in to finish (default 300)
  -h, --help                    this help

Environment:
  KEYHOLE_CONNECT_STORE=auto|keychain|file    same as --store
  KEYHOLE_CONNECT_BROWSER=none                same as --no-browser (CI, headless machines, tests)

Examples:
  keyhole connect https://keyhole.example.com/mcp/github

  Claude Desktop (claude_desktop_config.json; the npm package is mcp-keyhole, its command keyhole):
  { "mcpServers": { "github": { "command": "npx",
      "args": ["-y", "--package=mcp-keyhole", "keyhole", "connect", "https://keyhole.example.com/mcp/github"] } } }

  keyhole connect https://keyhole.example.com/mcp/github --header 'X-Team: platform' --no-browser
`;

/** `Name: value` → [name, value]; the name must be an RFC 9110 token, the value visible ASCII and spaces. */
export function parseHeader(line: string): [string, string] {
  const colon = line.indexOf(':');
  if (colon <= 0) throw new ConnectUsageError(`--header needs 'Name: value', got ${JSON.stringify(line)}`);
  const name = line.slice(0, colon).trim();
  const value = line.slice(colon + 1).trim();
  // https://www.rfc-editor.org/rfc/rfc9110#section-5.1 (field-name = token) and §5.5 (no CR, LF or NUL in values)
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) throw new ConnectUsageError(`--header: ${JSON.stringify(name)} is not a valid header name`);
  if (/[\r\n\0]/.test(value)) throw new ConnectUsageError(`--header ${name}: the value must be on one line`);
  const lower = name.toLowerCase();
  if (lower === 'authorization' || lower === 'mcp-session-id' || lower === 'mcp-protocol-version' || lower === 'content-type' || lower === 'accept') {
    throw new ConnectUsageError(`--header ${name}: keyhole connect sets this header itself`);
  }
  return [name, value];
}

function parseStore(value: string | undefined, from: string): StoreMode | undefined {
  if (value === undefined || value === '') return undefined;
  if (value === 'auto' || value === 'keychain' || value === 'file') return value;
  throw new ConnectUsageError(`${from} must be auto, keychain or file, got ${JSON.stringify(value)}`);
}

function parseServerUrl(raw: string | undefined): URL {
  if (!raw) throw new ConnectUsageError('connect needs the MCP server URL, e.g. keyhole connect https://keyhole.example.com/mcp/github');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConnectUsageError(`${JSON.stringify(raw)} is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ConnectUsageError(`${raw}: the MCP server URL must be http(s)`);
  // OAuth 2.1 §1.5 / MCP authorization: authorization endpoints are https; plain http only for the local machine.
  if (url.protocol === 'http:' && !isLoopbackHttp(url)) throw new ConnectUsageError(`${raw}: use https (plain http only for 127.0.0.1/localhost)`);
  if (url.hash) throw new ConnectUsageError(`${raw}: the MCP server URL must not have a #fragment`);
  return url;
}

function parseClientMetadataUrl(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConnectUsageError(`--client-metadata-url ${JSON.stringify(raw)} is not a URL`);
  }
  // draft-ietf-oauth-client-id-metadata-document §3: an https URL with a path component.
  if (url.protocol !== 'https:' || url.pathname === '/') throw new ConnectUsageError('--client-metadata-url must be an https URL with a path (a hosted client ID metadata document)');
  return url.href;
}

function parseWhole(raw: string | undefined, name: string, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConnectUsageError(`${name} must be a whole number from ${min} to ${max}`);
  return n;
}

/** Returns undefined when help was asked for. */
export function parseConnectArgs(args: string[], env: NodeJS.ProcessEnv): ConnectOptions | undefined {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        header: { type: 'string', short: 'H', multiple: true },
        'client-metadata-url': { type: 'string' },
        store: { type: 'string' },
        'no-browser': { type: 'boolean' },
        'callback-port': { type: 'string' },
        'auth-timeout': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw new ConnectUsageError((e as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return undefined;
  if (positionals.length > 1) throw new ConnectUsageError(`connect takes one MCP server URL, got ${positionals.length}`);
  const headers: Record<string, string> = {};
  for (const line of values.header ?? []) {
    const [name, value] = parseHeader(line);
    headers[name] = value;
  }
  const browserEnv = env.KEYHOLE_CONNECT_BROWSER;
  return {
    serverUrl: parseServerUrl(positionals[0]),
    headers,
    clientMetadataUrl: parseClientMetadataUrl(values['client-metadata-url']),
    store: parseStore(values.store, '--store') ?? parseStore(env.KEYHOLE_CONNECT_STORE, 'KEYHOLE_CONNECT_STORE') ?? 'auto',
    openBrowser: !values['no-browser'] && browserEnv !== 'none',
    authTimeoutMs: (parseWhole(values['auth-timeout'], '--auth-timeout', 5, 3600) ?? 300) * 1000,
    callbackPort: parseWhole(values['callback-port'], '--callback-port', 1, 65535),
  };
}
