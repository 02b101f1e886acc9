/**
 * Value conversions of the PostgreSQL repositories. Scopes are space-separated `text` and pages are clamped exactly as
 * in SQLite (the helpers are shared: ../sqlite/shared.ts); `json` columns come back parsed by node-postgres.
 */
export { clampBatch, joinScopes, pageOf, splitScopes } from '../sqlite/shared.js';

/** A `json` column's value as a record: objects as they are, anything else (null, arrays, scalars) as `{}`. */
export function objectOf(value: unknown): Record<string, unknown> {
  if (typeof value === 'string') return objectOf(JSON.parse(value));
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** A record as `json` parameter text (what SQLite's rows hold too). */
export function jsonText(value: Record<string, unknown> | undefined | null): string {
  return JSON.stringify(value ?? {});
}

/** `WHERE a = @a AND …` for the filter fields that are set (every value a bound parameter). */
export function equalsWhere(fields: Record<string, string | number | null | undefined>): { clauses: string[]; params: Record<string, unknown> } {
  const clauses: string[] = [];
  const params: Record<string, unknown> = {};
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
