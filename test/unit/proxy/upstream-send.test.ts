/**
 * upstream-send.ts reads a URL's fields (host, port, path, agent) once per URL object. A server's route keeps one
 * URL for its life and a config change builds a new route, so a new URL object: the very next request must go to
 * the new address, and requests through the old object keep going where it points.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, ServerResponse, type IncomingMessage, type Server } from 'node:http';
import { Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { createUpstreamSender, type UpstreamSender } from '../../../src/proxy/upstream-send.js';

function upstream(name: string): Promise<{ server: Server; port: number; seen: string[] }> {
  const seen: string[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    seen.push(`${req.method} ${req.url} ${req.headers.host}`);
    req.resume();
    req.on('end', () => res.end(name));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as AddressInfo).port, seen })));
}

function body(res: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let s = '';
    res.setEncoding('utf8');
    res.on('data', (c: string) => (s += c));
    res.on('end', () => resolve(s));
  });
}

// A client response that stays open for the test (the sender only watches its 'close' and state).
function clientResponse(): ServerResponse {
  const req = { method: 'POST', httpVersionMajor: 1, httpVersionMinor: 1, headers: {} } as unknown as IncomingMessage;
  const res = new ServerResponse(req);
  res.assignSocket(new Socket());
  return res;
}

describe('upstream sender: per-URL fields', () => {
  let a: Awaited<ReturnType<typeof upstream>>;
  let b: Awaited<ReturnType<typeof upstream>>;
  let sender: UpstreamSender;
  beforeAll(async () => {
    [a, b] = await Promise.all([upstream('A'), upstream('B')]);
    sender = createUpstreamSender();
  });
  afterAll(() => {
    sender.close();
    a.server.close();
    b.server.close();
  });

  async function send(url: URL): Promise<string> {
    const o = await sender.send(url, 'POST', ['Host', url.host, 'Content-Length', '2'], Buffer.from('{}'), 5_000, clientResponse(), true);
    expect(o.kind).toBe('response');
    if (o.kind !== 'response') throw new Error(o.kind);
    return body(o.res);
  }

  it('sends the next request to a new URL object at once, and the old object keeps its own address', async () => {
    const oldUrl = new URL(`http://127.0.0.1:${a.port}/mcp?x=1`);
    expect(await send(oldUrl)).toBe('A');
    expect(await send(oldUrl)).toBe('A');
    const newUrl = new URL(`http://127.0.0.1:${b.port}/v2/mcp`); // the reloaded config's route
    expect(await send(newUrl)).toBe('B');
    expect(await send(oldUrl)).toBe('A');
    expect(a.seen).toEqual([0, 1, 2].map(() => `POST /mcp?x=1 127.0.0.1:${a.port}`));
    expect(b.seen).toEqual([`POST /v2/mcp 127.0.0.1:${b.port}`]);
  });

  it('a new URL object on the same origin with another path gets that path', async () => {
    const before = b.seen.length;
    expect(await send(new URL(`http://127.0.0.1:${b.port}/other`))).toBe('B');
    expect(b.seen.slice(before)).toEqual([`POST /other 127.0.0.1:${b.port}`]);
  });
});
