/**
 * Issue 11 §1: the MCP 2026-07-28 standard headers (`MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name`) and the
 * JSON-RPC body agree, or the request stops at keyhole with 400 — on a filtering and a non-filtering server,
 * counted at a real upstream.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startMcpHarness, type McpHarness, type Reply } from './mcp-harness.js';
import { decodeMcpName, isModernRevision } from '../../../src/proxy/header-body-check.js';

const MODERN = '2026-07-28';
const meta = { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientInfo': { name: 't', version: '1' }, 'io.modelcontextprotocol/clientCapabilities': {} };
const call = (id: unknown, name: string, modern = true) => JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: {}, ...(modern ? { _meta: meta } : {}) } });
const b64 = (s: string) => `=?base64?${Buffer.from(s, 'utf8').toString('base64')}?=`;

describe('header/body agreement', () => {
  let h: McpHarness;
  const tokens: Record<string, string> = {};
  beforeAll(async () => {
    h = await startMcpHarness();
    tokens.plain = (await h.grant('plain', ['read'])).token;
    tokens.scoped = (await h.grant('scoped', ['read'])).token;
  });
  afterAll(async () => h?.close());
  beforeEach(() => {
    h.upstreamSeen.length = 0;
  });

  const post = (server: string, headers: Record<string, string>, body: string) =>
    h.call('POST', server, { authorization: `Bearer ${tokens[server]}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers }, body);

  function expectRefused(r: Reply, code: number, id: unknown, status = 400) {
    expect(r.status).toBe(status);
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    const body = JSON.parse(r.body) as { jsonrpc: string; error: { code: number; message: string }; id: unknown };
    expect(body.jsonrpc).toBe('2.0');
    expect(body.error.code).toBe(code);
    expect(body.id).toEqual(id);
    expect(h.upstreamSeen).toHaveLength(0);
    return body.error.message;
  }

  for (const server of ['plain', 'scoped']) {
    for (const version of [MODERN, '2025-11-25']) {
      const modern = version === MODERN;
      it(`rejects an allowed tool in the body with a denied tool in Mcp-Name (${server}, ${version})`, async () => {
        const r = await post(server, { 'mcp-protocol-version': version, 'mcp-method': 'tools/call', 'mcp-name': 'write_note' }, call(42, 'echo', modern));
        expect(expectRefused(r, -32020, 42)).toBe('Header mismatch: the Mcp-Name header names "write_note" but the body names "echo"');
      });

      it(`rejects a denied tool in the body with an allowed tool in Mcp-Name (${server}, ${version})`, async () => {
        const r = await post(server, { 'mcp-protocol-version': version, 'mcp-method': 'tools/call', 'mcp-name': 'echo' }, call('a', 'write_note', modern));
        expect(expectRefused(r, -32020, 'a')).toBe('Header mismatch: the Mcp-Name header names "echo" but the body names "write_note"');
      });

      it(`rejects an Mcp-Method that is not the body's method (${server}, ${version})`, async () => {
        const r = await post(server, { 'mcp-protocol-version': version, 'mcp-method': 'tools/list', 'mcp-name': 'echo' }, call(3, 'echo', modern));
        expect(expectRefused(r, -32020, 3)).toBe('Header mismatch: the Mcp-Method header names "tools/list" but the body calls "tools/call"');
      });
    }

    it(`rejects Mcp-Name on a method whose body names nothing, and a resource or prompt mismatch (${server})`, async () => {
      const list = JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'tools/list', params: { _meta: meta } });
      expectRefused(await post(server, { 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/list', 'mcp-name': 'write_note' }, list), -32020, 5);
      const read = JSON.stringify({ jsonrpc: '2.0', id: 6, method: 'resources/read', params: { uri: 'file:///a', _meta: meta } });
      expectRefused(await post(server, { 'mcp-protocol-version': MODERN, 'mcp-method': 'resources/read', 'mcp-name': 'file:///b' }, read), -32020, 6);
      const prompt = JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'prompts/get', params: { name: 'p1', _meta: meta } });
      expectRefused(await post(server, { 'mcp-protocol-version': MODERN, 'mcp-method': 'prompts/get', 'mcp-name': 'p2' }, prompt), -32020, 7);
    });

    it(`rejects a 2026-07-28 request without Mcp-Method, or a tools/call without Mcp-Name (${server})`, async () => {
      expect(expectRefused(await post(server, { 'mcp-protocol-version': MODERN }, call(8, 'echo')), -32020, 8)).toBe('Header mismatch: the required Mcp-Method header is missing (the body calls "tools/call")');
      expect(expectRefused(await post(server, { 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/call' }, call(9, 'echo')), -32020, 9)).toBe('Header mismatch: the required Mcp-Name header is missing (the body names "echo")');
    });

    it(`rejects a 2026-07-28 batch with 400 -32600 (${server})`, async () => {
      const batch = `[${call(1, 'echo')},${call(2, 'echo')}]`;
      expect(expectRefused(await post(server, { 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/call', 'mcp-name': 'echo' }, batch), -32600, null)).toMatch(/batches are not allowed/);
      expectRefused(await post(server, { 'mcp-protocol-version': MODERN }, `[${call(1, 'echo')}]`), -32600, null);
    });

    it(`rejects a broken Base64 sentinel in Mcp-Name, and accepts a correct one (${server})`, async () => {
      expectRefused(await post(server, { 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/call', 'mcp-name': '=?base64?!!!?=' }, call(10, 'echo')), -32020, 10);
      const r = await post(server, { 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/call', 'mcp-name': b64('echo') }, call(11, 'echo'));
      expect(r.status).toBe(200);
      expect(h.upstreamSeen).toHaveLength(1);
    });

    it(`forwards a correct 2026-07-28 request byte for byte, headers included (${server})`, async () => {
      const body = call(12, 'echo');
      const r = await post(server, { 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/call', 'mcp-name': 'echo' }, body);
      expect(r.status).toBe(200);
      expect(h.upstreamSeen).toHaveLength(1);
      expect(h.upstreamSeen[0]!.body).toBe(body);
      expect(h.upstreamSeen[0]!.headers['mcp-method']).toBe('tools/call');
      expect(h.upstreamSeen[0]!.headers['mcp-name']).toBe('echo');
      expect(h.upstreamSeen[0]!.headers['mcp-protocol-version']).toBe(MODERN);
    });

    it(`still forwards 2025-11-25 requests without the new headers, batches included (${server})`, async () => {
      expect((await post(server, { 'mcp-protocol-version': '2025-11-25' }, call(13, 'echo', false))).status).toBe(200);
      expect((await post(server, {}, `[${call(14, 'echo', false)}]`)).status).toBe(200);
      expect(h.upstreamSeen.map((s) => s.body)).toEqual([call(13, 'echo', false), `[${call(14, 'echo', false)}]`]);
    });
  }

  it('still refuses a denied tool by its body when the headers agree (scope policy reads the body)', async () => {
    const r = await post('scoped', { 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/call', 'mcp-name': 'write_note' }, call(15, 'write_note'));
    expectRefused(r, -32003, 15, 403);
  });
});

describe('decodeMcpName', () => {
  it('decodes the Base64 sentinel and rejects non-canonical Base64 or invalid UTF-8', () => {
    expect(decodeMcpName(b64('Hello, 世界'))).toBe('Hello, 世界');
    expect(decodeMcpName('plain')).toBe('plain');
    expect(decodeMcpName('=?base64?SGk?=')).toBeUndefined();
    expect(decodeMcpName(`=?base64?${Buffer.from([0xff, 0xfe]).toString('base64')}?=`)).toBeUndefined();
  });
  it('recognises 2026-07-28 and later revisions only', () => {
    expect(isModernRevision('2026-07-28')).toBe(true);
    expect(isModernRevision(' 2027-01-01 ')).toBe(true);
    expect(isModernRevision('2025-11-25')).toBe(false);
    expect(isModernRevision('zzzz')).toBe(false);
    expect(isModernRevision(undefined)).toBe(false);
  });
});
