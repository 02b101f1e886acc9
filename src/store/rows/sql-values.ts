/**
 * Value encodings and query fragments both engines share: scopes as space-separated text, JSON objects as text, page
 * and batch clamping, and `WHERE a = @a AND …` from the filter fields that are set (named parameters, which the
 * PostgreSQL executor numbers). The SQLite-only statement cache stays in ../sqlite/shared.ts.
 */
export type Params = Record<string, string | number | null>;

/** Page size used when a filter gives no `limit`. */
export const DEFAULT_PAGE_SIZE = 50;
/** Largest page a filter may ask for. */
export const MAX_PAGE_SIZE = 500;

/** Scopes are stored space-separated; a scope-token cannot contain whitespace (RFC 6749 §3.3). */
export function joinScopes(scopes: readonly string[]): string {
  for (const s of scopes) {
    if (typeof s !== 'string' || s.length === 0 || /\s/.test(s)) {
      throw new TypeError(`invalid scope token ${JSON.stringify(s)}: scopes are non-empty and contain no whitespace`);
    }
  }
  return scopes.join(' ');
}
export function splitScopes(value: string): string[] {
  return value === '' ? [] : value.split(' ');
}
export function toJson(value: Record<string, unknown> | undefined | null): string {
  return JSON.stringify(value ?? {});
}
/** A JSON object column as a record, whether it arrives as text (SQLite) or parsed (PostgreSQL `json`); anything else (null, arrays, scalars) as `{}`. */
export function objectOf(value: unknown): Record<string, unknown> {
  if (typeof value === 'string') return objectOf(JSON.parse(value));
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
export function fromJson(value: string): Record<string, unknown> {
  const parsed: unknown = JSON.parse(value);
  return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
}

/** Clamps a page: limit defaults to 50, at most 500, at least 1; offset at least 0. */
export function pageOf(filter: { limit?: number; offset?: number }): { limit: number; offset: number } {
  const rawLimit = filter.limit;
  const limit =
    typeof rawLimit === 'number' && Number.isFinite(rawLimit)
      ? Math.min(MAX_PAGE_SIZE, Math.max(1, Math.floor(rawLimit)))
      : DEFAULT_PAGE_SIZE;
  const rawOffset = filter.offset;
  const offset = typeof rawOffset === 'number' && Number.isFinite(rawOffset) ? Math.max(0, Math.floor(rawOffset)) : 0;
  return { limit, offset };
}

/** Batch sizes for the rotation/migration scans: 1…1000. */
export function clampBatch(limit: number): number {
  return Number.isFinite(limit) ? Math.min(1000, Math.max(1, Math.floor(limit))) : 100;
}

/** `WHERE a = @a AND …` for the filter fields that are set (every value a bound parameter). */
export function equalsWhere(fields: Record<string, string | number | null | undefined>): { clauses: string[]; params: Params } {
  const clauses: string[] = [];
  const params: Params = {};
  for (const [column, value] of Object.entries(fields)) {
    if (value == null) continue;
    const name = column.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    clauses.push(`${column} = @${name}`);
    params[name] = value;
  }
  return { clauses, params };
}

export function whereOf(clauses: readonly string[]): string {
  return clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
}
