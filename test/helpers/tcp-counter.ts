/**
 * A tiny TCP relay in front of an upstream that counts what reaches it: connections accepted and bytes received.
 * When the upstream is down the relay accepts, fails to connect onwards and closes the client's socket (so the
 * client sees a reset). Used to prove structurally that nothing reached the upstream (e.g. an open circuit).
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface TcpCounter {
  port: number;
  /** Connections accepted so far. */
  connections(): number;
  /** Bytes received from clients so far. */
  bytes(): number;
  close(): Promise<void>;
}

export async function startTcpCounter(targetPort: () => number): Promise<TcpCounter> {
  let connections = 0;
  let bytes = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    connections++;
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('data', (d: Buffer) => (bytes += d.length));
    const upstream = connect(targetPort(), '127.0.0.1');
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.on('close', () => upstream.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => connections,
    bytes: () => bytes,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
