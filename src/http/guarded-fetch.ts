/**
 * An outbound HTTPS GET that a remote party chooses the URL of (a client ID metadata document), guarded against SSRF:
 * - https only;
 * - the host is resolved once (`dns.lookup`, all addresses) and refused when ANY address is private, loopback,
 *   link-local, unique-local, CGNAT, multicast, reserved or an IPv4-mapped/embedded form of these;
 * - the connection goes to the vetted addresses only (a custom `lookup` pins them, so a DNS rebinding between the
 *   check and the connect cannot happen), with SNI and Host = the hostname;
 * - no redirects (a 3xx is a refusal), a byte cap counted while streaming, one overall timeout.
 * @see https://datatracker.ietf.org/doc/draft-ietf-oauth-client-id-metadata-document/ (Security Considerations: SSRF)
 * @see https://www.iana.org/assignments/iana-ipv4-special-registry/
 * @see https://www.iana.org/assignments/iana-ipv6-special-registry/
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { request, type RequestOptions } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { isIP, type LookupFunction } from 'node:net';
import { addressProblem } from './address-policy.js';
import { rootCertificates } from 'node:tls';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a hostname to every address (dns.lookup semantics, i.e. what a connect would use). */
export type ResolveHost = (hostname: string) => Promise<ResolvedAddress[]>;

export const resolveWithDnsLookup: ResolveHost = async (hostname) =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));

// ---- the fetch ---------------------------------------------------------------------------------------------------

export class GuardedFetchError extends Error {
  /**
   * transient: worth retrying later (timeouts, connection failures, 5xx); otherwise a refusal.
   * `message` may be shown to whoever chose the URL; `detail` (when set) is for the operator log only: it can
   * name what the host resolved to, which a client must not learn (issue 9, F9: no DNS oracle into the network).
   */
  constructor(message: string, readonly transient: boolean, readonly detail?: string) {
    super(message);
    this.name = 'GuardedFetchError';
  }
}

export interface GuardedGetOptions {
  /** Allow private/loopback/link-local targets (tests, or a deliberately internal deployment). */
  allowPrivateAddresses: boolean;
  /** Extra trusted CA certificates (PEM), added to Node's bundled roots. */
  extraCa?: string;
  /** Overall deadline: DNS, connect, TLS, headers and body. */
  timeoutMs: number;
  /** Largest accepted body, counted while streaming. */
  maxBytes: number;
  resolve?: ResolveHost;
  headers?: Record<string, string>;
}

export interface GuardedResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

async function vettedAddresses(url: URL, opts: GuardedGetOptions): Promise<ResolvedAddress[]> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const literal = isIP(host);
  let addresses: ResolvedAddress[];
  if (literal) {
    addresses = [{ address: host, family: literal === 6 ? 6 : 4 }];
  } else {
    try {
      addresses = await (opts.resolve ?? resolveWithDnsLookup)(host);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new GuardedFetchError(`the host ${host} cannot be resolved (${code ?? 'DNS error'})`, code !== 'ENOTFOUND' && code !== 'ENODATA');
    }
    if (!addresses.length) throw new GuardedFetchError(`the host ${host} has no address`, false);
  }
  if (!opts.allowPrivateAddresses) {
    for (const a of addresses) {
      const problem = addressProblem(a.address);
      if (problem) throw new GuardedFetchError(`the address of ${host} is not allowed: refused`, false, `the host ${host} resolves to ${a.address}, ${problem}`);
    }
  }
  return addresses;
}

/** GET `url` under the SSRF guard. Resolves with any non-3xx response; rejects with GuardedFetchError. */
export async function guardedGet(url: URL, opts: GuardedGetOptions): Promise<GuardedResponse> {
  if (url.protocol !== 'https:') throw new GuardedFetchError('only https URLs are fetched', false);
  if (url.username || url.password) throw new GuardedFetchError('URLs with credentials are not fetched', false);
  const deadline = Date.now() + opts.timeoutMs;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new GuardedFetchError(`no complete answer within ${opts.timeoutMs} ms`, true)), opts.timeoutMs);
    timer.unref?.();
  });
  try {
    const addresses = await Promise.race([vettedAddresses(url, opts), timeout]);
    return await Promise.race([pinnedGet(url, addresses, opts, deadline - Date.now()), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function pinnedGet(url: URL, addresses: ResolvedAddress[], opts: GuardedGetOptions, remainingMs: number): Promise<GuardedResponse> {
  return new Promise((resolve, reject) => {
    if (remainingMs <= 0) {
      reject(new GuardedFetchError(`no complete answer within ${opts.timeoutMs} ms`, true));
      return;
    }
    const hostname = url.hostname.replace(/^\[|\]$/g, '');
    // The connect uses only the addresses checked above (no second DNS query, so no rebinding window).
    const pinned: LookupFunction = (_host, options, callback) => {
      if (options.all) callback(null, addresses);
      else callback(null, addresses[0]!.address, addresses[0]!.family);
    };
    const options: RequestOptions & { autoSelectFamily?: boolean } = {
      method: 'GET',
      protocol: 'https:',
      host: hostname,
      port: url.port || 443,
      path: `${url.pathname}${url.search}`,
      // SNI must be a DNS name, never an IP literal (RFC 6066 §3).
      ...(isIP(hostname) ? {} : { servername: hostname }),
      lookup: pinned,
      autoSelectFamily: addresses.length > 1,
      agent: false,
      ca: opts.extraCa ? [...rootCertificates, opts.extraCa] : undefined,
      headers: { host: url.host, accept: 'application/json', 'accept-encoding': 'identity', 'user-agent': 'keyhole', ...opts.headers },
      timeout: remainingMs,
    };
    let settled = false;
    const fail = (e: GuardedFetchError) => {
      if (settled) return;
      settled = true;
      req.destroy();
      reject(e);
    };
    const req = request(options, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400) {
        res.resume();
        fail(new GuardedFetchError(`the server answered ${status} (a redirect): redirects are not followed`, false));
        return;
      }
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > opts.maxBytes) {
        res.resume();
        fail(new GuardedFetchError(`the document is larger than ${opts.maxBytes} bytes`, false));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > opts.maxBytes) {
          fail(new GuardedFetchError(`the document is larger than ${opts.maxBytes} bytes`, false));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => {
        if (settled) return;
        settled = true;
        resolve({ status, headers: res.headers, body: Buffer.concat(chunks) });
      });
      res.on('error', () => fail(new GuardedFetchError('the connection failed while reading the document', true)));
      res.on('aborted', () => fail(new GuardedFetchError('the connection was closed before the document was complete', true)));
    });
    req.on('timeout', () => fail(new GuardedFetchError(`no complete answer within ${opts.timeoutMs} ms`, true)));
    req.on('error', (e: NodeJS.ErrnoException) => {
      const code = e.code ?? '';
      const tls = /CERT|SSL|TLS|ERR_TLS|SELF_SIGNED|UNABLE_TO/i.test(code) || /certificate/i.test(e.message);
      fail(new GuardedFetchError(tls ? `the TLS certificate was not accepted (${code || 'TLS error'})` : `the connection failed (${code || 'network error'})`, !tls));
    });
    req.end();
  });
}
