/**
 * Rate limits end to end (issue 15) with real peers: oidc-provider and SDK MCP servers upstream, the SDK client
 * (and raw requests, for exact answers) through keyhole.
 * - per tool: 30 `execute_code` calls a minute; the 31st is 429 with the exact JSON-RPC error and Retry-After,
 *   the upstream saw exactly 30, and other tools still work;
 * - per person: two clients of one upstream account share one bucket; another person is not affected.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startStack, type Stack } from '../helpers/stack.js';
import { connectThroughKeyhole } from '../helpers/sdk-client.js';
import { authorizeClient, openSession, rawPost, toolCall } from '../helpers/raw-mcp.js';

describe('traffic policy: rate limits', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      server: { limits: { tools: { execute_code: { requestsPerMinute: 30 } } } },
      extraTools: (mcp, record) => {
        mcp.registerTool('execute_code', { description: 'Run code', inputSchema: { code: z.string() } }, async ({ code }, extra) => {
          record('execute_code', extra.authInfo);
          return { content: [{ type: 'text' as const, text: `ran ${code.length} chars` }] };
        });
      },
      // Per person, per hour: a bucket that does not refill during the test.
      extraServers: { people: { server: { limits: { perPerson: { requestsPerHour: 6 } } } } },
    });
  });
  afterAll(async () => stack?.close());

  it('refuses the 31st execute_code call in a minute with 429 and the exact JSON-RPC error; other tools still work', async () => {
    const { client, transport, provider } = await connectThroughKeyhole(stack.mcpUrl, { login: 'ana' });
    for (let i = 1; i <= 30; i++) {
      const r = (await client.callTool({ name: 'execute_code', arguments: { code: `print(${i})` } })) as { content: Array<{ text: string }> };
      expect(r.content[0]!.text).toBe(`ran ${`print(${i})`.length} chars`);
    }
    const refused = await rawPost(stack.mcpUrl, provider.tokens()!.access_token, toolCall(7, 'execute_code', { code: 'x' }), transport.sessionId);
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    // 30 a minute refill one token every 2 s: the wait is at most 2 s, at least 1 (whole seconds, rounded up).
    expect([1, 2]).toContain(retryAfter);
    expect(refused.headers.get('content-type')).toContain('application/json');
    expect(refused.text).toBe(`{"jsonrpc":"2.0","id":7,"error":{"code":-32029,"message":"Rate limit exceeded","data":{"limit_type":"per_tool","tool":"execute_code","retry_after":${retryAfter},"limit":30,"window":"60s"}}}`);
    expect(stack.mcp.calls.filter((c) => c.tool === 'execute_code')).toHaveLength(30);
    // The SDK client sees the same refusal as an error; another tool is not limited.
    await expect(client.callTool({ name: 'execute_code', arguments: { code: 'y' } })).rejects.toThrow(/Rate limit exceeded|429/);
    const echoed = (await client.callTool({ name: 'echo', arguments: { text: 'still here' } })) as { content: Array<{ text: string }> };
    expect(echoed.content[0]!.text).toBe('still here');
    expect(stack.mcp.calls.filter((c) => c.tool === 'execute_code')).toHaveLength(30);
    await client.close();
  });

  it('counts the calls of two clients of one person against one per-person bucket', async () => {
    const url = `${stack.publicUrl}/mcp/people`;
    const upstream = stack.extra.people!.mcp;
    const a = await authorizeClient(url, 'bo', 'first client of bo');
    const b = await authorizeClient(url, 'bo', 'second client of bo');
    const clientIds = [a, b].map((x) => (x.provider.clientInformation() as { client_id: string }).client_id);
    expect(clientIds[0]).not.toBe(clientIds[1]);
    // Six messages an hour for bo: two initializes and four calls, split across the two clients.
    const sa = await openSession(url, a.token);
    const sb = await openSession(url, b.token);
    for (const [token, session, n] of [[a.token, sa, 1], [b.token, sb, 2], [a.token, sa, 3], [b.token, sb, 4]] as const) {
      const ok = await rawPost(url, token, toolCall(n, 'echo', { text: `call ${n}` }), session);
      expect(ok.status).toBe(200);
      expect(ok.messages).toEqual([{ jsonrpc: '2.0', id: n, result: { content: [{ type: 'text', text: `call ${n}` }] } }]);
    }
    for (const [token, session] of [[b.token, sb], [a.token, sa]] as const) {
      const refused = await rawPost(url, token, toolCall(9, 'echo', { text: 'one too many' }), session);
      expect(refused.status).toBe(429);
      const retryAfter = Number(refused.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(500); // one token every 600 s
      expect(retryAfter).toBeLessThanOrEqual(600);
      expect(refused.messages).toEqual([{ jsonrpc: '2.0', id: 9, error: { code: -32029, message: 'Rate limit exceeded', data: { limit_type: 'per_person', retry_after: retryAfter, limit: 6, window: '1h' } } }]);
    }
    expect(upstream.calls.filter((c) => c.sub === 'bo').map((c) => c.tool)).toEqual(['echo', 'echo', 'echo', 'echo']);
    // Another person has a bucket of their own.
    const c = await authorizeClient(url, 'cy');
    const sc = await openSession(url, c.token);
    expect((await rawPost(url, c.token, toolCall(1, 'echo', { text: 'cy' }), sc)).status).toBe(200);
    expect(upstream.calls.filter((x) => x.sub === 'cy')).toHaveLength(1);
  });
});
