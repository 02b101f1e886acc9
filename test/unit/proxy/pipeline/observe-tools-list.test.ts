import { PassThrough, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { observeToolsList } from '../../../../src/proxy/pipeline/observe-tools-list.js';
import type { McpRequest } from '../../../../src/proxy/pipeline/mcp-request.js';
import { authenticatedRequest, stepApp } from './step-app.js';

const body = (v: unknown) => Buffer.from(JSON.stringify(v));
const ANSWER = JSON.stringify({ jsonrpc: '2.0', id: 1, result: { tools: [{ name: 'a' }] } });

async function through(t: Transform, text: string): Promise<string> {
  const out: Buffer[] = [];
  const sink = new PassThrough();
  sink.on('data', (d: Buffer) => out.push(d));
  const src = new PassThrough();
  const done = pipeline(src, t, sink);
  src.end(text);
  await done;
  return Buffer.concat(out).toString('utf8');
}

async function run(req: McpRequest) {
  const told: Array<[string, unknown[]]> = [];
  const { request, reached } = stepApp(observeToolsList({ onToolsList: (s, t) => told.push([s, t]) }), () => req);
  await request('/mcp/demo', { method: 'POST' });
  return { told, reached: reached[0]! };
}

describe('observeToolsList', () => {
  it('refuses to be built without onToolsList', () => {
    expect(() => observeToolsList({} as never)).toThrow('observeToolsList: onToolsList is required');
  });

  it('taps a whole tools/list answer, around the scope filter when there is one', async () => {
    const upper = () => new Transform({ transform(c: Buffer, _e, cb) { cb(null, c.toString().toUpperCase()); } });
    const { told, reached } = await run(authenticatedRequest({ body: body({ jsonrpc: '2.0', id: 1, method: 'tools/list' }), transformResponse: upper }));
    expect(await through(reached.transformResponse!({ sse: false, status: 200 })!, ANSWER)).toBe(ANSWER.toUpperCase());
    expect(told).toEqual([['demo', [{ name: 'a' }]]]);
  });

  it('leaves other requests, later pages and batches alone', async () => {
    for (const b of [
      { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'a' } },
      { jsonrpc: '2.0', id: 1, method: 'tools/list', params: { cursor: 'p2' } },
      [{ jsonrpc: '2.0', id: 1, method: 'tools/list' }],
    ]) {
      const { reached } = await run(authenticatedRequest({ body: body(b) }));
      expect(reached.transformResponse).toBeUndefined();
    }
    const { reached } = await run(authenticatedRequest({ body: null }));
    expect(reached.transformResponse).toBeUndefined();
  });
});
