/**
 * The tables of a SQLite keyhole database, discovered from its (migrated) schema rather than listed by hand, so that
 * a table a later migration adds is copied too; ordered so that every table comes after the tables its foreign keys
 * reference (a parent row exists before its children are inserted).
 */
import type { Database } from 'better-sqlite3';

export interface SourceTable {
  name: string;
  columns: string[];
  /** Tables this one references (foreign keys). */
  references: string[];
}

export function sourceTables(db: Database): SourceTable[] {
  const names = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as Array<{ name: string }>).map((r) => r.name);
  const tables = names.map((name) => ({
    name,
    columns: (db.prepare('SELECT name FROM pragma_table_info(?) ORDER BY cid').all(name) as Array<{ name: string }>).map((c) => c.name),
    references: [...new Set((db.prepare('SELECT "table" AS t FROM pragma_foreign_key_list(?)').all(name) as Array<{ t: string }>).map((f) => f.t))].filter((t) => t !== name),
  }));
  return foreignKeyOrder(tables);
}

/** Parents before children (a topological order; ties by name, so the order is stable). Throws on a cycle. */
export function foreignKeyOrder(tables: SourceTable[]): SourceTable[] {
  const byName = new Map(tables.map((t) => [t.name, t]));
  const done = new Set<string>();
  const visiting = new Set<string>();
  const out: SourceTable[] = [];
  const visit = (t: SourceTable) => {
    if (done.has(t.name)) return;
    if (visiting.has(t.name)) throw new Error(`foreign keys form a cycle through ${t.name}`);
    visiting.add(t.name);
    for (const parent of t.references) {
      const p = byName.get(parent);
      if (p) visit(p);
    }
    visiting.delete(t.name);
    done.add(t.name);
    out.push(t);
  };
  for (const t of [...tables].sort((a, b) => a.name.localeCompare(b.name))) visit(t);
  return out;
}
