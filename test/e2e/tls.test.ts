/**
 * `listen.tls`: keyhole serves HTTPS itself (self-signed certificate from openssl). Discovery and the SDK client's
 * whole flow run over it; reloadTls() (SIGHUP in `keyhole serve`) swaps the certificate for new connections.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes, X509Certificate } from 'node:crypto';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { Agent, setGlobalDispatcher } from 'undici';
import { parseConfig } from '../../src/config/load-config.js';
import { createKeyhole, type Keyhole } from '../../src/keyhole.js';
import { keyringFromMasterKey } from '../../src/store/crypto/vault-cipher.js';
import { startUpstreamAuthorizationServer, type UpstreamAs } from '../../examples/demo/upstream-authorization-server.js';
import { startUpstreamMcpServer, type UpstreamMcp } from '../../examples/demo/upstream-mcp-server.js';
import { makeSelfSignedCert, type SelfSignedCert } from '../helpers/https-document-server.js';
import { connectThroughKeyhole } from '../helpers/sdk-client.js';
import { freePort } from '../helpers/free-port.js';
import { ensureBuiltCli, startCli } from '../helpers/keyhole-cli.js';

function peerFingerprint(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () => {
      resolve(socket.getPeerX509Certificate()!.fingerprint256);
      socket.end();
    });
    socket.once('error', reject);
  });
}

describe('listen.tls', () => {
  let cert: SelfSignedCert;
  let as: UpstreamAs;
  let mcp: UpstreamMcp;
  let keyhole: Keyhole;
  let publicUrl: string;
  let port: number;
  const certFile = () => join(cert.dir, 'live-cert.pem');
  const keyFile = () => join(cert.dir, 'live-key.pem');

  beforeAll(async () => {
    cert = makeSelfSignedCert({ dns: ['localhost'], ips: ['127.0.0.1'] });
    copyFileSync(cert.certPath, certFile());
    writeFileSync(keyFile(), cert.keyPem);
    // The test process trusts the test certificate (never NODE_TLS_REJECT_UNAUTHORIZED): the SDK client uses global fetch.
    setGlobalDispatcher(new Agent({ connect: { ca: cert.certPem } }));
    port = await freePort();
    publicUrl = `https://127.0.0.1:${port}`;
    const clientSecret = randomBytes(24).toString('base64url');
    as = await startUpstreamAuthorizationServer({ clients: [{ clientId: 'keyhole', clientSecret, redirectUris: [`${publicUrl}/oauth/callback`] }] });
    mcp = await startUpstreamMcpServer({ issuer: as.issuer });
    as.addResource(mcp.url);
    const config = parseConfig({
      publicUrl,
      listen: { host: '127.0.0.1', port, tls: { cert: certFile(), key: keyFile() } },
      storage: { sqlite: join(cert.dir, 'keyhole.db') },
      servers: { demo: { upstream: mcp.url, oauth: { issuer: as.issuer, clientId: 'keyhole', clientSecret, scopes: ['openid', 'offline_access', 'mcp:tools'], resource: mcp.url } } },
    }, {});
    keyhole = await createKeyhole({ config, keyring: keyringFromMasterKey(randomBytes(32).toString('base64url')), log: () => undefined });
    const { url } = await keyhole.listen();
    expect(url).toBe(`https://127.0.0.1:${port}`);
  });
  afterAll(async () => {
    await keyhole?.close();
    await mcp?.close();
    await as?.close();
  });

  it('serves the discovery documents over HTTPS', async () => {
    const res = await fetch(`${publicUrl}/.well-known/oauth-authorization-server`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { issuer: string }).issuer).toBe(publicUrl);
    const prm = await fetch(`${publicUrl}/.well-known/oauth-protected-resource/mcp/demo`);
    expect(((await prm.json()) as { resource: string }).resource).toBe(`${publicUrl}/mcp/demo`);
  });

  it('carries the SDK client\'s whole flow: discovery, registration, consent, token, tool call', async () => {
    const conn = await connectThroughKeyhole(`${publicUrl}/mcp/demo`, { login: 'tls-user' });
    const result = (await conn.client.callTool({ name: 'whoami', arguments: {} })) as { content: Array<{ text: string }> };
    expect(JSON.parse(result.content[0]!.text).sub).toBe('tls-user');
    await conn.client.close();
  });

  it('does not answer plain HTTP on the TLS port', async () => {
    await expect(fetch(`http://127.0.0.1:${port}/.well-known/oauth-authorization-server`, { signal: AbortSignal.timeout(3000) })).rejects.toThrow();
  });

  it('reloads the certificate for new connections (SIGHUP in keyhole serve)', async () => {
    const before = await peerFingerprint(port, cert.certPem);
    expect(before).toBe(new X509Certificate(cert.certPem).fingerprint256);
    const next = makeSelfSignedCert({ dns: ['localhost'], ips: ['127.0.0.1'] });
    copyFileSync(next.certPath, certFile());
    writeFileSync(keyFile(), next.keyPem);
    keyhole.reloadTls();
    expect(await peerFingerprint(port, next.certPem)).toBe(new X509Certificate(next.certPem).fingerprint256);
  });

  it('keyhole serve reloads the certificate on SIGHUP', async () => {
    await ensureBuiltCli();
    const first = makeSelfSignedCert({ dns: ['localhost'], ips: ['127.0.0.1'] });
    const certPath = join(first.dir, 'serve-cert.pem');
    const keyPath = join(first.dir, 'serve-key.pem');
    copyFileSync(first.certPath, certPath);
    writeFileSync(keyPath, first.keyPem);
    const servePort = await freePort();
    const config = join(first.dir, 'keyhole.json');
    writeFileSync(config, JSON.stringify({
      publicUrl: `https://127.0.0.1:${servePort}`,
      listen: { host: '127.0.0.1', port: servePort, tls: { cert: certPath, key: keyPath } },
      storage: { sqlite: join(first.dir, 'serve.db') },
      servers: { demo: { upstream: mcp.url, oauth: { issuer: as.issuer, clientId: 'keyhole', clientSecret: 'unused-here' } } },
    }));
    const serve = startCli(['serve', '--config', config], { env: { PATH: process.env.PATH ?? '', KEYHOLE_MASTER_KEY: randomBytes(32).toString('base64url') } });
    const stderrHas = (text: string) => new Promise<void>((resolve, reject) => {
      const check = () => (serve.stderr().includes(text) ? resolve() : undefined);
      serve.child.stderr!.on('data', check);
      void serve.done.then((r) => reject(new Error(`serve ended: ${r.stderr}`)));
      check();
    });
    try {
      await stderrHas(`"url":"https://127.0.0.1:${servePort}"`);
      expect(await peerFingerprint(servePort, first.certPem)).toBe(new X509Certificate(first.certPem).fingerprint256);
      const next = makeSelfSignedCert({ dns: ['localhost'], ips: ['127.0.0.1'] });
      copyFileSync(next.certPath, certPath);
      writeFileSync(keyPath, next.keyPem);
      serve.child.kill('SIGHUP');
      await stderrHas('keyhole.tls_reloaded');
      expect(await peerFingerprint(servePort, next.certPem)).toBe(new X509Certificate(next.certPem).fingerprint256);
    } finally {
      serve.child.kill('SIGTERM');
    }
    expect((await serve.done).code).toBe(0);
  });
});
