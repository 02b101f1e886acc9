import { describe, expect, it } from 'vitest';
import { checkHeaders } from '../../../../src/proxy/pipeline/check-headers.js';
import { authenticatedRequest, stepApp } from './step-app.js';

const call = (id: unknown, name: string) => JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name } });

function setup(body: string | null) {
  const app = stepApp(checkHeaders(), (c) => authenticatedRequest({ method: c.req.method, body: body === null ? null : Buffer.from(body) }));
  return { ...app, post: (headers: Record<string, string> = {}) => app.request('/mcp/demo', { method: 'POST', headers }) };
}

async function expectError(res: Response, status: number, code: number, id: unknown) {
  expect(res.status).toBe(status);
  const body = (await res.json()) as { error: { code: number; message: string }; id: unknown };
  expect(body.error.code).toBe(code);
  expect(body.id).toEqual(id);
  return body.error.message;
}

describe('checkHeaders', () => {
  it('passes a body without standard headers on, without parsing it', async () => {
    const { post, reached } = setup('not json at all');
    expect((await post()).status).toBe(200);
    expect(reached[0]!.rpc).toBeUndefined();
  });

  it('passes a request without a body on (GET, DELETE)', async () => {
    const { request, reached } = setup(null);
    expect((await request('/mcp/demo', { method: 'GET', headers: { 'mcp-method': 'tools/call' } })).status).toBe(200);
    expect(reached).toHaveLength(1);
  });

  it('passes headers that agree with the body on, with the parsed body on the context', async () => {
    const { post, reached } = setup(call(1, 'echo'));
    expect((await post({ 'mcp-method': 'tools/call', 'mcp-name': 'echo' })).status).toBe(200);
    expect(reached[0]!.rpc).toMatchObject({ ok: true, info: { toolCalls: [{ id: 1, name: 'echo' }] } });
  });

  it('rejects an Mcp-Method that disagrees with the body with 400 HEADER_MISMATCH and the request id', async () => {
    const { post, reached } = setup(call(7, 'echo'));
    const message = await expectError(await post({ 'mcp-method': 'tools/list' }), 400, -32020, 7);
    expect(message).toBe('Header mismatch: the Mcp-Method header names "tools/list" but the body calls "tools/call"');
    expect(reached).toHaveLength(0);
  });

  it('rejects an Mcp-Name that disagrees with the body with 400 HEADER_MISMATCH', async () => {
    const { post } = setup(call('a', 'echo'));
    await expectError(await post({ 'mcp-method': 'tools/call', 'mcp-name': 'delete_all' }), 400, -32020, 'a');
  });

  it('rejects a 2026-07-28 batch with 400 BATCH_NOT_ALLOWED', async () => {
    const { post } = setup(`[${call(1, 'echo')}]`);
    await expectError(await post({ 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call' }), 400, -32600, null);
  });

  it('rejects a body it must compare but cannot parse with 400 PARSE_ERROR', async () => {
    const { post, reached } = setup('{"jsonrpc":');
    await expectError(await post({ 'mcp-method': 'tools/call' }), 400, -32700, null);
    expect(reached).toHaveLength(0);
  });
});
