import { Readable, type Transform } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createSecretRedactor, type RedactionCounts } from '../../../src/policy/secret-redactor.js';
import { jsonRedactionStream, redactJsonRpcText, sseRedactionStream } from '../../../src/policy/redaction-stream.js';

const redactor = createSecretRedactor({ redactSecrets: true, patterns: [] });
const GITHUB = `ghp_${'a1B2'.repeat(9)}`;
const PEM = '-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oAfZhWYTHyCnoAoGCCqGSM49\n-----END EC PRIVATE KEY-----';
const result = (text: string, id: number | string = 1) => ({ jsonrpc: '2.0', id, result: { content: [{ type: 'text', text }], isError: false } });

async function pipeChunks(t: Transform, chunks: Array<string | Buffer>): Promise<string> {
  const out: Buffer[] = [];
  t.on('data', (c: Buffer | string) => out.push(Buffer.from(c)));
  await new Promise<void>((resolve, reject) => {
    t.on('end', resolve);
    t.on('error', reject);
    Readable.from(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c))).pipe(t);
  });
  return Buffer.concat(out).toString('utf8');
}

/** Every way of cutting `s` into two chunks, at byte boundaries (so inside UTF-8 sequences and CRLFs too). */
function allSplits(s: string): Buffer[][] {
  const b = Buffer.from(s);
  const out: Buffer[][] = [];
  for (let i = 1; i < b.length; i++) out.push([b.subarray(0, i), b.subarray(i)]);
  return out;
}

describe('redaction-stream › redactJsonRpcText', () => {
  it('redacts strings inside result only, keeping the message valid JSON', () => {
    const msg = { jsonrpc: '2.0', id: 7, result: { content: [{ type: 'text', text: `token ${GITHUB}` }], structuredContent: { pem: PEM, n: 1 } } };
    const counts: RedactionCounts = {};
    const out = redactJsonRpcText(JSON.stringify(msg), redactor, counts);
    expect(JSON.parse(out!)).toEqual({ jsonrpc: '2.0', id: 7, result: { content: [{ type: 'text', text: 'token [REDACTED:github_token]' }], structuredContent: { pem: '[REDACTED:private_key]', n: 1 } } });
    expect(counts).toEqual({ github_token: 1, private_key: 1 });
  });

  it('answers undefined (bytes untouched) when nothing changed, and leaves error and params alone', () => {
    const counts: RedactionCounts = {};
    expect(redactJsonRpcText(JSON.stringify(result('hello')), redactor, counts)).toBe(undefined);
    expect(redactJsonRpcText(JSON.stringify({ jsonrpc: '2.0', id: 1, error: { code: 1, message: GITHUB } }), redactor, counts)).toBe(undefined);
    expect(redactJsonRpcText(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/message', params: { data: GITHUB } }), redactor, counts)).toBe(undefined);
    expect(counts).toEqual({});
  });

  it('handles batches message by message', () => {
    const batch = [result('clean', 1), result(`x ${GITHUB}`, 2)];
    expect(JSON.parse(redactJsonRpcText(JSON.stringify(batch), redactor, {})!)).toEqual([result('clean', 1), result('x [REDACTED:github_token]', 2)]);
  });

  it('redacts text that does not parse as plain text (fail closed)', () => {
    expect(redactJsonRpcText(`{"result": "${GITHUB}"`, redactor, {})).toBe('{"result": "[REDACTED:github_token]"');
  });
});

describe('redaction-stream › jsonRedactionStream', () => {
  it('redacts a JSON body split anywhere, and reports counts', async () => {
    const body = JSON.stringify(result(`é ${GITHUB} ü`));
    for (const chunks of allSplits(body).filter((_, i) => i % 7 === 0)) {
      const seen: RedactionCounts[] = [];
      const out = await pipeChunks(jsonRedactionStream(redactor, { onRedacted: (c) => seen.push(c) }), chunks);
      expect(JSON.parse(out)).toEqual(result('é [REDACTED:github_token] ü'));
      expect(seen).toEqual([{ github_token: 1 }]);
    }
  });

  it('passes a clean body byte for byte (no re-serialisation)', async () => {
    const body = '{ "jsonrpc" : "2.0", "id": 1, "result": {"a":  1} }';
    expect(await pipeChunks(jsonRedactionStream(redactor), [body])).toBe(body);
  });

  it('fails a body over the cap instead of sending it unredacted', async () => {
    await expect(pipeChunks(jsonRedactionStream(redactor, { maxBytes: 10 }), ['{"result":', '"xxxxxxxx"}'])).rejects.toThrow('response body larger than 10 bytes cannot be redacted');
  });
});

describe('redaction-stream › sseRedactionStream', () => {
  const secretEvent = `event: message\nid: 42\ndata: ${JSON.stringify(result(`key ${PEM} ü`))}\n\n`;
  const cleanEvent = `data: ${JSON.stringify(result('héllo'))}\n\n`;
  const expected = `event: message\nid: 42\ndata: ${JSON.stringify(result('key [REDACTED:private_key] ü'))}\n\n`;

  it('redacts events split at every byte (inside UTF-8 characters too) and passes clean ones untouched', async () => {
    for (const chunks of allSplits(cleanEvent + secretEvent + cleanEvent)) {
      expect(await pipeChunks(sseRedactionStream(redactor), chunks)).toBe(cleanEvent + expected + cleanEvent);
    }
  });

  it('recognises CRLF and CR line ends, including a CRLF split across chunks', async () => {
    const crlf = secretEvent.replace(/\n/g, '\r\n');
    for (const chunks of allSplits(crlf + cleanEvent.replace(/\n/g, '\r'))) {
      expect(await pipeChunks(sseRedactionStream(redactor), chunks)).toBe(expected + cleanEvent.replace(/\n/g, '\r'));
    }
  });

  it('joins multi-line data fields before parsing and keeps comments and fields', async () => {
    const json = JSON.stringify(result(`t ${GITHUB}`), null, 1);
    const event = `: keep-alive\nretry: 100\n${json.split('\n').map((l) => `data:${l}`).join('\n')}\n\n`;
    expect(await pipeChunks(sseRedactionStream(redactor), [event])).toBe(`: keep-alive\nretry: 100\ndata: ${JSON.stringify(result('t [REDACTED:github_token]'))}\n\n`);
  });

  it('writes each event as soon as it is complete', async () => {
    const t = sseRedactionStream(redactor);
    const got: string[] = [];
    t.on('data', (c: Buffer) => got.push(c.toString()));
    t.write(secretEvent.slice(0, 30));
    await new Promise((r) => setImmediate(r));
    expect(got).toEqual([]);
    t.write(secretEvent.slice(30) + cleanEvent.slice(0, 10));
    await new Promise((r) => setImmediate(r));
    expect(got).toEqual([expected]);
    t.write(cleanEvent.slice(10));
    await new Promise((r) => setImmediate(r));
    expect(got).toEqual([expected, cleanEvent]);
    t.end();
  });

  it('redacts an unterminated last event', async () => {
    expect(await pipeChunks(sseRedactionStream(redactor), [`data: ${JSON.stringify(result(GITHUB))}`])).toBe(`data: ${JSON.stringify(result('[REDACTED:github_token]'))}\n\n`);
  });

  it('fails an event larger than the cap, even one arriving in small chunks', async () => {
    const chunks = Array.from({ length: 50 }, () => 'data: xxxxxxxxxxxxxxxxxx\n');
    await expect(pipeChunks(sseRedactionStream(redactor, { maxBytes: 500 }), chunks)).rejects.toThrow('SSE event larger than 500 characters cannot be redacted');
    // the same bytes as separate events are fine
    expect(await pipeChunks(sseRedactionStream(redactor, { maxBytes: 500 }), chunks.map((c) => `${c}\n`))).toBe(chunks.map((c) => `${c}\n`).join(''));
  });

  it('scans a large event arriving in many chunks in linear time', async () => {
    const big = `data: ${JSON.stringify(result('x'.repeat(4_000_000)))}\n\n`;
    const chunks: string[] = [];
    for (let i = 0; i < big.length; i += 1_000) chunks.push(big.slice(i, i + 1_000));
    const t0 = performance.now();
    const out = await pipeChunks(sseRedactionStream(redactor), chunks);
    expect(out.length).toBe(big.length);
    expect(performance.now() - t0).toBeLessThan(2_000); // quadratic rescanning would take minutes
  });
});
