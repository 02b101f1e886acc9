/**
 * The tools/list filter under load and on 2026-07-28 results (issue 9 F3, issue 11 §2): linear SSE scanning with
 * a 16 MB per-event cap, UTF-8 safety across chunks, and `cacheScope` turned private on every filtered list.
 */
import { describe, expect, it } from 'vitest';
import { Readable, type Transform } from 'node:stream';
import { jsonToolsListFilter, sseToolsListFilter } from '../../../src/proxy/tools-list-filter.js';
import { createSseEventSplitter } from '../../../src/proxy/sse-event-splitter.js';

const keep = (tool: { name: string }) => tool.name.startsWith('get_');

async function run(t: Transform, chunks: Buffer[]): Promise<Buffer> {
  const out: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    Readable.from(chunks).pipe(t).on('data', (d: Buffer) => out.push(Buffer.from(d))).on('end', resolve).on('error', reject);
  });
  return Buffer.concat(out);
}

function split(buf: Buffer, size: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) chunks.push(buf.subarray(i, i + size));
  return chunks;
}

const list = (id: number, extra: Record<string, unknown> = {}) => ({ jsonrpc: '2.0', id, result: { tools: [{ name: 'get_a' }, { name: 'set_b' }], ...extra } });

describe('sseToolsListFilter', () => {
  it('filters a 20 MB event arriving in 64 KB chunks in well under 2 s, output correct', async () => {
    const pad = 'x'.repeat(20 * 1_048_576);
    const big = { jsonrpc: '2.0', id: 1, result: { tools: [{ name: 'get_a', description: pad }, { name: 'set_b', description: 'w' }] } };
    const stream = Buffer.from(`event: message\ndata: ${JSON.stringify(big)}\n\n`);
    const started = performance.now();
    const out = await run(sseToolsListFilter(new Set(['1']), keep, 32 * 1_048_576), split(stream, 65_536));
    const ms = performance.now() - started;
    expect(ms).toBeLessThan(2_000);
    const text = out.toString('utf8');
    expect(text.startsWith('event: message\ndata: ')).toBe(true);
    expect(text.endsWith('\n\n')).toBe(true);
    const data = JSON.parse(text.slice('event: message\ndata: '.length));
    expect(data.result.tools.map((t: { name: string }) => t.name)).toEqual(['get_a']);
    expect(data.result.tools[0].description.length).toBe(pad.length);
  });

  it('rejects an event over the 16 MB cap: the stream ends with a JSON-RPC error event, no unfiltered byte', async () => {
    const tools = Array.from({ length: 2_000 }, (_, i) => ({ name: `set_${i}`, description: 'y'.repeat(9_000) }));
    const first = 'event: message\ndata: {"jsonrpc":"2.0","method":"notifications/progress","params":{}}\n\n';
    const stream = Buffer.from(`${first}event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', id: 4, result: { tools } })}\n\n`);
    expect(stream.length).toBeGreaterThan(16 * 1_048_576);
    const started = performance.now();
    const out = (await run(sseToolsListFilter(new Set(['4']), keep), split(stream, 65_536))).toString('utf8');
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(out).not.toContain('set_');
    expect(out.startsWith(first)).toBe(true);
    const error = JSON.parse(out.slice(first.length).replace(/^event: message\ndata: /, ''));
    expect(error).toEqual({ jsonrpc: '2.0', error: { code: -32011, message: 'tools/list response too large to filter' }, id: 4 });
  });

  it('rejects an unterminated event as soon as it passes the cap, without waiting for the end', async () => {
    const t = sseToolsListFilter(new Set(['1']), keep, 1_000);
    const seen: Buffer[] = [];
    let ended = false;
    t.on('data', (d: Buffer) => seen.push(d)).on('end', () => (ended = true));
    t.write(Buffer.from(`data: {"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"set_x","description":"${'z'.repeat(2_000)}`));
    await new Promise((r) => setImmediate(r));
    expect(ended).toBe(true);
    expect(Buffer.concat(seen).toString()).toBe('event: message\ndata: {"jsonrpc":"2.0","error":{"code":-32011,"message":"tools/list response too large to filter"},"id":1}\n\n');
  });

  it('passes events it does not rewrite byte for byte, with CRLF, CR and LF line ends, split anywhere', async () => {
    const events = ['id: 1\r\ndata: {"a":1}\r\n\r\n', ': comment\rdata: {"b":"é€"}\r\r', 'data: {"c":3}\n\n'].join('');
    const whole = Buffer.from(events, 'utf8');
    for (const size of [1, 2, 3, 7, whole.length]) {
      const out = await run(sseToolsListFilter(new Set(['9']), keep), split(whole, size));
      expect(out.equals(whole), `chunk size ${size}`).toBe(true);
    }
  });

  it('keeps multi-byte characters intact when a chunk boundary cuts one, in a rewritten event', async () => {
    const event = Buffer.from(`data: ${JSON.stringify({ jsonrpc: '2.0', id: 1, result: { tools: [{ name: 'get_é€😀' }, { name: 'set_x' }] } })}\r\n\r\n`, 'utf8');
    const out = (await run(sseToolsListFilter(new Set(['1']), keep), split(event, 1))).toString('utf8');
    expect(JSON.parse(out.slice(6)).result.tools).toEqual([{ name: 'get_é€😀' }]);
    expect(out.endsWith('\r\n\r\n')).toBe(true);
  });

  it('turns cacheScope "public" into "private" on a filtered list (SSE)', async () => {
    const ev = `event: message\ndata: ${JSON.stringify(list(2, { ttlMs: 60_000, cacheScope: 'public' }))}\n\n`;
    const out = (await run(sseToolsListFilter(new Set(['2']), keep), [Buffer.from(ev)])).toString();
    const data = JSON.parse(out.slice('event: message\ndata: '.length));
    expect(data.result).toEqual({ tools: [{ name: 'get_a' }], ttlMs: 0, cacheScope: 'private' });
  });
});

describe('jsonToolsListFilter', () => {
  it('turns cacheScope "public" into "private" on a filtered list (JSON), single and batch', async () => {
    const single = JSON.parse((await run(jsonToolsListFilter(new Set(['2']), keep), [Buffer.from(JSON.stringify(list(2, { ttlMs: 5, cacheScope: 'public' })))])).toString());
    expect(single.result).toEqual({ tools: [{ name: 'get_a' }], ttlMs: 0, cacheScope: 'private' });
    const batch = JSON.parse((await run(jsonToolsListFilter(new Set(['3']), keep), [Buffer.from(JSON.stringify([list(3, { ttlMs: 0, cacheScope: 'public' })]))])).toString());
    expect(batch[0].result.cacheScope).toBe('private');
  });

  it('adds no caching hint to a result of an earlier revision (no ttlMs, no cacheScope)', async () => {
    const out = JSON.parse((await run(jsonToolsListFilter(new Set(['2']), keep), [Buffer.from(JSON.stringify(list(2)))])).toString());
    expect(out.result).toEqual({ tools: [{ name: 'get_a' }] });
  });
});

describe('createSseEventSplitter', () => {
  it('scans linearly: 4 MB of line breaks-free data in 1-byte-heavy chunking stays fast', () => {
    const s = createSseEventSplitter(64 * 1_048_576);
    const chunk = Buffer.alloc(4_096, 0x61);
    const started = performance.now();
    for (let i = 0; i < 1_024; i++) expect(s.push(chunk, () => undefined)).toBe(true);
    expect(performance.now() - started).toBeLessThan(500);
    expect(s.rest().length).toBe(4 * 1_048_576);
  });
});
