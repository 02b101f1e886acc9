import { describe, expect, it } from 'vitest';
import { AdminInputError, parseBulkFilter, parseEventFilter, parseGrantFilter, parsePage, parseTime, toQuery } from '../../../src/admin/filters.js';

const q = (s: string) => new URLSearchParams(s);

describe('admin filters', () => {
  describe('parseGrantFilter', () => {
    it('reads subject, client_id, server and status; blanks mean no filter', () => {
      expect(parseGrantFilter(q('subject=alice&client_id=c_1&server=demo&status=active'))).toEqual({ subject: 'alice', clientId: 'c_1', server: 'demo', status: 'active' });
      expect(parseGrantFilter(q('subject=&client_id=&server=&status='))).toEqual({});
      expect(parseGrantFilter(q('unrelated=1'))).toEqual({});
    });

    it('rejects an unknown status, a malformed server, repeats and control characters', () => {
      expect(() => parseGrantFilter(q('status=expired'))).toThrow(AdminInputError);
      expect(() => parseGrantFilter(q('server=Demo!'))).toThrow(/server name/);
      expect(() => parseGrantFilter(q('subject=a&subject=b'))).toThrow(/repeated/);
      expect(() => parseGrantFilter(q('subject=a%0Ab'))).toThrow(/control/);
      expect(() => parseGrantFilter(q(`subject=${'x'.repeat(600)}`))).toThrow(/longer/);
    });
  });

  describe('parsePage', () => {
    it('defaults to the page size, takes page (1-based) or limit/offset', () => {
      expect(parsePage(q(''), 50)).toEqual({ limit: 50, offset: 0, page: 1 });
      expect(parsePage(q('page=3'), 50)).toEqual({ limit: 50, offset: 100, page: 3 });
      expect(parsePage(q('limit=10&offset=25'), 50)).toEqual({ limit: 10, offset: 25, page: 3 });
    });

    it('rejects non-numbers and out-of-range values', () => {
      expect(() => parsePage(q('page=0'), 50)).toThrow(/between/);
      expect(() => parsePage(q('limit=501'), 50)).toThrow(/between/);
      expect(() => parsePage(q('limit=-1'), 50)).toThrow(/whole number/);
      expect(() => parsePage(q('offset=1e3'), 50)).toThrow(/whole number/);
    });
  });

  describe('parseTime', () => {
    it('reads epoch seconds, ISO 8601 with a zone, and zone-less datetime-local as UTC', () => {
      expect(parseTime('1700000000', 'start')).toBe(1_700_000_000);
      expect(parseTime('2025-01-31T12:00:00Z', 'start')).toBe(Date.UTC(2025, 0, 31, 12) / 1000);
      expect(parseTime('2025-01-31T12:00:00+01:00', 'start')).toBe(Date.UTC(2025, 0, 31, 11) / 1000);
      expect(parseTime('2025-01-31T12:00', 'start')).toBe(Date.UTC(2025, 0, 31, 12) / 1000);
    });

    it('makes end bounds cover the whole minute or day they name', () => {
      expect(parseTime('2025-01-31T12:00', 'end')).toBe(Date.UTC(2025, 0, 31, 12) / 1000 + 59);
      expect(parseTime('2025-01-31', 'end')).toBe(Date.UTC(2025, 0, 31) / 1000 + 86_399);
      expect(parseTime('2025-01-31T12:00:05', 'end')).toBe(Date.UTC(2025, 0, 31, 12, 0, 5) / 1000);
    });

    it('rejects anything else', () => {
      for (const bad of ['yesterday', '2025-02-30', '2025-01-31T25:00', '2025-01-31T12:00:00 PST', '']) {
        expect(() => parseTime(bad, 'start'), bad).toThrow(AdminInputError);
      }
    });
  });

  describe('parseEventFilter', () => {
    it('reads type, server, grant_id, client_id, since and until', () => {
      expect(parseEventFilter(q('type=grant.revoked&server=demo&grant_id=g_1&client_id=c_1&since=100&until=200'))).toEqual({
        type: 'grant.revoked', server: 'demo', grantId: 'g_1', clientId: 'c_1', since: 100, until: 200,
      });
    });

    it('reads person_id (issue 13) for events and grants', () => {
      expect(parseEventFilter(q('person_id=u_1'))).toEqual({ personId: 'u_1' });
      expect(parseGrantFilter(q('person_id=u_1&status=active'))).toEqual({ personId: 'u_1', status: 'active' });
      expect(() => parseGrantFilter(q('person_id=u_1&person_id=u_2'))).toThrow(/repeated/);
    });

    it('rejects since after until and malformed types', () => {
      expect(() => parseEventFilter(q('since=200&until=100'))).toThrow(/after/);
      expect(() => parseEventFilter(q('type=<script>'))).toThrow(/event type/);
      expect(() => parseEventFilter(q('since=soon'))).toThrow(/since/);
    });
  });

  describe('parseBulkFilter', () => {
    it('needs at least one of subject, client_id, server', () => {
      expect(parseBulkFilter({ client_id: 'c_1' })).toEqual({ clientId: 'c_1' });
      expect(parseBulkFilter(q('subject=alice&server=demo'))).toEqual({ subject: 'alice', server: 'demo' });
      expect(() => parseBulkFilter({})).toThrow(/needs a filter/);
      expect(() => parseBulkFilter(q('status=active'))).toThrow(/needs a filter/);
    });

    it('rejects unknown fields and non-strings in JSON filters', () => {
      expect(() => parseBulkFilter({ client_id: 'c_1', status: 'active' })).toThrow(/unknown filter field/);
      expect(() => parseBulkFilter({ subject: 42 })).toThrow(/string/);
    });
  });

  it('toQuery keeps only set values and encodes them', () => {
    expect(toQuery({ a: 'x y', b: undefined, c: '', d: 3 })).toBe('?a=x+y&d=3');
    expect(toQuery({})).toBe('');
  });
});
