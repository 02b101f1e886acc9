/**
 * Value conversions of the PostgreSQL repositories. Scopes are space-separated `text`, pages are clamped and filters
 * built exactly as in SQLite (the helpers are shared: ../rows/sql-values.ts); `json` columns come back parsed by
 * node-postgres.
 */
export { clampBatch, equalsWhere, joinScopes, pageOf, splitScopes, whereOf } from '../rows/sql-values.js';

/** A `json` column's value as a record: objects as they are, anything else (null, arrays, scalars) as `{}`. */
export function objectOf(value: unknown): Record<string, unknown> {
  if (typeof value === 'string') return objectOf(JSON.parse(value));
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** A record as `json` parameter text (what SQLite's rows hold too). */
export { toJson as jsonText } from '../rows/sql-values.js';
