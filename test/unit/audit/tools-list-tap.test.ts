import { PassThrough, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { toolsFromBody, toolsListTap } from '../../../src/audit/tools-list-tap.js';

const TOOLS = [{ name: 'a', inputSchema: { type: 'object' } }, { name: 'b' }];
const json = JSON.stringify({ jsonrpc: '2.0', id: 7, result: { tools: TOOLS } });

async function run(t: Transform, chunks: string[]): Promise<string> {
  const out: Buffer[] = [];
  const src = new PassThrough();
  const sink = new PassThrough();
  sink.on('data', (d: Buffer) => out.push(d));
  const done = pipeline(src, t, sink);
  for (const c of chunks) src.write(c);
  src.end();
  await done;
  return Buffer.concat(out).toString('utf8');
}

describe('toolsFromBody', () => {
  it('finds result.tools of the answer to a listed id, JSON or SSE', () => {
    expect(toolsFromBody(json, new Set(['7']), false)).toEqual(TOOLS);
    expect(toolsFromBody(`event: message\nid: 1\ndata: {"jsonrpc":"2.0","method":"notifications/x"}\n\nevent: message\ndata: ${json}\n\n`, new Set(['7']), true)).toEqual(TOOLS);
    expect(toolsFromBody(`[${json}]`, new Set(['7']), false)).toEqual(TOOLS);
  });

  it('ignores other ids, paginated pages, errors and garbage', () => {
    expect(toolsFromBody(json, new Set(['8']), false)).toBeUndefined();
    expect(toolsFromBody(JSON.stringify({ jsonrpc: '2.0', id: 7, result: { tools: TOOLS, nextCursor: 'p2' } }), new Set(['7']), false)).toBeUndefined();
    expect(toolsFromBody(JSON.stringify({ jsonrpc: '2.0', id: 7, error: { code: -1, message: 'x' } }), new Set(['7']), false)).toBeUndefined();
    expect(toolsFromBody('{nope', new Set(['7']), false)).toBeUndefined();
  });
});

describe('toolsListTap', () => {
  it('passes the bytes unchanged and reports the tools once, at the end', async () => {
    const seen: unknown[][] = [];
    const out = await run(toolsListTap(new Set(['7']), false, (t) => seen.push(t), null), [json.slice(0, 10), json.slice(10)]);
    expect(out).toBe(json);
    expect(seen).toEqual([TOOLS]);
  });

  it('feeds the inner rewrite the upstream bytes and reports the unfiltered list', async () => {
    const seen: unknown[][] = [];
    const upper = new Transform({ transform(c: Buffer, _e, cb) { cb(null, c.toString('utf8').toUpperCase()); } });
    const out = await run(toolsListTap(new Set(['7']), false, (t) => seen.push(t), upper), [json]);
    expect(out).toBe(json.toUpperCase());
    expect(seen).toEqual([TOOLS]);
  });

  it('ends when the inner rewrite ends early, and reports nothing past maxBytes', async () => {
    const short = new Transform({ transform(_c, _e, cb) { this.push('cut'); this.push(null); cb(); } });
    expect(await run(toolsListTap(new Set(['7']), false, () => {}, short), ['a', 'b', 'c'])).toBe('cut');
    const seen: unknown[][] = [];
    expect(await run(toolsListTap(new Set(['7']), false, (t) => seen.push(t), null, 10), [json])).toBe(json);
    expect(seen).toEqual([]);
  });
});
