/**
 * Which addresses an outbound fetch chosen by a remote party may go to: public unicast only. Private, loopback,
 * link-local, unique-local, CGNAT, multicast, reserved and IPv4-mapped/embedded forms of these are refused.
 * @see https://www.iana.org/assignments/iana-ipv4-special-registry/
 * @see https://www.iana.org/assignments/iana-ipv6-special-registry/
 */
import { isIP } from 'node:net';

function ipv4ToInt(s: string): number | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    n = n * 256 + v;
  }
  return n;
}

/** Special-purpose IPv4 blocks that an outbound fetch must not reach (IANA IPv4 special-purpose registry). */
const V4_BLOCKS: ReadonlyArray<readonly [string, number, string]> = [
  ['0.0.0.0', 8, 'a "this network" address (0.0.0.0/8)'],
  ['10.0.0.0', 8, 'a private address (10.0.0.0/8)'],
  ['100.64.0.0', 10, 'a shared CGNAT address (100.64.0.0/10)'],
  ['127.0.0.0', 8, 'a loopback address (127.0.0.0/8)'],
  ['169.254.0.0', 16, 'a link-local address (169.254.0.0/16)'],
  ['172.16.0.0', 12, 'a private address (172.16.0.0/12)'],
  ['192.0.0.0', 24, 'an IETF protocol address (192.0.0.0/24)'],
  ['192.0.2.0', 24, 'a documentation address (192.0.2.0/24)'],
  ['192.88.99.0', 24, 'a 6to4 relay anycast address (192.88.99.0/24)'],
  ['192.168.0.0', 16, 'a private address (192.168.0.0/16)'],
  ['198.18.0.0', 15, 'a benchmarking address (198.18.0.0/15)'],
  ['198.51.100.0', 24, 'a documentation address (198.51.100.0/24)'],
  ['203.0.113.0', 24, 'a documentation address (203.0.113.0/24)'],
  ['224.0.0.0', 4, 'a multicast address (224.0.0.0/4)'],
  ['240.0.0.0', 4, 'a reserved or broadcast address (240.0.0.0/4)'],
];

function v4Problem(n: number): string | undefined {
  for (const [base, bits, reason] of V4_BLOCKS) {
    const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
    if (((n & mask) >>> 0) === ((ipv4ToInt(base)! & mask) >>> 0)) return reason;
  }
  return undefined;
}

/** Parses an IPv6 address (zone id stripped, embedded dotted IPv4 allowed) into a 128-bit integer. */
function ipv6ToBigInt(input: string): bigint | undefined {
  let s = input.replace(/^\[|\]$/g, '');
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  let tail: number[] = [];
  const lastColon = s.lastIndexOf(':');
  if (s.includes('.')) {
    const v4 = ipv4ToInt(s.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    tail = [v4 >>> 16, v4 & 0xffff];
    // "::ffff:1.2.3.4" → "::ffff", "::1.2.3.4" → "::", "1:2:3:4:5:6:1.2.3.4" → "1:2:3:4:5:6".
    s = s.slice(0, lastColon + 1);
    if (!s.endsWith('::')) s = s.slice(0, -1);
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const parseGroups = (part: string): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    for (const g of part.split(':')) {
      if (!/^[0-9a-f]{1,4}$/i.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = parseGroups(halves[0]!);
  const rest = halves.length === 2 ? parseGroups(halves[1]!) : [];
  if (!head || !rest) return undefined;
  const explicit = head.length + rest.length + tail.length;
  let groups: number[];
  if (halves.length === 2) {
    if (explicit > 7) return undefined;
    groups = [...head, ...new Array<number>(8 - explicit).fill(0), ...rest, ...tail];
  } else {
    if (explicit !== 8) return undefined;
    groups = [...head, ...tail];
  }
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

function inV6(n: bigint, prefix: string, bits: number): boolean {
  const base = ipv6ToBigInt(prefix)!;
  const shift = BigInt(128 - bits);
  return n >> shift === base >> shift;
}

const V6_BLOCKS: ReadonlyArray<readonly [string, number, string]> = [
  ['::', 128, 'the unspecified address (::)'],
  ['::1', 128, 'a loopback address (::1)'],
  ['::', 96, 'a deprecated IPv4-compatible address (::/96)'],
  ['64:ff9b:1::', 48, 'a local-use NAT64 address (64:ff9b:1::/48)'],
  ['100::', 64, 'a discard-only address (100::/64)'],
  ['2001::', 23, 'an IETF protocol address (2001::/23, Teredo included)'],
  ['2001:db8::', 32, 'a documentation address (2001:db8::/32)'],
  ['3fff::', 20, 'a documentation address (3fff::/20)'],
  ['fc00::', 7, 'a unique-local address (fc00::/7)'],
  ['fe80::', 10, 'a link-local address (fe80::/10)'],
  ['fec0::', 10, 'a deprecated site-local address (fec0::/10)'],
  ['ff00::', 8, 'a multicast address (ff00::/8)'],
];

function v6Problem(n: bigint): string | undefined {
  const low32 = Number(n & 0xffffffffn);
  // IPv4-mapped (::ffff:0:0/96) and NAT64 (64:ff9b::/96): judge the IPv4 address they carry.
  if (inV6(n, '::ffff:0:0', 96) || inV6(n, '64:ff9b::', 96)) {
    const p = v4Problem(low32);
    return p && `an IPv4-mapped form of ${p}`;
  }
  // 6to4 (2002::/16) carries an IPv4 address in bits 16..47.
  if (inV6(n, '2002::', 16)) {
    const p = v4Problem(Number((n >> 80n) & 0xffffffffn));
    return p && `a 6to4 form of ${p}`;
  }
  for (const [prefix, bits, reason] of V6_BLOCKS) if (inV6(n, prefix, bits)) return reason;
  return undefined;
}

/**
 * Why an outbound fetch must not go to `address`, or undefined for a public unicast address.
 * Unparseable input is refused too.
 */
export function addressProblem(address: string): string | undefined {
  const bare = address.replace(/^\[|\]$/g, '');
  const kind = isIP(bare.split('%')[0]!);
  if (kind === 4) return v4Problem(ipv4ToInt(bare)!);
  if (kind === 6) {
    const n = ipv6ToBigInt(bare);
    return n === undefined ? 'an unparseable address' : v6Problem(n);
  }
  return 'not an IP address';
}
