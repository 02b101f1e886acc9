/**
 * trustProxy wired into the admin limiter over real sockets: a forged X-Forwarded-For from an untrusted peer is
 * ignored (the failure is counted against the peer), one from a trusted proxy names the client.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../helpers/stack.js';

async function failedAdminCall(stack: Stack, forwardedFor: string): Promise<string> {
  const res = await fetch(`${stack.publicUrl}/admin/api/grants`, { headers: { authorization: 'Bearer wrong-token-wrong-token-wrong', 'x-forwarded-for': forwardedFor } });
  expect(res.status).toBe(401);
  const [event] = await stack.keyhole.store.events.list({ type: 'admin.sign_in_failed', limit: 1 });
  return (event!.detail as { address: string }).address;
}

describe('trustProxy', () => {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  it('ignores X-Forwarded-For from a peer outside trustProxy', async () => {
    stack = await startStack({ config: { trustProxy: ['10.0.0.0/8'] } });
    expect(await failedAdminCall(stack, '198.51.100.23')).toBe('127.0.0.1');
  });

  it('ignores X-Forwarded-For when trustProxy is empty (the default)', async () => {
    stack = await startStack();
    expect(await failedAdminCall(stack, '198.51.100.23')).toBe('127.0.0.1');
  });

  it('believes X-Forwarded-For from a trusted proxy', async () => {
    stack = await startStack({ config: { trustProxy: ['127.0.0.1/32'] } });
    expect(await failedAdminCall(stack, '6.6.6.6, 198.51.100.23')).toBe('198.51.100.23');
  });

  it('limits per forwarded client behind a trusted proxy, not per proxy', async () => {
    stack = await startStack({ config: { trustProxy: ['127.0.0.1/32'] } });
    for (let i = 0; i < 5; i++) await failedAdminCall(stack, '198.51.100.23');
    const blocked = await fetch(`${stack.publicUrl}/admin/api/grants`, { headers: { authorization: 'Bearer wrong-token-wrong-token-wrong', 'x-forwarded-for': '198.51.100.23' } });
    expect(blocked.status).toBe(429);
    expect(await failedAdminCall(stack, '198.51.100.99')).toBe('198.51.100.99'); // another client behind the same proxy
  });
});
