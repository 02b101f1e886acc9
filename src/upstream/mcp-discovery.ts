/**
 * Discovery of an upstream that implements MCP authorization: its protected resource metadata (RFC 9728), then
 * the metadata of its first authorization server (RFC 8414, then OpenID Connect Discovery).
 *
 * PRM locations, in order: the path-inserted well-known URL of the MCP endpoint, the root well-known URL, and the
 * `resource_metadata` of the 401 challenge the endpoint answers to an unauthenticated `initialize`.
 * Plain http is followed only when the upstream itself is a loopback http URL (the demo and the tests).
 * @see https://www.rfc-editor.org/rfc/rfc9728#section-3
 * @see https://www.rfc-editor.org/rfc/rfc9728#section-5.1
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#authorization-server-discovery
 */
import * as oauth from 'oauth4webapi';
import { parseJsonObject } from '../http/json-object.js';
import { isLoopbackHttp } from '../oauth/redirect-uri.js';
import { UpstreamUnavailableError } from './errors.js';
import { AuthorizationServerMetadataError, discoverAuthorizationServer } from './as-metadata-discovery.js';

const TIMEOUT_MS = 10_000;
const MAX_DOCUMENT_BYTES = 64 * 1024;

/** Discovery failed; `detail` says why (for logs and events: never a secret). */
export class UpstreamDiscoveryError extends UpstreamUnavailableError {
  constructor(kind: UpstreamUnavailableError['kind'], readonly detail: string) {
    super(kind);
    this.name = 'UpstreamDiscoveryError';
    this.message = `upstream discovery failed: ${detail}`;
  }
}

export interface DiscoveredAuthorization {
  /** The protected resource identifier from the PRM (validated against the upstream URL). */
  resource: string;
  /** Where the PRM was found. */
  prmUrl: string;
  /** The PRM's `scopes_supported`, when it lists any. */
  scopes: string[] | undefined;
  as: oauth.AuthorizationServer;
  /** Plain http may be used towards this upstream and its authorization server (all loopback). */
  allowInsecure: boolean;
}

function assertSafeUrl(u: string, allowInsecure: boolean, what: string): URL {
  let url: URL;
  try {
    url = new URL(u);
  } catch {
    throw new UpstreamDiscoveryError('protocol', `${what} is not a URL`);
  }
  if (url.protocol === 'https:') return url;
  if (allowInsecure && isLoopbackHttp(url)) return url;
  throw new UpstreamDiscoveryError('protocol', `${what} must be https (${url.origin})`);
}

/** The PRM URLs to try for an MCP endpoint: path-inserted first, then the root (RFC 9728 §3.1). */
export function prmCandidates(upstream: URL): string[] {
  const path = upstream.pathname.replace(/\/+$/, '');
  const root = `${upstream.origin}/.well-known/oauth-protected-resource`;
  return path && path !== '/' ? [`${root}${path}`, root] : [root];
}

/** `resource` must be the upstream URL, or a same-origin path prefix of it (what the MCP SDK accepts). */
export function resourceMatches(resource: string, upstream: URL): boolean {
  let r: URL;
  try {
    r = new URL(resource);
  } catch {
    return false;
  }
  if (r.origin !== upstream.origin || r.search || r.hash) return false;
  const rp = r.pathname.replace(/\/+$/, '');
  const up = upstream.pathname.replace(/\/+$/, '');
  return up === rp || up.startsWith(`${rp}/`);
}

async function get(url: URL, init: RequestInit = {}): Promise<Response> {
  try {
    // No redirects: a moved document is a configuration problem, not something to follow silently.
    return await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(TIMEOUT_MS), ...init, headers: { accept: 'application/json', ...(init.headers ?? {}) } });
  } catch (e) {
    const name = (e as Error)?.name;
    throw new UpstreamDiscoveryError(name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : 'network', `cannot reach ${url.origin}`);
  }
}

async function readJson(res: Response, what: string): Promise<Record<string, unknown>> {
  const text = await res.text();
  if (text.length > MAX_DOCUMENT_BYTES) throw new UpstreamDiscoveryError('protocol', `${what} is larger than ${MAX_DOCUMENT_BYTES} bytes`);
  const body = parseJsonObject(text);
  if (!body.ok) throw new UpstreamDiscoveryError('protocol', `${what} ${body.reason === 'not-json' ? 'is not JSON' : 'is not a JSON object'}`);
  return body.value;
}

/** The `resource_metadata` parameter of a Bearer challenge (RFC 9728 §5.1), if any. */
export function resourceMetadataFromChallenge(header: string | null): string | undefined {
  if (!header) return undefined;
  const m = /(?:^|[\s,])resource_metadata\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/i.exec(header);
  const v = m?.[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m?.[2];
  return v || undefined;
}

/** Ask the MCP endpoint itself: an unauthenticated `initialize` should get 401 with a challenge naming the PRM. */
async function prmFromChallenge(upstream: URL): Promise<string | undefined> {
  const res = await get(upstream, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({
      jsonrpc: '2.0', id: 0, method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'keyhole-discovery', version: '1' } },
    }),
  });
  await res.body?.cancel().catch(() => undefined);
  return res.status === 401 ? resourceMetadataFromChallenge(res.headers.get('www-authenticate')) : undefined;
}

async function fetchPrm(upstream: URL, allowInsecure: boolean): Promise<{ prm: Record<string, unknown>; url: string }> {
  const tried: string[] = [];
  const attempt = async (u: string): Promise<Record<string, unknown> | undefined> => {
    const url = assertSafeUrl(u, allowInsecure, 'the protected resource metadata URL');
    const res = await get(url);
    tried.push(`${url.pathname} → ${res.status}`);
    if (res.status >= 500) throw new UpstreamDiscoveryError('server', `protected resource metadata at ${url.href}: HTTP ${res.status}`);
    if (res.status !== 200) {
      await res.body?.cancel().catch(() => undefined);
      return undefined;
    }
    const prm = await readJson(res, 'the protected resource metadata');
    if (typeof prm.resource === 'string' && resourceMatches(prm.resource, upstream)) return prm;
    // https://www.rfc-editor.org/rfc/rfc9728#section-3.3 — a PRM for another resource MUST NOT be used.
    tried.push(`${url.pathname}: resource ${JSON.stringify(prm.resource)} does not match`);
    return undefined;
  };
  for (const u of prmCandidates(upstream)) {
    const prm = await attempt(u);
    if (prm) return { prm, url: u };
  }
  const fromChallenge = await prmFromChallenge(upstream);
  if (fromChallenge) {
    const prm = await attempt(fromChallenge);
    if (prm) return { prm, url: fromChallenge };
  }
  throw new UpstreamDiscoveryError('protocol', `no protected resource metadata for ${upstream.href} (${tried.join('; ') || 'nothing found'})`);
}

/** RFC 8414 first, then OpenID Connect Discovery (as-metadata-discovery.ts: a 4xx moves on, a 5xx aborts). */
async function fetchAsMetadata(issuer: URL, allowInsecure: boolean): Promise<oauth.AuthorizationServer> {
  const options = { signal: () => AbortSignal.timeout(TIMEOUT_MS), ...(allowInsecure ? { [oauth.allowInsecureRequests]: true } : {}) };
  try {
    return await discoverAuthorizationServer(issuer, options);
  } catch (e) {
    if (e instanceof AuthorizationServerMetadataError) throw new UpstreamDiscoveryError('server', `authorization server metadata: HTTP ${e.status}`);
    const name = (e as Error)?.name;
    if (name === 'TimeoutError' || name === 'AbortError') throw new UpstreamDiscoveryError('timeout', `authorization server ${issuer.origin} timed out`);
    if (e instanceof TypeError && !(e instanceof oauth.OperationProcessingError)) throw new UpstreamDiscoveryError('network', `cannot reach ${issuer.origin}`);
    throw new UpstreamDiscoveryError('protocol', `authorization server metadata of ${issuer.href} is invalid`);
  }
}

/**
 * Finds the authorization server of an MCP upstream.
 * @param expectedIssuer when set (config `oauth.issuer`), the PRM must list it and it is used instead of the first entry.
 */
export async function discoverMcpAuthorization(upstreamUrl: string, expectedIssuer?: string): Promise<DiscoveredAuthorization> {
  const upstream = new URL(upstreamUrl);
  const allowInsecure = isLoopbackHttp(upstream);
  const { prm, url } = await fetchPrm(upstream, allowInsecure);
  const servers = Array.isArray(prm.authorization_servers) ? prm.authorization_servers.filter((s): s is string => typeof s === 'string') : [];
  if (!servers.length) throw new UpstreamDiscoveryError('protocol', 'the protected resource metadata lists no authorization_servers');
  const norm = (s: string) => s.replace(/\/+$/, '');
  const chosen = expectedIssuer ? servers.find((s) => norm(s) === norm(expectedIssuer)) : servers[0];
  if (!chosen) throw new UpstreamDiscoveryError('protocol', `the protected resource metadata does not list the configured issuer ${expectedIssuer}`);
  const issuer = assertSafeUrl(chosen, allowInsecure, 'the authorization server');
  const as = await fetchAsMetadata(issuer, allowInsecure);
  for (const endpoint of [as.authorization_endpoint, as.token_endpoint, as.registration_endpoint, as.revocation_endpoint]) {
    if (endpoint) assertSafeUrl(endpoint, allowInsecure, 'an authorization server endpoint');
  }
  if (!as.authorization_endpoint || !as.token_endpoint) throw new UpstreamDiscoveryError('protocol', 'the authorization server has no authorization or token endpoint');
  const scopes = Array.isArray(prm.scopes_supported) ? prm.scopes_supported.filter((x): x is string => typeof x === 'string' && /^[\x21\x23-\x5b\x5d-\x7e]+$/.test(x)) : [];
  return { resource: prm.resource as string, prmUrl: url, scopes: scopes.length ? scopes : undefined, as, allowInsecure };
}
