/**
 * The client address of a request, given the proxies keyhole trusts (config `trustProxy`, CIDRs). The TCP peer is
 * the client unless it is a trusted proxy; then `X-Forwarded-For` is read from the right, skipping trusted
 * proxies, and the first untrusted address is the client. A peer outside `trustProxy` cannot forge its address:
 * its `X-Forwarded-For` is ignored. The same rule applies to `X-Forwarded-Proto`.
 *
 * Secure cookies and every URL keyhole builds depend on `publicUrl`, not on `X-Forwarded-Proto`.
 * @see https://www.rfc-editor.org/rfc/rfc7239#section-8.1 (forwarded addresses can be forged)
 */
import { BlockList, isIP } from 'node:net';
import type { Context, MiddlewareHandler } from 'hono';
import { getConnInfo } from '@hono/node-server/conninfo';

/** Parses "10.0.0.0/8", "fd00::/8" or a single address ("/32" or "/128" implied); undefined when malformed. */
export function parseCidr(text: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | undefined {
  const m = /^([^/\s]+)(?:\/(\d{1,3}))?$/.exec(text.trim());
  if (!m) return undefined;
  const version = isIP(m[1]!);
  if (version === 0) return undefined;
  const max = version === 4 ? 32 : 128;
  const prefix = m[2] === undefined ? max : Number(m[2]);
  if (prefix > max) return undefined;
  return { address: m[1]!, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** Which peers may speak for the client through X-Forwarded-*. */
export class TrustedProxies {
  private readonly list = new BlockList();
  readonly empty: boolean;

  constructor(cidrs: readonly string[]) {
    for (const cidr of cidrs) {
      const parsed = parseCidr(cidr);
      if (!parsed) throw new TypeError(`trustProxy: ${JSON.stringify(cidr)} is not an IP address or CIDR`);
      this.list.addSubnet(parsed.address, parsed.prefix, parsed.family);
    }
    this.empty = cidrs.length === 0;
  }

  trusts(address: string): boolean {
    if (this.empty) return false;
    const plain = unmapped(address);
    const version = isIP(plain);
    if (version === 0) return false;
    return this.list.check(plain, version === 4 ? 'ipv4' : 'ipv6');
  }
}

/** "::ffff:10.1.2.3" (an IPv4 peer on a dual-stack socket) → "10.1.2.3". */
function unmapped(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m ? m[1]! : address;
}

/** The client address from the TCP peer and the X-Forwarded-For value (pure; see the module comment). */
export function resolveClientAddress(peer: string, forwardedFor: string | undefined, trusted: TrustedProxies): string {
  const client = unmapped(peer);
  if (!forwardedFor || !trusted.trusts(client)) return client;
  const hops = forwardedFor.split(',').map((h) => unmapped(h.trim().replace(/^\[(.*)\]$/, '$1'))).filter((h) => h !== '');
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]!;
    if (isIP(hop) === 0) return client; // garbage in the chain: believe nothing beyond the peer
    if (!trusted.trusts(hop)) return hop;
  }
  return hops[0] ?? client;
}

const NO_PROXIES = new TrustedProxies([]);
const TRUST_KEY = 'keyholeTrustedProxies';

/** Puts the trusted proxies on every request's context, for clientAddress(c). Mount first in createApp. */
export function trustProxy(cidrs: readonly string[]): MiddlewareHandler {
  const trusted = new TrustedProxies(cidrs);
  return async function trustProxyMiddleware(c, next) {
    c.set(TRUST_KEY as never, trusted as never);
    await next();
  };
}

function trustedOf(c: Context): TrustedProxies {
  return ((c.var as Record<string, unknown>)[TRUST_KEY] as TrustedProxies | undefined) ?? NO_PROXIES;
}

function peerOf(c: Context): string | undefined {
  try {
    return getConnInfo(c).remote.address;
  } catch {
    return undefined; // app.request() in unit tests has no socket
  }
}

/** The client address of this request ("unknown" without a socket, as in app.request()). */
export function clientAddress(c: Context): string {
  const peer = peerOf(c);
  if (peer === undefined) return 'unknown';
  return resolveClientAddress(peer, c.req.header('x-forwarded-for'), trustedOf(c));
}

/** "https" or "http" as the client used it: X-Forwarded-Proto from a trusted peer, else the socket's own. */
export function clientProtocol(c: Context): 'http' | 'https' {
  const own = (c.env as { incoming?: { socket?: { encrypted?: boolean } } } | undefined)?.incoming?.socket?.encrypted ? 'https' : 'http';
  const peer = peerOf(c);
  if (peer === undefined || !trustedOf(c).trusts(peer)) return own;
  const proto = c.req.header('x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase();
  return proto === 'https' || proto === 'http' ? proto : own;
}
