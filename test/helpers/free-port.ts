import { createServer } from 'node:net';

/** An ephemeral port that was free a moment ago (keyhole needs its publicUrl before it listens). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/**
 * An ephemeral port held until `release()`: servers started meanwhile (the upstream peers, which bind port 0) cannot
 * be given it by the OS, which a port freed at once allows (seen as EADDRINUSE when keyhole listens).
 */
export function reservePort(): Promise<{ port: number; release(): Promise<void> }> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      resolve({ port, release: () => new Promise<void>((r) => s.close(() => r())) });
    });
  });
}
