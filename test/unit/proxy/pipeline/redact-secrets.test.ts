import { Readable, type Transform } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { redactSecrets } from '../../../../src/proxy/pipeline/redact-secrets.js';
import { responseTransformsOf } from '../../../../src/proxy/pipeline/mcp-request.js';
import { authenticatedRequest, stepApp } from './step-app.js';
import { policiesFor } from './policy-steps-support.js';

async function run(t: Transform, chunks: string[]): Promise<string> {
  const out: Buffer[] = [];
  await new Promise<void>((resolve, reject) => Readable.from(chunks.map((c) => Buffer.from(c))).pipe(t).on('data', (d: Buffer) => out.push(d)).on('end', resolve).on('error', reject));
  return Buffer.concat(out).toString();
}

const AWS = 'AKIAIOSFODNN7EXAMPLE';
const result = (text: string) => JSON.stringify({ jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text }] } });

describe('redactSecrets', () => {
  it('rejects missing options', () => {
    expect(() => redactSecrets({} as never)).toThrow('redactSecrets: policies is required');
  });

  it('adds nothing on a server without guardrails, and nothing for DELETE', async () => {
    const none = stepApp(redactSecrets({ policies: policiesFor({}) }), () => authenticatedRequest({}));
    await none.request('/mcp/demo', { method: 'POST' });
    expect(responseTransformsOf(none.reached[0]!)).toBeUndefined();
    const del = stepApp(redactSecrets({ policies: policiesFor({ guardrails: {} }) }), () => authenticatedRequest({ method: 'DELETE' }));
    await del.request('/mcp/demo', { method: 'DELETE' });
    expect(responseTransformsOf(del.reached[0]!)).toBeUndefined();
  });

  it('adds a rewrite after the scope filter that redacts JSON and SSE answers, and reports kinds and counts', async () => {
    const reports: Array<[string, unknown]> = [];
    const scopeFilter = () => null;
    const { request, reached } = stepApp(redactSecrets({ policies: policiesFor({ guardrails: {} }), onRedacted: (s, c) => reports.push([s, c]) }), () => authenticatedRequest({ transformResponse: scopeFilter }));
    await request('/mcp/demo', { method: 'POST' });
    const chain = responseTransformsOf(reached[0]!) as Array<(k: { sse: boolean; status: number }) => Transform>;
    expect(chain).toHaveLength(2);
    expect(chain[0]).toBe(scopeFilter);
    expect(await run(chain[1]!({ sse: false, status: 200 }), [result(`key ${AWS}`)])).toBe(result('key [REDACTED:aws_access_key]'));
    const clean = `event: message\ndata: ${result('nothing secret')}\n\n`;
    expect(await run(chain[1]!({ sse: true, status: 200 }), [clean])).toBe(clean); // no secret: the same bytes
    expect(await run(chain[1]!({ sse: true, status: 200 }), [`data: ${result(`k ${AWS}`).slice(0, 30)}`, `${result(`k ${AWS}`).slice(30)}\n\n`])).toBe(`data: ${result('k [REDACTED:aws_access_key]')}\n\n`);
    expect(reports).toEqual([['demo', { aws_access_key: 1 }], ['demo', { aws_access_key: 1 }]]);
  });
});
