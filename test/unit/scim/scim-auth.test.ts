/**
 * SCIM bearer failure limit and events (src/scim/scim-auth.ts): wrong and missing tokens count per address and across
 * addresses; over a limit 429 with Retry-After and the exact SCIM error body (RFC 7644 §3.12), before the token is
 * compared; the right token from another address still works; one `scim.auth_failed` event per address and minute,
 * never with the presented token.
 */
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { AdminAttemptGuard } from '../../../src/http/failure-limiter.js';
import { perInstance } from '../../../src/http/rate-limit.js';
import { scimBearer, ScimFailureEvents } from '../../../src/scim/scim-auth.js';

const TOKEN = 'scim-unit-token-0123456789abcdef';
const WRONG = 'scim-wrong-guess-zz-9876543210fedcba';
const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

function setup(opts: { perAddress?: number; global?: number; eventWindowMs?: number } = {}) {
  let now = 1_000_000;
  const clock = () => now;
  const recorded: Array<{ type: string; outcome?: string; detail?: unknown }> = [];
  const limiter = new AdminAttemptGuard({ perAddressPerMinute: opts.perAddress ?? 3, globalPerMinute: opts.global ?? 100, now: clock });
  const app = new Hono();
  app.use('/scim/v2/*', scimBearer(TOKEN, { limiter, clock, failureEvents: new ScimFailureEvents(opts.eventWindowMs ?? 60_000), events: { record: async (e) => void recorded.push(e as never) } }));
  app.get('/scim/v2/Users', (c) => c.json({ ok: true }));
  const call = (address: string, token: string | null) =>
    app.request('/scim/v2/Users', { headers: token === null ? {} : { authorization: `Bearer ${token}` } }, {
      incoming: { socket: { remoteAddress: address, remotePort: 40000, remoteFamily: 'IPv4' } },
    });
  return { call, recorded, advance: (ms: number) => void (now += ms) };
}

describe('SCIM bearer failure limit', () => {
  it('refuses an address after N wrong tokens with 429, Retry-After and the SCIM error body, before comparing', async () => {
    const { call } = setup();
    for (let i = 0; i < 3; i++) expect((await call('10.0.0.1', WRONG)).status).toBe(401);
    const limited = await call('10.0.0.1', WRONG);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('content-type')).toBe('application/scim+json');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    expect(await limited.json()).toEqual({ schemas: [ERROR_SCHEMA], status: '429', detail: `too many failed attempts from this address; retry in ${limited.headers.get('retry-after')} s` });
    // the right token from the refused address is refused too (no oracle)
    expect((await call('10.0.0.1', TOKEN)).status).toBe(429);
    // the right token from another address works
    expect((await call('10.0.0.2', TOKEN)).status).toBe(200);
  });

  it('counts missing tokens too', async () => {
    const { call } = setup();
    for (let i = 0; i < 3; i++) expect((await call('10.0.0.3', null)).status).toBe(401);
    expect((await call('10.0.0.3', null)).status).toBe(429);
  });

  it('ends the refusal when the window ends', async () => {
    const { call, advance } = setup();
    for (let i = 0; i < 3; i++) await call('10.0.0.1', WRONG);
    expect((await call('10.0.0.1', TOKEN)).status).toBe(429);
    advance(61_000);
    expect((await call('10.0.0.1', TOKEN)).status).toBe(200);
  });

  it('locks out every address when the shared budget is spent, except one where the token was accepted', async () => {
    const { call } = setup({ perAddress: 100, global: 5 });
    expect((await call('10.9.9.9', TOKEN)).status).toBe(200); // the IdP's usual address
    for (let i = 0; i < 5; i++) expect((await call(`10.1.0.${i}`, WRONG)).status).toBe(401);
    const locked = await call('10.2.0.1', TOKEN);
    expect(locked.status).toBe(429);
    expect(await locked.json()).toEqual({ schemas: [ERROR_SCHEMA], status: '429', detail: `too many failed attempts; retry in ${locked.headers.get('retry-after')} s` });
    expect((await call('10.9.9.9', TOKEN)).status).toBe(200);
  });

  it('divides the limits by instances like the other limits', () => {
    expect(perInstance(5, 2)).toBe(2);
    expect(perInstance(20, 2)).toBe(10);
  });
});

describe('scim.auth_failed events', () => {
  it('records the reason and the address, at most one per address and minute, counting the rest, never the token', async () => {
    const { call, recorded, advance } = setup({ perAddress: 3 });
    await call('10.0.0.1', null);
    for (let i = 0; i < 5; i++) await call('10.0.0.1', WRONG); // 2 wrong, then 3 limited: all suppressed
    await call('10.0.0.2', WRONG);
    expect(recorded).toEqual([
      { type: 'scim.auth_failed', outcome: 'failure', detail: { reason: 'missing', address: '10.0.0.1' } },
      { type: 'scim.auth_failed', outcome: 'failure', detail: { reason: 'wrong', address: '10.0.0.2' } },
    ]);
    advance(60_000);
    await call('10.0.0.1', WRONG);
    expect(recorded[2]).toEqual({ type: 'scim.auth_failed', outcome: 'failure', detail: { reason: 'wrong', address: '10.0.0.1', suppressed: 5 } });
    expect(recorded).toHaveLength(3);
    expect(JSON.stringify(recorded)).not.toContain(WRONG);
    expect(JSON.stringify(recorded)).not.toContain(WRONG.slice(0, 12));
    expect(JSON.stringify(recorded)).not.toContain(TOKEN);
  });

  it('records a limited refusal as reason limited', async () => {
    const { call, recorded, advance } = setup({ perAddress: 3, eventWindowMs: 1_000 });
    for (let i = 0; i < 3; i++) await call('10.0.0.4', WRONG);
    advance(1_000);
    expect((await call('10.0.0.4', TOKEN)).status).toBe(429);
    expect(recorded).toEqual([
      { type: 'scim.auth_failed', outcome: 'failure', detail: { reason: 'wrong', address: '10.0.0.4' } },
      { type: 'scim.auth_failed', outcome: 'failure', detail: { reason: 'limited', address: '10.0.0.4', suppressed: 2 } },
    ]);
  });

  it('ScimFailureEvents caps the events of all addresses together, counting the rest per address', () => {
    const ev = new ScimFailureEvents(60_000, 100, 2);
    expect(ev.take('a', 0)).toBe(0);
    expect(ev.take('b', 0)).toBe(0);
    expect(ev.take('c', 0)).toBeUndefined(); // over the cap for this window
    expect(ev.take('c', 1)).toBeUndefined();
    expect(ev.take('c', 60_000)).toBe(2); // next window: recorded, with the two not recorded
    expect(ev.take('a', 60_000)).toBe(0);
    expect(ev.take('d', 60_001)).toBeUndefined();
  });

  it('ScimFailureEvents stays bounded', () => {
    const ev = new ScimFailureEvents(60_000, 2);
    expect(ev.take('a', 0)).toBe(0);
    expect(ev.take('b', 0)).toBe(0);
    expect(ev.take('c', 0)).toBe(0); // evicts a
    expect(ev.take('a', 1)).toBe(0); // a is new again
    expect(ev.take('a', 2)).toBeUndefined();
  });
});
