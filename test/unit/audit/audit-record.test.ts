import { describe, expect, it } from 'vitest';
import { AUDIT_OUTCOMES, buildAuditRecord, isAuditOutcome, newAuditId } from '../../../src/audit/audit-record.js';

describe('audit-record', () => {
  it('fills absent fields with null or 0 and keeps the field order', () => {
    const r = buildAuditRecord({ startedAt: 0, server: 'demo', requestId: 'abc', outcome: 'unauthorized', httpStatus: 401, durationMsTotal: 1 }, () => 'au_x');
    expect(Object.keys(r)).toEqual(['id', 'at', 'person', 'subject', 'clientId', 'server', 'grantId', 'method', 'tool', 'outcome', 'httpStatus', 'rpcErrorCode', 'denialReason', 'durationMsToFirstByte', 'durationMsTotal', 'requestBytes', 'responseBytes', 'requestId']);
    expect(r).toEqual({
      id: 'au_x', at: '1970-01-01T00:00:00.000Z', person: null, subject: null, clientId: null, server: 'demo', grantId: null,
      method: null, tool: null, outcome: 'unauthorized', httpStatus: 401, rpcErrorCode: null, denialReason: null,
      durationMsToFirstByte: null, durationMsTotal: 1, requestBytes: 0, responseBytes: 0, requestId: 'abc',
    });
  });

  it('adds arguments only when given', () => {
    const r = buildAuditRecord({ startedAt: 0, server: 's', requestId: 'r', outcome: 'ok', httpStatus: 200, durationMsTotal: 1, arguments: { a: 1 } }, () => 'au_y');
    expect(r.arguments).toEqual({ a: 1 });
  });

  it('makes ids of the form au_ + 32 hex, distinct', () => {
    const a = newAuditId();
    expect(a).toMatch(/^au_[0-9a-f]{32}$/);
    expect(newAuditId()).not.toBe(a);
  });

  it('starts ids with the time in ms, so later records sort after earlier ones (the UNIQUE index grows at its end)', async () => {
    const before = Date.now();
    const a = newAuditId();
    expect(parseInt(a.slice(3, 15), 16)).toBeGreaterThanOrEqual(before);
    expect(parseInt(a.slice(3, 15), 16)).toBeLessThanOrEqual(Date.now());
    await new Promise((r) => setTimeout(r, 3));
    expect(newAuditId() > a).toBe(true);
  });

  it('keeps ids distinct, well formed and time-ordered across refills of the random pool (2,000 ids in a row)', () => {
    const ids = Array.from({ length: 2_000 }, () => newAuditId());
    for (const id of ids) expect(id).toMatch(/^au_[0-9a-f]{32}$/);
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(ids.map((id) => id.slice(15))).size).toBe(ids.length); // the random parts differ, not just the time
    for (let i = 1; i < ids.length; i++) expect(ids[i]!.slice(0, 15) >= ids[i - 1]!.slice(0, 15)).toBe(true);
  });

  it('knows the seven outcomes', () => {
    expect(AUDIT_OUTCOMES).toEqual(['ok', 'error', 'denied', 'unauthorized', 'rate_limited', 'upstream_unavailable', 'timeout']);
    expect(isAuditOutcome('denied')).toBe(true);
    expect(isAuditOutcome('fine')).toBe(false);
  });
});
