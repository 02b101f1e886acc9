import { describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { listenOnLoopback } from '../../../examples/demo/loopback-server.js';

describe('listenOnLoopback', () => {
  it('listens on 127.0.0.1 on an ephemeral port', async () => {
    const l = await listenOnLoopback();
    l.server.on('request', (_req, res) => res.end('hi'));
    expect(l.port).toBeGreaterThan(0);
    expect(l.server.address()).toMatchObject({ address: '127.0.0.1', port: l.port });
    expect(await (await fetch(`http://127.0.0.1:${l.port}/`)).text()).toBe('hi');
    await l.close();
  });

  it('close ends an open stream, and closing twice is a no-op', async () => {
    const l = await listenOnLoopback();
    l.server.on('request', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(': open\n\n'); // never ended
    });
    const ended = new Promise<string>((resolve) => {
      request({ host: '127.0.0.1', port: l.port, path: '/' }, (res) => {
        res.once('data', () => undefined);
        res.on('close', () => resolve('closed'));
      }).end();
    });
    await new Promise((r) => setTimeout(r, 50));
    await l.close();
    expect(await ended).toBe('closed');
    expect(l.server.listening).toBe(false);
    await l.close();
  });

  it('refuses a port in use', async () => {
    const a = await listenOnLoopback();
    await expect(listenOnLoopback(a.port)).rejects.toMatchObject({ code: 'EADDRINUSE' });
    await a.close();
  });
});
