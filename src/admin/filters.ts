/**
 * Parses the admin filters (query strings of the pages and the API, and the bulk-revoke filter) into store
 * filters. Strict: a repeated or malformed parameter is an `AdminInputError` (400), never a silent default.
 * Empty values (a GET form's blank fields) mean "no filter".
 */
import type { ClientKind, GrantStatus } from '../store/types.js';
import { CLIENT_KINDS, type ClientQueryFilter, type EventQueryFilter, type GrantQueryFilter } from '../../views/admin/view-models.js';
export { CLIENT_KINDS, CLIENT_USE, clientFilterParams, type ClientQueryFilter, type EventQueryFilter, type GrantQueryFilter } from '../../views/admin/view-models.js';

export class AdminInputError extends Error {
  override name = 'AdminInputError';
}

export const MAX_PAGE_SIZE = 500;
const MAX_TEXT = 512;
const SERVER_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
const EVENT_TYPE = /^[a-z][a-z0-9_.-]{0,63}$/;
const STATUSES: readonly GrantStatus[] = ['active', 'revoked'];

export interface Page {
  limit: number;
  offset: number;
}



/** What a bulk revocation targets: every active grant of a user, a client and/or a server (at least one). */
export interface BulkFilter {
  subject?: string;
  clientId?: string;
  server?: string;
}

type Source = URLSearchParams | Record<string, unknown>;

function single(src: Source, name: string): string | undefined {
  if (src instanceof URLSearchParams) {
    const all = src.getAll(name);
    if (all.length > 1) throw new AdminInputError(`${name} is repeated`);
    const v = all[0];
    return v === undefined || v === '' ? undefined : v;
  }
  const v = src[name];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new AdminInputError(`${name} must be a string`);
  return v;
}

function text(src: Source, name: string): string | undefined {
  const v = single(src, name);
  if (v === undefined) return undefined;
  if (v.length > MAX_TEXT) throw new AdminInputError(`${name} is longer than ${MAX_TEXT} characters`);
  if (/[\u0000-\u001f\u007f]/.test(v)) throw new AdminInputError(`${name} contains control characters`);
  return v;
}

function serverName(src: Source, name = 'server'): string | undefined {
  const v = single(src, name);
  if (v !== undefined && !SERVER_NAME.test(v)) throw new AdminInputError(`${name} must be a server name (lowercase letters, digits and dashes)`);
  return v;
}

function integer(src: Source, name: string, min: number, max: number): number | undefined {
  const v = single(src, name);
  if (v === undefined) return undefined;
  if (!/^\d{1,9}$/.test(v)) throw new AdminInputError(`${name} must be a whole number`);
  const n = Number(v);
  if (n < min || n > max) throw new AdminInputError(`${name} must be between ${min} and ${max}`);
  return n;
}

/**
 * A time bound in epoch seconds: epoch seconds, an ISO 8601 date-time with `Z` or an offset, or a zone-less
 * `YYYY-MM-DD[THH:MM[:SS]]` (what `<input type="datetime-local">` sends) read as UTC. For `end` bounds a value
 * without seconds (or without time) covers its whole minute (or day), so `until` stays inclusive.
 */
export function parseTime(value: string, bound: 'start' | 'end'): number {
  const v = value.trim();
  if (/^\d{1,12}$/.test(v)) return Number(v);
  const local = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(v);
  if (local) {
    const [, y, mo, d, h, mi, s] = local;
    const t = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h ?? 0), Number(mi ?? 0), Number(s ?? 0));
    const sameDate = new Date(t).getUTCDate() === Number(d) && new Date(t).getUTCMonth() === Number(mo) - 1;
    if (!Number.isNaN(t) && sameDate && Number(h ?? 0) < 24 && Number(mi ?? 0) < 60 && Number(s ?? 0) < 60) {
      const base = Math.floor(t / 1000);
      if (bound === 'start') return base;
      return base + (h === undefined ? 86_399 : s === undefined ? 59 : 0);
    }
  } else if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/i.test(v)) {
    const t = Date.parse(v);
    if (!Number.isNaN(t)) return Math.floor(t / 1000);
  }
  throw new AdminInputError('times are epoch seconds, ISO 8601 (2025-01-31T12:00:00Z) or YYYY-MM-DDTHH:MM in UTC');
}

function time(src: Source, name: string, bound: 'start' | 'end'): number | undefined {
  const v = single(src, name);
  if (v === undefined) return undefined;
  try {
    return parseTime(v, bound);
  } catch (e) {
    throw new AdminInputError(`${name}: ${(e as Error).message}`);
  }
}

/**
 * Paging: `limit` (1…500, default `pageSize`) and `offset`, or a 1-based `page` of `limit` rows.
 * `offset` wins over `page` when both are given.
 */
export function parsePage(src: Source, pageSize: number): Page & { page: number } {
  const limit = integer(src, 'limit', 1, MAX_PAGE_SIZE) ?? pageSize;
  const offset = integer(src, 'offset', 0, 1_000_000_000);
  if (offset !== undefined) return { limit, offset, page: Math.floor(offset / limit) + 1 };
  const page = integer(src, 'page', 1, 1_000_000) ?? 1;
  return { limit, offset: (page - 1) * limit, page };
}

/** Grant filters: `subject` (user), `person_id` (issue 13), `client_id`, `server`, `status` (active | revoked). */
export function parseGrantFilter(src: Source): GrantQueryFilter {
  const out: GrantQueryFilter = {};
  const subject = text(src, 'subject');
  const clientId = text(src, 'client_id');
  const personId = text(src, 'person_id');
  const server = serverName(src);
  const status = single(src, 'status');
  if (status !== undefined && !STATUSES.includes(status as GrantStatus)) throw new AdminInputError('status must be active or revoked');
  if (subject !== undefined) out.subject = subject;
  if (clientId !== undefined) out.clientId = clientId;
  if (personId !== undefined) out.personId = personId;
  if (server !== undefined) out.server = server;
  if (status !== undefined) out.status = status as GrantStatus;
  return out;
}

/** Event filters: `type`, `server`, `grant_id`, `client_id`, `person_id` (issue 13), `since`, `until` (inclusive). */
export function parseEventFilter(src: Source): EventQueryFilter {
  const out: EventQueryFilter = {};
  const type = single(src, 'type');
  if (type !== undefined && !EVENT_TYPE.test(type)) throw new AdminInputError('type must be an event type such as grant.revoked');
  const server = serverName(src);
  const grantId = text(src, 'grant_id');
  const clientId = text(src, 'client_id');
  const personId = text(src, 'person_id');
  const since = time(src, 'since', 'start');
  const until = time(src, 'until', 'end');
  if (since !== undefined && until !== undefined && since > until) throw new AdminInputError('since must not be after until');
  if (type !== undefined) out.type = type;
  if (server !== undefined) out.server = server;
  if (grantId !== undefined) out.grantId = grantId;
  if (clientId !== undefined) out.clientId = clientId;
  if (personId !== undefined) out.personId = personId;
  if (since !== undefined) out.since = since;
  if (until !== undefined) out.until = until;
  return out;
}

export function parseClientFilter(src: Source): ClientQueryFilter {
  const out: ClientQueryFilter = {};
  const kind = single(src, 'kind');
  if (kind !== undefined && !CLIENT_KINDS.includes(kind as ClientKind)) throw new AdminInputError('kind must be dcr, cimd or static');
  const unusedDays = integer(src, 'unused_days', 1, 36_500);
  const used = single(src, 'used');
  if (used !== undefined && used !== 'never' && used !== 'ever') throw new AdminInputError('used must be never or ever');
  if (kind !== undefined) out.kind = kind as ClientKind;
  if (unusedDays !== undefined) out.unusedDays = unusedDays;
  if (used !== undefined) out.used = used;
  return out;
}


/** A bulk-revocation filter: at least one of `subject`, `client_id`, `server`; nothing else. */
export function parseBulkFilter(src: Source): BulkFilter {
  if (!(src instanceof URLSearchParams)) {
    for (const k of Object.keys(src)) {
      if (k !== 'subject' && k !== 'client_id' && k !== 'server') throw new AdminInputError(`unknown filter field ${JSON.stringify(k.slice(0, 40))}: use subject, client_id or server`);
    }
  }
  const out: BulkFilter = {};
  const subject = text(src, 'subject');
  const clientId = text(src, 'client_id');
  const server = serverName(src);
  if (subject !== undefined) out.subject = subject;
  if (clientId !== undefined) out.clientId = clientId;
  if (server !== undefined) out.server = server;
  if (Object.keys(out).length === 0) throw new AdminInputError('a bulk revocation needs a filter: subject, client_id and/or server');
  return out;
}

/** Query-string form of filters for links (omits empty values); inverse of the parsers above. */
export function toQuery(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

export function grantFilterParams(f: GrantQueryFilter | BulkFilter): Record<string, string | undefined> {
  return { subject: f.subject, ...('personId' in f ? { person_id: f.personId } : {}), client_id: f.clientId, server: f.server, ...('status' in f ? { status: f.status } : {}) };
}

export function eventFilterParams(f: EventQueryFilter): Record<string, string | number | undefined> {
  return { type: f.type, server: f.server, grant_id: f.grantId, client_id: f.clientId, person_id: f.personId, since: f.since, until: f.until };
}
