/**
 * The demo peers' HTTP server: bound on 127.0.0.1 (the given port, or an ephemeral one) before the peer is built, so
 * its URL (which must contain the port) is known first; `close` also ends open connections (SSE streams, keep-alive).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface LoopbackServer {
  server: Server;
  port: number;
  /** Stops listening and destroys every open connection; a no-op when already closed. */
  close(): Promise<void>;
  /** Listens again on the same port after `close` (an outage that ends); a no-op when listening. */
  reopen(): Promise<void>;
}

export async function listenOnLoopback(port = 0): Promise<LoopbackServer> {
  const server: Server = createServer();
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const listen = (p: number) => new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(p, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  await listen(port);
  const bound = (server.address() as AddressInfo).port;
  return {
    server,
    port: bound,
    async reopen() {
      if (!server.listening) await listen(bound);
    },
    async close() {
      if (!server.listening) return;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        for (const s of sockets) s.destroy();
      });
    },
  };
}
