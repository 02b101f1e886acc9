import { describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import type { Transform } from 'node:stream';
import { createToolPolicy } from '../../../src/proxy/tool-policy.js';
import { inspectJsonRpc } from '../../../src/proxy/jsonrpc-inspect.js';
import { jsonToolsListFilter, sseToolsListFilter } from '../../../src/proxy/tools-list-filter.js';
import { serverSchema } from '../../../src/config/schema.js';

const server = serverSchema.parse({
  upstream: 'http://127.0.0.1:1/mcp',
  oauth: { issuer: 'http://127.0.0.1:2', clientId: 'k' },
  scopes: {
    read: { description: 'r', tools: ['get_*', 'search'] },
    write: { description: 'w', tools: ['create_issue', 'get_secret'] },
  },
});

async function run(t: Transform, chunks: Buffer[]): Promise<string> {
  const out: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    Readable.from(chunks).pipe(t).on('data', (d: Buffer) => out.push(Buffer.from(d))).on('end', resolve).on('error', reject);
  });
  return Buffer.concat(out).toString('utf8');
}

const toolsResult = (id: unknown) => ({ jsonrpc: '2.0', id, result: { tools: [{ name: 'get_issue' }, { name: 'create_issue' }, { name: 'search' }, { name: 'unlisted' }] } });
const keepRead = (tool: { name: string }) => createToolPolicy(server).allows(['read'], tool.name);

describe('createToolPolicy', () => {
  it('allows tools named by a granted scope, exact or glob', () => {
    const p = createToolPolicy(server);
    expect(p.allows(['read'], 'get_issue')).toBe(true);
    expect(p.allows(['read'], 'search')).toBe(true);
    expect(p.allows(['read'], 'create_issue')).toBe(false);
    expect(p.allows(['write'], 'create_issue')).toBe(true);
    expect(p.scopesFor('get_secret').sort()).toEqual(['read', 'write']);
  });
  it('denies a tool no scope names unless defaultPolicy is allow', () => {
    expect(createToolPolicy(server).allows(['read', 'write'], 'unlisted')).toBe(false);
    expect(createToolPolicy({ ...server, defaultPolicy: 'allow' }).allows([], 'unlisted')).toBe(true);
  });
  it('treats glob metacharacters other than * literally', () => {
    const p = createToolPolicy({ ...server, scopes: { a: { description: 'a', upstreamScopes: [], tools: ['a.b'] } } });
    expect(p.allows(['a'], 'a.b')).toBe(true);
    expect(p.allows(['a'], 'axb')).toBe(false);
  });
  it('filters nothing for a server without a scope map', () => {
    const p = createToolPolicy({ ...server, scopes: undefined });
    expect(p.filters).toBe(false);
    expect(p.allows([], 'anything')).toBe(true);
  });
});

describe('inspectJsonRpc', () => {
  it('reads tool names and tools/list ids from single messages and batches', () => {
    const r = inspectJsonRpc(Buffer.from(JSON.stringify([{ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'x' } }, { jsonrpc: '2.0', id: 'a', method: 'tools/list' }])));
    expect(r.ok && r.info.toolCalls).toEqual([{ id: 1, name: 'x' }]);
    expect(r.ok && [...r.info.toolListIds]).toEqual(['"a"']);
  });
  it('refuses a body it cannot parse', () => {
    expect(inspectJsonRpc(Buffer.from('{"jsonrpc":'))).toEqual({ ok: false, message: 'Parse error' });
  });
  it('returns the arguments of each tools/call (for argument rules), as sent', () => {
    const r = inspectJsonRpc(Buffer.from(JSON.stringify([{ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'x', arguments: { owner: 'acme', n: [1] } } }, { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'y' } }])));
    expect(r.ok && r.info.toolCalls).toStrictEqual([{ id: 1, name: 'x', arguments: { owner: 'acme', n: [1] } }, { id: 2, name: 'y', arguments: undefined }]);
  });
});

describe('jsonToolsListFilter', () => {
  it('hands keep the whole tool object (pinned tools compare description and inputSchema)', async () => {
    const seen: unknown[] = [];
    const body = JSON.stringify({ jsonrpc: '2.0', id: 7, result: { tools: [{ name: 'a', description: 'A', inputSchema: { type: 'object' } }, { nameless: true }] } });
    await run(jsonToolsListFilter(new Set(['7']), (t) => (seen.push(t), true)), [Buffer.from(body)]);
    expect(seen).toEqual([{ name: 'a', description: 'A', inputSchema: { type: 'object' } }]);
  });
  it('keeps only the allowed tools of the matching response id', async () => {
    const out = JSON.parse(await run(jsonToolsListFilter(new Set(['7']), keepRead), [Buffer.from(JSON.stringify(toolsResult(7)))]));
    expect(out.result.tools.map((t: { name: string }) => t.name)).toEqual(['get_issue', 'search']);
  });
  it('leaves responses to other ids and unparseable bodies untouched', async () => {
    const other = JSON.stringify(toolsResult(8));
    expect(await run(jsonToolsListFilter(new Set(['7']), keepRead), [Buffer.from(other)])).toBe(other);
    expect(await run(jsonToolsListFilter(new Set(['7']), keepRead), [Buffer.from('not json')])).toBe('not json');
  });
  it('does not confuse id 7 with id "7"', async () => {
    const body = JSON.stringify(toolsResult('7'));
    expect(await run(jsonToolsListFilter(new Set(['7']), keepRead), [Buffer.from(body)])).toBe(body);
  });
});

describe('sseToolsListFilter', () => {
  it('rewrites the matching event and passes others byte for byte, even when split across chunks', async () => {
    const progress = 'event: message\ndata: {"jsonrpc":"2.0","method":"notifications/progress","params":{"progress":1}}\n\n';
    const list = `id: ev-2\nevent: message\ndata: ${JSON.stringify(toolsResult(3))}\n\n`;
    const whole = Buffer.from(progress + list, 'utf8');
    const chunks = [whole.subarray(0, 10), whole.subarray(10, progress.length + 17), whole.subarray(progress.length + 17)];
    const out = await run(sseToolsListFilter(new Set(['3']), keepRead), chunks);
    expect(out.startsWith(progress)).toBe(true);
    const rest = out.slice(progress.length);
    expect(rest.startsWith('id: ev-2\nevent: message\ndata: ')).toBe(true);
    const data = JSON.parse(rest.split('data: ')[1]!.trim());
    expect(data.result.tools.map((t: { name: string }) => t.name)).toEqual(['get_issue', 'search']);
    expect(rest.endsWith('\n\n')).toBe(true);
  });
  it('emits each complete event before the stream ends (no buffering)', async () => {
    const t = sseToolsListFilter(new Set(['1']), keepRead);
    const seen: string[] = [];
    t.on('data', (d: Buffer) => seen.push(d.toString()));
    t.write(Buffer.from('data: {"a":1}\n\n'));
    await new Promise((r) => setImmediate(r));
    expect(seen.join('')).toBe('data: {"a":1}\n\n');
    t.end();
  });
  it('keeps a multi-byte character split across chunks intact', async () => {
    const event = Buffer.from(`data: ${JSON.stringify({ ...toolsResult(1), result: { tools: [{ name: 'get_é€' }] } })}\n\n`, 'utf8');
    const cut = event.indexOf(Buffer.from('€')) + 1;
    const out = await run(sseToolsListFilter(new Set(['1']), keepRead), [event.subarray(0, cut), event.subarray(cut)]);
    expect(out).toContain('get_é€');
  });
});
