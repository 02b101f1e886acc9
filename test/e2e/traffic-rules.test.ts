/**
 * Argument rules and secret redaction end to end (issue 15) with real peers: oidc-provider and SDK MCP servers
 * upstream, raw requests and the SDK client through keyhole.
 * - argument rules: writes limited to one GitHub-like organization (`/owner`); allowed and refused calls, inside a
 *   batch too; a missing or mistyped constrained argument is refused; the upstream never receives a refused call;
 * - redaction: a tool returns a PEM private key, an AWS access key and a JWT, in a JSON answer and in a slow SSE
 *   stream; the client receives `[REDACTED:…]`, and the stream still arrives event by event.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { UpstreamMcpOptions } from '../../examples/demo/upstream-mcp-server.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { connectThroughKeyhole } from '../helpers/sdk-client.js';
import { authorizeClient, openSession, PROTOCOL, rawPost, sseMessages, toolCall } from '../helpers/raw-mcp.js';

const PEM = '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\nVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n-----END RSA PRIVATE KEY-----';
const AWS = 'AKIAIOSFODNN7EXAMPLE';
const JWT = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c';
const LEAK = `config dump:\n${PEM}\naws_access_key_id ${AWS}\nsession ${JWT}\nend`;
const REDACTED = 'config dump:\n[REDACTED:private_key]\naws_access_key_id [REDACTED:aws_access_key]\nsession [REDACTED:jwt]\nend';

/** Lets the test decide when the slow tool may finish: proof that keyhole relays an event before the stream ends. */
let releaseSlow: () => void = () => {};

const githubLikeTools: NonNullable<UpstreamMcpOptions['extraTools']> = (mcp, record) => {
  const repoArgs = { owner: z.unknown(), repo: z.string(), title: z.string() };
  mcp.registerTool('create_issue_in', { description: 'Create an issue in owner/repo', inputSchema: repoArgs }, async (args, extra) => {
    record('create_issue_in', extra.authInfo);
    return { content: [{ type: 'text' as const, text: `created in ${String(args.owner)}/${args.repo}` }] };
  });
  mcp.registerTool('dump_config', { description: 'Dump the server config (leaks secrets)' }, async (extra) => {
    record('dump_config', extra.authInfo);
    return { content: [{ type: 'text' as const, text: LEAK }] };
  });
  mcp.registerTool('slow_dump', { description: 'Dump slowly, with progress' }, async (extra) => {
    record('slow_dump', extra.authInfo);
    const token = extra._meta?.progressToken ?? 'p';
    await extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: 1, total: 2, message: 'half way' } });
    await new Promise<void>((resolve) => (releaseSlow = resolve));
    await extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: 2, total: 2, message: 'done' } });
    return { content: [{ type: 'text' as const, text: LEAK }] };
  });
};

const RULES = [{ tool: 'create_*', pointer: '/owner', allow: ['acme'] }];

describe('traffic policy: argument rules and redaction', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      server: { argumentRules: RULES, guardrails: { redactSecrets: true } },
      extraTools: githubLikeTools,
      extraServers: { json: { jsonResponse: true, server: { guardrails: { redactSecrets: true } }, extraTools: githubLikeTools } },
    });
  });
  afterAll(async () => stack?.close());

  it('allows a write to the allowed organization and refuses others, a missing and a mistyped owner, alone or in a batch', async () => {
    const { token } = await authorizeClient(stack.mcpUrl, 'dev');
    const session = await openSession(stack.mcpUrl, token);
    const created = () => stack.mcp.calls.filter((c) => c.tool === 'create_issue_in').length;

    const allowed = await rawPost(stack.mcpUrl, token, toolCall(1, 'create_issue_in', { owner: 'acme', repo: 'api', title: 't' }), session);
    expect(allowed.status).toBe(200);
    expect(allowed.messages).toEqual([{ jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text: 'created in acme/api' }] } }]);
    expect(created()).toBe(1);

    const refused = await rawPost(stack.mcpUrl, token, toolCall(2, 'create_issue_in', { owner: 'evil-corp', repo: 'api', title: 't' }), session);
    expect(refused.status).toBe(403);
    expect(refused.headers.get('www-authenticate')).toBeNull();
    expect(refused.messages).toEqual([{ jsonrpc: '2.0', id: 2, error: { code: -32014, message: 'Argument /owner of create_issue_in refused by policy', data: { rule: { index: 0, tool: 'create_*', pointer: '/owner' }, reason: 'not_allowed' } } }]);

    const missing = await rawPost(stack.mcpUrl, token, toolCall(3, 'create_issue_in', { repo: 'api', title: 't' }), session);
    expect(missing.status).toBe(403);
    expect(missing.messages).toEqual([{ jsonrpc: '2.0', id: 3, error: { code: -32015, message: 'Argument /owner of create_issue_in cannot be checked by policy', data: { rule: { index: 0, tool: 'create_*', pointer: '/owner' }, reason: 'missing' } } }]);
    const mistyped = await rawPost(stack.mcpUrl, token, toolCall(4, 'create_issue_in', { owner: { login: 'acme' }, repo: 'api', title: 't' }), session);
    expect(mistyped.status).toBe(403);
    expect((mistyped.messages[0] as { error: { code: number; data: { reason: string } } }).error).toMatchObject({ code: -32015, data: { reason: 'wrong_type' } });

    // A batch with one allowed and one refused call: refused as a whole, the upstream sees neither.
    const batch = await rawPost(stack.mcpUrl, token, [toolCall(5, 'create_issue_in', { owner: 'acme', repo: 'a', title: 't' }), toolCall(6, 'create_issue_in', { owner: 'other', repo: 'b', title: 't' })], session);
    expect(batch.status).toBe(403);
    expect(batch.messages).toEqual([{ jsonrpc: '2.0', id: 6, error: { code: -32014, message: 'Argument /owner of create_issue_in refused by policy', data: { rule: { index: 0, tool: 'create_*', pointer: '/owner' }, reason: 'not_allowed' } } }]);
    expect(created()).toBe(1);
    // Tools no rule names are untouched.
    expect((await rawPost(stack.mcpUrl, token, toolCall(8, 'echo', { text: 'hi' }), session)).status).toBe(200);
  });

  it('redacts a PEM key, an AWS key and a JWT in a JSON answer', async () => {
    const url = `${stack.publicUrl}/mcp/json`;
    const { client } = await connectThroughKeyhole(url, { login: 'dev' });
    const r = (await client.callTool({ name: 'dump_config', arguments: {} })) as { content: Array<{ text: string }> };
    expect(r.content).toEqual([{ type: 'text', text: REDACTED }]);
    await client.close();
  });

  it('redacts the same secrets in a slow SSE stream that still arrives event by event', async () => {
    const { token } = await authorizeClient(stack.mcpUrl, 'dev', 'stream client');
    const session = await openSession(stack.mcpUrl, token);
    const res = await fetch(stack.mcpUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': PROTOCOL, 'mcp-session-id': session },
      body: JSON.stringify({ jsonrpc: '2.0', id: 'slow', method: 'tools/call', params: { name: 'slow_dump', arguments: {}, _meta: { progressToken: 'p1' } } }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    // The first progress event arrives while the tool is still waiting: keyhole did not hold the stream back.
    while (!/\n\n/.test(text)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`stream ended early: ${text}`);
      text += decoder.decode(value, { stream: true });
    }
    expect(sseMessages(text)).toEqual([{ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 'p1', progress: 1, total: 2, message: 'half way' } }]);
    releaseSlow();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    const messages = sseMessages(text);
    expect(messages.at(-1)).toEqual({ jsonrpc: '2.0', id: 'slow', result: { content: [{ type: 'text', text: REDACTED }] } });
    expect(messages).toHaveLength(3);
    expect(text).not.toContain(AWS);
    expect(text).not.toContain('MIIEowIBAAKCAQEA');
    expect(text).not.toContain(JWT.split('.')[2]);
  });
});
