/** The client address given trustProxy: X-Forwarded-For believed only from trusted peers, read from the right. */
import { describe, expect, it } from 'vitest';
import { parseCidr, resolveClientAddress, TrustedProxies } from '../../../src/http/client-address.js';

describe('client address', () => {
  const trusted = new TrustedProxies(['10.0.0.0/8', '192.168.1.7', 'fd00::/8']);

  it('parses CIDRs and single addresses, and refuses the rest', () => {
    expect(parseCidr('10.0.0.0/8')).toEqual({ address: '10.0.0.0', prefix: 8, family: 'ipv4' });
    expect(parseCidr('fd00::/8')).toEqual({ address: 'fd00::', prefix: 8, family: 'ipv6' });
    expect(parseCidr('192.168.1.7')).toEqual({ address: '192.168.1.7', prefix: 32, family: 'ipv4' });
    for (const bad of ['10.0.0.0/33', 'fd00::/129', 'proxy.local', '10.0.0/8', '']) expect(parseCidr(bad)).toBeUndefined();
  });

  it('ignores X-Forwarded-For from a peer that is not trusted', () => {
    expect(resolveClientAddress('203.0.113.5', '198.51.100.1', trusted)).toBe('203.0.113.5');
    expect(resolveClientAddress('203.0.113.5', '198.51.100.1', new TrustedProxies([]))).toBe('203.0.113.5');
  });

  it('uses X-Forwarded-For from a trusted peer, skipping trusted hops from the right', () => {
    expect(resolveClientAddress('10.1.2.3', '198.51.100.1', trusted)).toBe('198.51.100.1');
    expect(resolveClientAddress('10.1.2.3', '6.6.6.6, 198.51.100.1, 10.9.9.9', trusted)).toBe('198.51.100.1'); // 6.6.6.6 was sent by the client itself
    expect(resolveClientAddress('::ffff:192.168.1.7', '2001:db8::1', trusted)).toBe('2001:db8::1');
    expect(resolveClientAddress('fd00::1', '[2001:db8::2]', trusted)).toBe('2001:db8::2');
  });

  it('falls back to the peer when the chain holds something that is not an address', () => {
    expect(resolveClientAddress('10.1.2.3', 'unknown, 198.51.100.1', trusted)).toBe('198.51.100.1');
    expect(resolveClientAddress('10.1.2.3', '198.51.100.1, garbage', trusted)).toBe('10.1.2.3');
  });

  it('takes the leftmost hop when every hop is a trusted proxy', () => {
    expect(resolveClientAddress('10.1.2.3', '10.0.0.1, 10.0.0.2', trusted)).toBe('10.0.0.1');
  });
});
