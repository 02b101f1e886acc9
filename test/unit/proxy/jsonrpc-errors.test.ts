/**
 * The one table of keyhole's JSON-RPC errors: distinct meanings never share a keyhole code, keyhole's own codes
 * stay out of the range MCP reserves, and docs/jsonrpc-errors.md lists exactly what the module defines.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { JSONRPC_ERRORS, jsonRpcErrorBody } from '../../../src/proxy/jsonrpc-errors.js';

const STANDARD = new Set([-32700, -32600, -32601, -32602, -32603]);
const BY_OTHERS = new Set([-32020, -32029]);

describe('jsonrpc-errors', () => {
  it('rejects two entries sharing a code unless it is a standard JSON-RPC code', () => {
    const seen = new Map<number, string>();
    for (const [name, def] of Object.entries(JSONRPC_ERRORS)) {
      if (STANDARD.has(def.code)) continue;
      expect(seen.get(def.code), `${name} reuses ${def.code}`).toBeUndefined();
      seen.set(def.code, name);
    }
  });

  it('keeps keyhole\'s own codes in -32000..-32019, never -32002 (MCP 2026-07-28 Error Codes)', () => {
    for (const [name, def] of Object.entries(JSONRPC_ERRORS)) {
      if (STANDARD.has(def.code) || BY_OTHERS.has(def.code)) continue;
      expect(def.code, name).toBeGreaterThanOrEqual(-32019);
      expect(def.code, name).toBeLessThanOrEqual(-32000);
      expect(def.code, name).not.toBe(-32002);
    }
  });

  it('documents every entry in docs/jsonrpc-errors.md with its code, HTTP status and message', () => {
    const doc = readFileSync(new URL('../../../docs/jsonrpc-errors.md', import.meta.url), 'utf8');
    const rows = doc.split('\n').filter((l) => /^\| -\d+ \|/.test(l)).map((l) => l.split('|').map((c) => c.trim()));
    expect(rows.map((r) => r[2]).sort()).toEqual(Object.keys(JSONRPC_ERRORS).sort());
    for (const r of rows) {
      const def = JSONRPC_ERRORS[r[2] as keyof typeof JSONRPC_ERRORS];
      expect([Number(r[1]), Number(r[3]), r[4]], r[2]).toEqual([def.code, def.status, def.message]);
    }
  });

  it('builds a body with the request id, or null for an id that is not a string or number', () => {
    expect(jsonRpcErrorBody('HEADER_MISMATCH', { id: 7, message: 'Header mismatch: x' })).toEqual({ jsonrpc: '2.0', error: { code: -32020, message: 'Header mismatch: x' }, id: 7 });
    expect(jsonRpcErrorBody('SESSION_NOT_FOUND', { id: { x: 1 } })).toEqual({ jsonrpc: '2.0', error: { code: -32010, message: 'Session not found' }, id: null });
  });
});
