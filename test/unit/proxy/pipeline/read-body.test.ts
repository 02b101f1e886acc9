import { describe, expect, it } from 'vitest';
import { readBody } from '../../../../src/proxy/pipeline/read-body.js';
import { authenticatedRequest, incoming, stepApp } from './step-app.js';

function setup(maxBodyBytes = 16) {
  return stepApp(readBody({ maxBodyBytes }), (c) => authenticatedRequest({ method: c.req.method }));
}

describe('readBody', () => {
  it('puts the whole body of a POST on the context', async () => {
    const { request, reached } = setup();
    const res = await request('/mcp/demo', { method: 'POST' }, { incoming: incoming('{"a":1}') });
    expect(res.status).toBe(200);
    expect(reached[0]!.body?.toString()).toBe('{"a":1}');
  });

  it('rejects a body over maxBodyBytes with 413 BODY_TOO_LARGE', async () => {
    const { request, reached } = setup();
    const res = await request('/mcp/demo', { method: 'POST' }, { incoming: incoming('x'.repeat(17)) });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ jsonrpc: '2.0', error: { code: -32600, message: 'Invalid Request: request body larger than 16 bytes' }, id: null });
    expect(reached).toHaveLength(0);
  });

  it('rejects a declared Content-Length over maxBodyBytes before reading', async () => {
    const { request } = setup();
    const res = await request('/mcp/demo', { method: 'POST' }, { incoming: incoming('', { 'content-length': '17' }) });
    expect(res.status).toBe(413);
  });

  it('reads nothing for GET and DELETE: the body stays null', async () => {
    const { request, reached } = setup();
    for (const method of ['GET', 'DELETE']) expect((await request('/mcp/demo', { method }, { incoming: incoming('unread') })).status).toBe(200);
    expect(reached.map((r) => r.body)).toEqual([null, null]);
  });

  it('checks its options when built', () => {
    expect(() => readBody(undefined as never)).toThrow(TypeError);
    expect(() => readBody({ maxBodyBytes: -1 })).toThrow(/maxBodyBytes/);
    expect(() => readBody({ maxBodyBytes: 1.5 })).toThrow(/maxBodyBytes/);
  });
});
