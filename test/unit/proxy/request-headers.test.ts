/**
 * Issue 9 F9: client request headers reach the upstream through an allow-list (src/proxy/request-headers.ts).
 * Headers that claim a client address, a path or a method for whatever sits behind keyhole never cross it.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startMcpHarness, type McpHarness } from './mcp-harness.js';
import { upstreamRequestHeaders } from '../../../src/proxy/request-headers.js';

const BODY = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' });

describe('request headers forwarded upstream', () => {
  let h: McpHarness;
  let token: string;
  beforeAll(async () => {
    h = await startMcpHarness();
    token = (await h.grant('plain')).token;
  });
  afterAll(async () => h?.close());
  beforeEach(() => {
    h.upstreamSeen.length = 0;
  });

  it.each([
    ['X-Real-IP', '10.0.0.1'],
    ['True-Client-IP', '10.0.0.2'],
    ['Via', '1.1 evil-proxy'],
    ['X-Original-URL', '/admin'],
    ['X-HTTP-Method-Override', 'DELETE'],
    ['X-Forwarded-For', '10.0.0.3'],
    ['Forwarded', 'for=10.0.0.4'],
    ['Cookie', 'session=x'],
    ['X-Anything-New', 'y'],
  ])('rejects %s: it never reaches the upstream', async (name, value) => {
    const r = await h.call('POST', 'plain', ['Authorization', `Bearer ${token}`, 'Content-Type', 'application/json', name, value], BODY);
    expect(r.status).toBe(200);
    expect(h.upstreamSeen).toHaveLength(1);
    expect(h.upstreamSeen[0]!.headers[name.toLowerCase()]).toBeUndefined();
    expect(h.upstreamSeen[0]!.rawHeaders.map((x) => x.toLowerCase())).not.toContain(name.toLowerCase());
  });

  it('forwards the allow-listed headers unchanged, and sets Host, Accept-Encoding, Content-Length and the credential', async () => {
    const sent: Array<[string, string]> = [
      ['Accept', 'application/json, text/event-stream'],
      ['Accept-Language', 'de'],
      ['Content-Type', 'application/json'],
      ['MCP-Protocol-Version', '2025-11-25'],
      ['Mcp-Session-Id', 'sess-unknown'],
      ['Last-Event-ID', 'ev-7'],
      ['Mcp-Param-Region', 'eu'],
      ['traceparent', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'],
      ['tracestate', 'congo=t61rcWkgMzE'],
      ['User-Agent', 'test-client/1.0'],
    ];
    const r = await h.call('POST', 'plain', ['Authorization', `Bearer ${token}`, ...sent.flat()], BODY);
    expect(r.status).toBe(200);
    const seen = h.upstreamSeen[0]!.headers;
    for (const [name, value] of sent) expect(seen[name.toLowerCase()], name).toBe(value);
    expect(seen.authorization).toBe('Bearer upstream-access-value');
    expect(seen['accept-encoding']).toBe('identity');
    expect(seen['content-length']).toBe(String(Buffer.byteLength(BODY)));
    expect(seen['transfer-encoding']).toBeUndefined();
    expect(h.upstreamSeen[0]!.body).toBe(BODY);
  });

  it('rejects an allow-listed header that the client names in Connection (hop-by-hop)', () => {
    const out = upstreamRequestHeaders(['Connection', 'Mcp-Session-Id', 'Mcp-Session-Id', 's', 'Accept', '*/*'], new URL('http://u.test/mcp'), null);
    expect(out).toEqual(['Host', 'u.test', 'Accept', '*/*', 'Accept-Encoding', 'identity']);
  });
});
