import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guardedGet, GuardedFetchError, type GuardedGetOptions, type ResolveHost } from '../../../src/http/guarded-fetch.js';
import { addressProblem } from '../../../src/http/address-policy.js';
import { startDocumentServer, type DocumentServer } from '../../helpers/https-document-server.js';

describe('addressProblem', () => {
  it.each([
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['169.254.169.254', 'link-local'],
    ['100.64.0.1', 'CGNAT'],
    ['100.127.255.255', 'CGNAT'],
    ['0.0.0.0', 'this network'],
    ['0.1.2.3', 'this network'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['192.0.2.10', 'documentation'],
    ['198.18.0.1', 'benchmarking'],
  ])('refuses IPv4 %s (%s)', (ip, reason) => {
    expect(addressProblem(ip)).toContain(reason);
  });

  it.each(['8.8.8.8', '1.1.1.1', '172.32.0.1', '172.15.255.255', '100.128.0.1', '11.0.0.1', '192.169.0.1', '169.255.0.1', '223.255.255.255'])(
    'accepts public IPv4 %s',
    (ip) => {
      expect(addressProblem(ip)).toBeUndefined();
    },
  );

  it.each([
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['febf:ffff::1', 'link-local'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456:789a::1', 'unique-local'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'documentation'],
    ['2001:0:4136:e378::1', 'IETF protocol'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['0:0:0:0:0:ffff:192.168.0.1', 'private'],
    ['64:ff9b::10.0.0.1', 'private'],
    ['2002:7f00:1::1', 'loopback'],
    ['2002:c0a8:101::', 'private'],
    ['::127.0.0.1', 'IPv4-compatible'],
    ['[::1]', 'loopback'],
  ])('refuses IPv6 %s (%s)', (ip, reason) => {
    expect(addressProblem(ip)).toContain(reason);
  });

  it.each(['2606:4700:4700::1111', '2001:4860:4860::8888', '::ffff:8.8.8.8', '64:ff9b::8.8.8.8', '2002:808:808::1', '2a00:1450:4001:80b::200e'])(
    'accepts public IPv6 %s',
    (ip) => {
      expect(addressProblem(ip)).toBeUndefined();
    },
  );

  it.each(['localhost', 'example.com', '1.2.3', '::ffff:999.0.0.1', ''])('refuses non-addresses %j', (s) => {
    expect(addressProblem(s)).toBeDefined();
  });
});

describe('guardedGet', () => {
  let docs: DocumentServer;
  const base = (): GuardedGetOptions => ({ allowPrivateAddresses: true, extraCa: docs.cert.certPem, timeoutMs: 2_000, maxBytes: 5 * 1024 });

  beforeAll(async () => {
    docs = await startDocumentServer();
    docs.json('/doc.json', { hello: 'world' });
    docs.route('/redirect', (_req, res) => res.writeHead(302, { location: '/doc.json' }).end());
    docs.route('/big-declared', (_req, res) => res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(6000) }).end('x'.repeat(6000)));
    docs.route('/big-chunked', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      for (let i = 0; i < 12; i++) res.write('y'.repeat(1000));
      res.end();
    });
    docs.route('/hang', () => undefined);
    docs.route('/slow-body', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{');
    });
  });
  afterAll(async () => {
    await docs?.close();
  });

  it('fetches over https from a pinned address, with SNI and Host = the hostname', async () => {
    let lookups = 0;
    // "doc.test" exists in no DNS: the connection can only use the address the resolver vetted.
    const resolve: ResolveHost = async (host) => {
      lookups++;
      expect(host).toBe('doc.test');
      return [{ address: '127.0.0.1', family: 4 }];
    };
    const res = await guardedGet(new URL(docs.url('/doc.json', 'doc.test')), { ...base(), resolve });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body.toString())).toEqual({ hello: 'world' });
    expect(lookups).toBe(1);
    expect(docs.hosts.at(-1)).toBe(`doc.test:${docs.port}`);
    expect(docs.serverNames.at(-1)).toBe('doc.test');
  });

  it('refuses when any resolved address is private, without connecting', async () => {
    const before = docs.hits.get('/doc.json') ?? 0;
    const resolve: ResolveHost = async () => [
      { address: '127.0.0.1', family: 4 },
      { address: '10.0.0.7', family: 4 },
    ];
    const err = await guardedGet(new URL(docs.url('/doc.json', 'doc.test')), { ...base(), allowPrivateAddresses: false, resolve }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GuardedFetchError);
    // The client sees only that the address is not allowed; what it resolved to is for the operator log.
    expect((err as GuardedFetchError).message).toBe('the address of doc.test is not allowed: refused');
    expect((err as GuardedFetchError).detail).toMatch(/^the host doc\.test resolves to 127\.0\.0\.1, a loopback address/);
    expect((err as GuardedFetchError).transient).toBe(false);
    expect(docs.hits.get('/doc.json') ?? 0).toBe(before);
  });

  it('refuses a loopback IP literal and localhost by real DNS when private addresses are not allowed', async () => {
    for (const host of ['127.0.0.1', '[::1]', undefined]) {
      const err = await guardedGet(new URL(docs.url('/doc.json', host)), { ...base(), allowPrivateAddresses: false }).catch((e: unknown) => e);
      expect(err, host).toBeInstanceOf(GuardedFetchError);
      expect((err as GuardedFetchError).message).toMatch(/^the address of \S+ is not allowed: refused$/);
      expect((err as GuardedFetchError).detail).toMatch(/loopback/);
    }
  });

  it('refuses http URLs and URLs with credentials', async () => {
    await expect(guardedGet(new URL('http://example.com/doc.json'), base())).rejects.toThrow(/only https/);
    await expect(guardedGet(new URL('https://u:p@example.com/doc.json'), base())).rejects.toThrow(/credentials/);
  });

  it('does not follow redirects', async () => {
    await expect(guardedGet(new URL(docs.url('/redirect')), base())).rejects.toThrow(/302 \(a redirect\)/);
  });

  it('refuses bodies over the cap, declared or streamed', async () => {
    await expect(guardedGet(new URL(docs.url('/big-declared')), base())).rejects.toThrow(/larger than 5120 bytes/);
    await expect(guardedGet(new URL(docs.url('/big-chunked')), base())).rejects.toThrow(/larger than 5120 bytes/);
  });

  it('gives up at the deadline on a server that never answers, or never finishes the body', async () => {
    for (const path of ['/hang', '/slow-body']) {
      const t0 = Date.now();
      const err = await guardedGet(new URL(docs.url(path)), { ...base(), timeoutMs: 300 }).catch((e: unknown) => e);
      expect((err as Error).message).toMatch(/within 300 ms/);
      expect((err as GuardedFetchError).transient).toBe(true);
      expect(Date.now() - t0).toBeLessThan(1_500);
    }
  });

  it('gives up at the deadline when DNS never answers', async () => {
    const resolve: ResolveHost = () => new Promise(() => undefined);
    const t0 = Date.now();
    await expect(guardedGet(new URL('https://slow-dns.test/doc.json'), { ...base(), timeoutMs: 200, resolve })).rejects.toThrow(/within 200 ms/);
    expect(Date.now() - t0).toBeLessThan(1_000);
  });

  it('refuses an untrusted certificate', async () => {
    const { extraCa: _drop, ...noCa } = base();
    const err = await guardedGet(new URL(docs.url('/doc.json')), noCa).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/certificate was not accepted/);
    expect((err as GuardedFetchError).transient).toBe(false);
  });
});
