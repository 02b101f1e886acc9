/**
 * Value conversions of the PostgreSQL repositories. Scopes are space-separated `text`, pages are clamped and filters
 * built exactly as in SQLite (the helpers are shared: ../rows/sql-values.ts); `json` columns come back parsed by
 * node-postgres.
 */
export { clampBatch, equalsWhere, joinScopes, objectOf, pageOf, splitScopes, whereOf } from '../rows/sql-values.js';

/** A record as `json` parameter text (what SQLite's rows hold too). */
export { toJson as jsonText } from '../rows/sql-values.js';
