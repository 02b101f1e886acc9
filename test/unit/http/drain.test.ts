import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { runDrain } from '../../../src/http/drain.js';
import { trackInFlightRequests } from '../../../src/http/in-flight-requests.js';

describe('runDrain', () => {
  it('runs the steps in order; a bounded step is cut at the deadline, a failing one reported, the rest still run', async () => {
    const ran: string[] = [];
    const reports = await runDrain([
      { name: 'a', run: () => { ran.push('a'); } },
      { name: 'slow', bounded: true, run: () => new Promise((r) => setTimeout(r, 5_000).unref()) },
      { name: 'boom', run: () => { ran.push('boom'); throw new RangeError('secret detail'); } },
      { name: 'unbounded', run: () => new Promise<void>((r) => setTimeout(() => { ran.push('unbounded'); r(); }, 150)) },
      { name: 'last', run: () => { ran.push('last'); } },
    ], { deadline: Date.now() + 100 });
    expect(ran).toEqual(['a', 'boom', 'unbounded', 'last']);
    expect(reports.map((r) => [r.name, r.outcome, r.error])).toEqual([
      ['a', 'done', undefined], ['slow', 'timed_out', undefined], ['boom', 'failed', 'RangeError'], ['unbounded', 'done', undefined], ['last', 'done', undefined],
    ]);
    expect(JSON.stringify(reports)).not.toContain('secret detail');
  });
});

describe('trackInFlightRequests', () => {
  it('counts requests until their response closes, and closes connections after each response once draining', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const server: Server = createServer((req, res) => {
      if (req.url === '/slow') void gate.then(() => res.end('slow'));
      else res.end('fast');
    });
    const tracker = trackInFlightRequests(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const get = (path: string) => new Promise<{ body: string; connection: string | undefined }>((resolve, reject) => {
      request({ host: '127.0.0.1', port, path }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ body, connection: res.headers.connection }));
      }).on('error', reject).end();
    });
    try {
      expect((await get('/fast')).connection).toBe('keep-alive');
      const slow = get('/slow');
      while (tracker.count() === 0) await new Promise((r) => setTimeout(r, 5));
      let idle = false;
      const idled = tracker.idle().then(() => (idle = true));
      tracker.startDraining();
      expect(tracker.draining).toBe(true);
      expect((await get('/fast')).connection).toBe('close');
      expect(idle).toBe(false);
      release();
      expect((await slow).body).toBe('slow');
      await idled;
      expect(tracker.count()).toBe(0);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
