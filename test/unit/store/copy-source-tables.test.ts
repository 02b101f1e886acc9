import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { migrate } from '../../../src/store/sqlite/migrations.js';
import { foreignKeyOrder, sourceTables } from '../../../src/store/copy/source-tables.js';

describe('storage copy: the tables of a SQLite database in foreign-key order', () => {
  it('finds every table of the migrated schema (no sqlite_ internals), each after the tables it references', () => {
    const db = new Database(':memory:');
    migrate(db);
    const tables = sourceTables(db);
    const names = tables.map((t) => t.name);
    expect(names).not.toContain('sqlite_sequence');
    for (const t of ['clients', 'grants', 'pending_authorizations', 'upstream_credentials', 'codes', 'access_tokens', 'refresh_tokens', 'events', 'upstream_registrations', 'signing_keys', 'sealed_secrets', 'approved_tools', 'audit_log']) {
      expect(names).toContain(t);
    }
    for (const t of tables) for (const parent of t.references) expect(names.indexOf(parent)).toBeLessThan(names.indexOf(t.name));
    expect(tables.find((t) => t.name === 'upstream_credentials')!.references).toEqual(['grants']);
    expect(tables.find((t) => t.name === 'upstream_credentials')!.columns).toContain('refresh_in_keychain');
    db.close();
  });

  it('refuses a foreign-key cycle', () => {
    expect(() => foreignKeyOrder([{ name: 'a', columns: [], references: ['b'] }, { name: 'b', columns: [], references: ['a'] }])).toThrow(/cycle/);
  });
});
