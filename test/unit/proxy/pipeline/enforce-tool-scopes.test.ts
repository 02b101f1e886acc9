import { Readable, type Transform } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { enforceToolScopes } from '../../../../src/proxy/pipeline/enforce-tool-scopes.js';
import { serverSchema } from '../../../../src/config/schema.js';
import { accessToken, authenticatedRequest, PUBLIC_URL, stepApp } from './step-app.js';

const scoped = serverSchema.parse({
  upstream: 'http://127.0.0.1:9000/mcp',
  oauth: { issuer: 'http://127.0.0.1:9001', clientId: 'k' },
  scopes: {
    read: { description: 'r', tools: ['get_*', 'echo'] },
    write: { description: 'w', tools: ['write_note'] },
  },
});
const servers = { demo: scoped, other: { ...scoped, scopes: undefined } };
const msg = (id: unknown, method: string, params?: unknown) => ({ jsonrpc: '2.0', id, method, ...(params ? { params } : {}) });
const call = (id: unknown, name?: unknown) => msg(id, 'tools/call', name === undefined ? {} : { name });

function setup(body: unknown, server: 'demo' | 'other' = 'demo', scopes = ['read']) {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  const app = stepApp(enforceToolScopes({ servers }), () => authenticatedRequest({ server, body: Buffer.from(raw), token: accessToken({ scopes }) }));
  return { ...app, post: () => app.request(`/mcp/${server}`, { method: 'POST' }) };
}

async function jsonRpcError(res: Response) {
  return (await res.json()) as { error: { code: number; message: string }; id: unknown };
}

async function run(t: Transform, text: string): Promise<string> {
  const out: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    Readable.from([Buffer.from(text)]).pipe(t).on('data', (d: Buffer) => out.push(Buffer.from(d))).on('end', resolve).on('error', reject);
  });
  return Buffer.concat(out).toString('utf8');
}

describe('enforceToolScopes', () => {
  it('passes everything on a server without a scope map, without parsing the body', async () => {
    const { post, reached } = setup('not json', 'other');
    expect((await post()).status).toBe(200);
    expect(reached[0]!.rpc).toBeUndefined();
    expect(reached[0]!.transformResponse).toBeUndefined();
  });

  it('passes a tools/call the grant\'s scopes allow on', async () => {
    const { post, reached } = setup(call(1, 'get_issue'));
    expect((await post()).status).toBe(200);
    expect(reached[0]!.transformResponse).toBeUndefined();
  });

  it('rejects a body it cannot parse with 400 PARSE_ERROR', async () => {
    const { post, reached } = setup('{"jsonrpc":');
    const res = await post();
    expect(res.status).toBe(400);
    expect((await jsonRpcError(res)).error.code).toBe(-32700);
    expect(reached).toHaveLength(0);
  });

  it('rejects a tools/call without a string params.name with 400 TOOL_NAME_MISSING', async () => {
    const { post } = setup(call(3));
    const res = await post();
    expect(res.status).toBe(400);
    expect(await jsonRpcError(res)).toEqual({ jsonrpc: '2.0', error: { code: -32602, message: 'tools/call needs params.name' }, id: 3 });
  });

  it('rejects a tool outside the grant with 403 INSUFFICIENT_SCOPE and one challenge naming every scope needed', async () => {
    const { post, reached } = setup([call(4, 'write_note'), call(5, 'echo')]);
    const res = await post();
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toBe(`Bearer error="insufficient_scope", error_description="the tool write_note needs the scope write", resource_metadata="${PUBLIC_URL}/.well-known/oauth-protected-resource/mcp/demo", scope="read write"`);
    expect(await jsonRpcError(res)).toEqual({ jsonrpc: '2.0', error: { code: -32003, message: 'insufficient scope for tool write_note' }, id: 4 });
    expect(reached).toHaveLength(0);
  });

  it('rejects a tool no scope names with TOOL_NOT_AVAILABLE and no challenge', async () => {
    const { post, reached } = setup(call(6, 'drop_tables'), 'demo', ['read', 'write']);
    const res = await post();
    expect(res.status).toBe(200);
    expect(res.headers.get('www-authenticate')).toBeNull();
    expect(await jsonRpcError(res)).toEqual({ jsonrpc: '2.0', error: { code: -32013, message: 'the tool drop_tables is not available through keyhole' }, id: 6 });
    expect(reached).toHaveLength(0);
  });

  it('puts a tools/list filter on the context that keeps only the tools the grant allows', async () => {
    const { post, reached } = setup(msg(9, 'tools/list'));
    expect((await post()).status).toBe(200);
    const transform = reached[0]!.transformResponse!;
    const result = JSON.stringify({ jsonrpc: '2.0', id: 9, result: { tools: [{ name: 'get_issue' }, { name: 'write_note' }, { name: 'echo' }] } });
    const filtered = JSON.parse(await run(transform({ sse: false, status: 200 })!, result)) as { result: { tools: Array<{ name: string }> } };
    expect(filtered.result.tools.map((t) => t.name)).toEqual(['get_issue', 'echo']);
    expect(transform({ sse: true, status: 200 })).not.toBeNull();
  });

  it('checks its options when built', () => {
    expect(() => enforceToolScopes(undefined as never)).toThrow(TypeError);
    expect(() => enforceToolScopes({ servers: undefined as never })).toThrow(/servers/);
  });
});
