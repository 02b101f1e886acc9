/**
 * A local HTTPS server for client ID metadata documents, with a self-signed certificate made by the `openssl` CLI
 * (Node cannot build X.509 certificates). The certificate names `localhost`, `doc.test`, 127.0.0.1 and ::1; tests
 * trust it through keyhole's `cimd.extraCa` (its PEM path), never through NODE_TLS_REJECT_UNAUTHORIZED.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SelfSignedCert {
  dir: string;
  keyPem: string;
  certPem: string;
  /** Path of the certificate PEM (for `cimd.extraCa`). */
  certPath: string;
}

export function makeSelfSignedCert(hosts: { dns: string[]; ips: string[] } = { dns: ['localhost', 'doc.test'], ips: ['127.0.0.1', '::1'] }): SelfSignedCert {
  const dir = mkdtempSync(join(tmpdir(), 'keyhole-cert-'));
  const keyPath = join(dir, 'key.pem');
  const certPath = join(dir, 'cert.pem');
  const san = [...hosts.dns.map((d) => `DNS:${d}`), ...hosts.ips.map((i) => `IP:${i}`)].join(',');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyPath, '-out', certPath, '-days', '2', '-subj', '/CN=keyhole test documents',
    '-addext', `subjectAltName=${san}`,
  ], { stdio: 'pipe' });
  return { dir, keyPem: readFileSync(keyPath, 'utf8'), certPem: readFileSync(certPath, 'utf8'), certPath };
}

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export interface DocumentServer {
  port: number;
  cert: SelfSignedCert;
  /** `https://localhost:<port><path>` */
  url(path: string, host?: string): string;
  /** Requests per path. */
  hits: Map<string, number>;
  /** Host headers seen, in order. */
  hosts: string[];
  /** SNI server names seen, in order. */
  serverNames: string[];
  route(path: string, handler: Handler): void;
  /** Serve `doc` as JSON at `path` with optional extra headers. */
  json(path: string, doc: unknown, headers?: Record<string, string>): void;
  close(): Promise<void>;
}

export async function startDocumentServer(opts: { host?: string; cert?: SelfSignedCert } = {}): Promise<DocumentServer> {
  const cert = opts.cert ?? makeSelfSignedCert();
  const routes = new Map<string, Handler>();
  const hits = new Map<string, number>();
  const hosts: string[] = [];
  const serverNames: string[] = [];
  const server: Server = createServer({ key: cert.keyPem, cert: cert.certPem }, (req, res) => {
    const path = new URL(req.url ?? '/', 'https://x').pathname;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    hosts.push(req.headers.host ?? '');
    const handler = routes.get(path);
    if (!handler) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}');
      return;
    }
    handler(req, res);
  });
  server.on('secureConnection', (socket) => serverNames.push((socket as unknown as { servername?: string | false }).servername || ''));
  await new Promise<void>((resolve) => server.listen(0, opts.host ?? '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    cert,
    url: (path, host = 'localhost') => `https://${host}:${port}${path}`,
    hits,
    hosts,
    serverNames,
    route: (path, handler) => routes.set(path, handler),
    json(path, doc, headers = {}) {
      routes.set(path, (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(doc));
      });
    },
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      if (!opts.cert) rmSync(cert.dir, { recursive: true, force: true });
    },
  };
}
