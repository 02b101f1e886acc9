import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createAlertDispatcher, verifyAlertSignature, type AlertDispatcherOptions, type DeliveryFailure } from '../../../src/alerts/alert-dispatcher.js';
import type { Alert } from '../../../src/alerts/alert-triggers.js';

const SECRET = 'alert-secret-0123456789';
const T = Date.UTC(2026, 11, 1, 16, 0, 0);

interface Delivery { body: string; signature: string | undefined; valid: boolean; contentType: string | undefined }

/** A real webhook receiver on 127.0.0.1: verifies the HMAC itself and answers from a script of statuses. */
async function receiver(statuses: number[] = [], delayMs = 0) {
  const deliveries: Delivery[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const signature = req.headers['x-keyhole-signature'] as string | undefined;
      const expected = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
      deliveries.push({ body, signature, valid: signature === expected, contentType: req.headers['content-type'] });
      setTimeout(() => { res.statusCode = statuses.shift() ?? 200; res.end('ok'); }, delayMs);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, deliveries };
}
const servers: Server[] = [];
afterEach(async () => { await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r)))); });

const alert = (key = 'k1'): Alert => ({ kind: 'watched_tool_called', key, summary: 'watched tool delete_repo called on github', at: T, detail: { tool: 'delete_repo', grantId: 'g_1' } });

function dispatcher(url: string, over: Partial<AlertDispatcherOptions> = {}) {
  let t = T;
  const seen: string[] = [];
  const failures: Array<[string, DeliveryFailure, number | null]> = [];
  let ids = 0;
  const d = createAlertDispatcher({
    config: { webhook: url, secret: SECRET, timeoutMs: 2_000, maxAttempts: 3 },
    now: () => t, backoffMs: 5, newId: () => `al_${++ids}`,
    onAlert: (a) => seen.push(a.key), onDeliveryFailure: (a, reason, status) => failures.push([a.key, reason, status]),
    ...over,
  });
  return { d, seen, failures, advance: (ms: number) => { t += ms; } };
}

describe('alert-dispatcher', () => {
  it('POSTs the alert as JSON signed with HMAC-SHA256 of the raw body, with a timestamp', async () => {
    const { url, deliveries } = await receiver();
    const { d, seen } = dispatcher(url);
    d.send(alert());
    await d.flush();
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]!.valid).toBe(true);
    expect(deliveries[0]!.contentType).toBe('application/json');
    expect(JSON.parse(deliveries[0]!.body)).toEqual({
      id: 'al_1', source: 'keyhole', kind: 'watched_tool_called', summary: 'watched tool delete_repo called on github',
      at: '2026-12-01T16:00:00.000Z', timestamp: T / 1_000, detail: { tool: 'delete_repo', grantId: 'g_1' },
    });
    expect(verifyAlertSignature(deliveries[0]!.body, deliveries[0]!.signature, SECRET)).toBe(true);
    expect(verifyAlertSignature(`${deliveries[0]!.body} `, deliveries[0]!.signature, SECRET)).toBe(false);
    expect(seen).toEqual(['k1']);
    expect(d.stats).toEqual({ queued: 1, delivered: 1, deduplicated: 0, dropped: 0, failed: 0 });
  });

  it('deduplicates a key within a minute and sends it again after', async () => {
    const { url, deliveries } = await receiver();
    const { d, seen, advance } = dispatcher(url);
    d.send(alert('k1'));
    d.send(alert('k1'));
    d.send(alert('k2'));
    advance(59_999);
    d.send(alert('k1'));
    advance(1);
    d.send(alert('k1'));
    await d.flush();
    expect(deliveries.map((x) => JSON.parse(x.body).id)).toEqual(['al_1', 'al_2', 'al_3']);
    expect(seen).toEqual(['k1', 'k2', 'k1']);
    expect(d.stats.deduplicated).toBe(2);
  });

  it('retries after a 500 with the same signed body, then succeeds', async () => {
    const { url, deliveries } = await receiver([500, 503]);
    const { d, failures } = dispatcher(url);
    d.send(alert());
    await d.flush();
    expect(deliveries).toHaveLength(3);
    expect(new Set(deliveries.map((x) => x.body)).size).toBe(1);
    expect(deliveries.every((x) => x.valid)).toBe(true);
    expect(failures).toEqual([]);
    expect(d.stats.delivered).toBe(1);
  });

  it('gives up after maxAttempts and reports it', async () => {
    const { url, deliveries } = await receiver([500, 500, 500, 500]);
    const { d, failures } = dispatcher(url);
    d.send(alert());
    await d.flush();
    expect(deliveries).toHaveLength(3);
    expect(failures).toEqual([['k1', 'gave_up', null]]);
    expect(d.stats.failed).toBe(1);
  });

  it('does not retry a 4xx refusal (nor follow a redirect)', async () => {
    const { url, deliveries } = await receiver([400, 302]);
    const { d, failures } = dispatcher(url);
    d.send(alert('a'));
    d.send(alert('b'));
    await d.flush();
    expect(deliveries).toHaveLength(2);
    expect(failures).toEqual([['a', 'refused', 400], ['b', 'refused', 302]]);
  });

  it('never blocks the caller and drops beyond the bounded queue', async () => {
    const { url, deliveries } = await receiver([], 50);
    const { d, failures } = dispatcher(url, { maxQueue: 2 });
    // send() is synchronous and returns nothing to await: it hands the alert to the queue and returns at once,
    // before any delivery has happened (the receiver answers only after 50 ms).
    const returned = ['a', 'b', 'c', 'd'].map((k) => d.send(alert(k)));
    expect(returned).toEqual([undefined, undefined, undefined, undefined]);
    expect(deliveries).toHaveLength(0);
    await d.flush();
    // 'a' is taken by the worker at once; 'b' and 'c' fill the queue; 'd' is dropped.
    expect(deliveries.map((x) => JSON.parse(x.body).detail.tool)).toHaveLength(3);
    expect(failures).toEqual([['d', 'queue_full', null]]);
    expect(d.stats.dropped).toBe(1);
  });

  it('retries a network failure (nothing listening) and never throws', async () => {
    const { url } = await receiver();
    await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
    const { d, failures } = dispatcher(url, { config: { webhook: url, secret: SECRET, timeoutMs: 500, maxAttempts: 2 } });
    expect(() => d.send(alert())).not.toThrow();
    await d.flush();
    expect(failures).toEqual([['k1', 'gave_up', null]]);
  });

  it('checks its options when built', () => {
    expect(() => createAlertDispatcher({ config: { webhook: 'ftp://x', secret: SECRET, timeoutMs: 1, maxAttempts: 1 } })).toThrow('config.webhook must be an http(s) URL');
    expect(() => createAlertDispatcher({ config: { webhook: 'https://x', secret: 'short', timeoutMs: 1, maxAttempts: 1 } })).toThrow('config.secret must be at least 16 characters');
  });
});
