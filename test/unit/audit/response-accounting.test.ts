import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { createResponseMeter, meterServerResponse, outcomeOf, scanJsonRpcErrorCode, scanToolError, type ResponseMeasure } from '../../../src/audit/response-accounting.js';

describe('response-accounting', () => {
  it('measures time to first byte, total and bytes of a piped stream without changing it', async () => {
    let t = 1_000;
    const meter = createResponseMeter(1_000, () => t);
    const source = new PassThrough();
    const got: Buffer[] = [];
    meter.attach(source);
    const done = pipeline(source, new Writable({ write(c, _e, cb) { got.push(c); cb(); } }));
    t = 1_012;
    source.write('event: message\n');
    t = 1_030;
    source.end('data: {}\n\n');
    await done;
    t = 1_045;
    expect(meter.finish()).toEqual({ durationMsToFirstByte: 12, durationMsTotal: 45, responseBytes: 25, head: Buffer.from('event: message\ndata: {}\n\n') });
    expect(Buffer.concat(got).toString()).toBe('event: message\ndata: {}\n\n');
  });

  it('meters the body bytes written to a real ServerResponse (write and end, any encoding), headers excluded', async () => {
    let t = 0;
    let measured: ResponseMeasure | undefined;
    const server = createServer((_req, res) => {
      const meter = createResponseMeter(0, () => t);
      const restore = meterServerResponse(res, meter);
      res.on('finish', () => { t = 40; measured = meter.finish(); restore(); });
      res.writeHead(200, { 'Content-Type': 'application/json', 'X-Padding': 'x'.repeat(100) });
      t = 7;
      res.write('{"jsonrpc":"2.0",');
      res.write('c3', 'hex'); // one byte: "\xc3"
      t = 20;
      res.end(Buffer.from('"id":1,"error":{"code":-32003}}'));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      const received = Buffer.from(await res.arrayBuffer());
      expect(received.length).toBe(49); // 17 + 1 + 31
      await new Promise((r) => setImmediate(r));
      expect(measured).toMatchObject({ durationMsToFirstByte: 7, durationMsTotal: 40, responseBytes: 49 });
      expect(measured!.head.equals(received)).toBe(true);
      expect(measured!.head[17]).toBe(0xc3);
      expect(scanJsonRpcErrorCode(measured!.head)).toBe(-32003);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('restores write and end when asked', () => {
    const calls: string[] = [];
    const res = { write: (c: string) => { calls.push(`w:${c}`); return true; }, end: (c?: string) => { calls.push(`e:${c}`); } };
    const { write, end } = res;
    const meter = createResponseMeter(0, () => 1);
    const restore = meterServerResponse(res as never, meter);
    (res.write as (c: string) => boolean)('ab');
    (res.end as (c: string) => void)('c');
    restore();
    expect(res.write).toBe(write);
    expect(res.end).toBe(end);
    expect(calls).toEqual(['w:ab', 'e:c']);
    expect(meter.finish().responseBytes).toBe(3);
  });

  it('keeps only headBytes of the head and freezes at finish', () => {
    let t = 0;
    const meter = createResponseMeter(0, () => t, 4);
    meter.observe(Buffer.from('abc'));
    meter.observe('defg');
    t = 5;
    const first = meter.finish();
    meter.observe('more');
    t = 9;
    expect(meter.finish()).toBe(first);
    expect(first).toEqual({ durationMsToFirstByte: 0, durationMsTotal: 5, responseBytes: 7, head: Buffer.from('abcd') });
  });

  it('reports a null first byte for an empty body', () => {
    expect(createResponseMeter(0, () => 3).finish()).toEqual({ durationMsToFirstByte: null, durationMsTotal: 3, responseBytes: 0, head: Buffer.alloc(0) });
  });

  it('finds the error code of a JSON, SSE or batch answer', () => {
    expect(scanJsonRpcErrorCode('{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"x"}}')).toBe(-32601);
    expect(scanJsonRpcErrorCode(Buffer.from('event: message\ndata: {"jsonrpc":"2.0","error":{"message":"m","code": 42},"id":1}\n\n'))).toBe(42);
    expect(scanJsonRpcErrorCode('[{"jsonrpc":"2.0","id":1,"error":{"data":{"code":7},"code":-32000}}]')).toBe(-32000);
  });

  it('ignores "error" inside strings, nested results and later messages', () => {
    expect(scanJsonRpcErrorCode('{"jsonrpc":"2.0","id":1,"result":{"content":[{"text":"\\"error\\":{\\"code\\":5}"}],"error":{"code":9}}}')).toBeNull();
    expect(scanJsonRpcErrorCode('[{"jsonrpc":"2.0","id":1,"result":{}},{"jsonrpc":"2.0","id":2,"error":{"code":-1}}]')).toBeNull();
    expect(scanJsonRpcErrorCode('{"jsonrpc":"2.0","result":{},"error":{"code":1}}')).toBeNull();
    expect(scanJsonRpcErrorCode('not json')).toBeNull();
    expect(scanJsonRpcErrorCode('{"error":{"code":"x"}}')).toBeNull();
  });

  it('scans only the first limit bytes', () => {
    const body = `{"jsonrpc":"2.0","id":1,"pad":"${'x'.repeat(5_000)}","error":{"code":-32603}}`;
    expect(scanJsonRpcErrorCode(body)).toBeNull();
    expect(scanJsonRpcErrorCode(body, 10_000)).toBe(-32603);
  });

  it.each([
    [200, null, 'ok'], [202, null, 'ok'], [200, -32601, 'error'], [200, -32013, 'denied'], [429, -32029, 'rate_limited'],
    [401, null, 'unauthorized'], [403, -32003, 'denied'], [502, -32004, 'upstream_unavailable'], [504, -32005, 'timeout'],
    [502, -32008, 'upstream_unavailable'], [504, -32009, 'timeout'], [401, -32001, 'unauthorized'], [400, -32700, 'error'],
    [500, null, 'error'], [503, null, 'upstream_unavailable'], [429, null, 'rate_limited'],
  ] as const)('maps HTTP %i with code %s to %s', (status, code, outcome) => {
    expect(outcomeOf(status, code)).toBe(outcome);
  });
});

describe('scanToolError', () => {
  it.each([
    ['{"jsonrpc":"2.0","id":1,"result":{"content":[],"isError":true}}', true],
    ['event: message\ndata: {"result":{"isError": true,"content":[]},"jsonrpc":"2.0","id":1}\n\n', true],
    ['[{"jsonrpc":"2.0","id":1,"result":{"isError":true}}]', true],
    ['{"jsonrpc":"2.0","id":1,"result":{"content":[],"isError":false}}', false],
    ['{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"\\"isError\\":true"}]}}', false],
    ['{"jsonrpc":"2.0","id":1,"result":{"structuredContent":{"isError":true}}}', false],
    ['{"jsonrpc":"2.0","id":1,"isError":true,"result":{}}', false],
    ['{"jsonrpc":"2.0","id":1,"error":{"code":-1,"message":"x","data":{"isError":true}}}', false],
    ['{"jsonrpc":"2.0","id":1,"result":{"isError":trueish}}', false],
    ['not json', false],
  ])('%s → %s', (body, expected) => {
    expect(scanToolError(body)).toBe(expected);
  });
});
