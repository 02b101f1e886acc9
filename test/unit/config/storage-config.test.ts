/** The `storage` block (src/config/storage-schema.ts): SQLite or PostgreSQL, exactly one; `vault` "database" | "keychain". */
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../src/config/load-config.js';

const server = { upstream: 'http://127.0.0.1:3/mcp', oauth: { issuer: 'http://127.0.0.1:2', clientId: 'k', clientSecret: 'x' } };
const base = { publicUrl: 'http://127.0.0.1:1', servers: { demo: server } };

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('config storage', () => {
  it('defaults to SQLite at ./keyhole.db with the refresh tokens sealed in the database', () => {
    expect(parseConfig(base, {}).storage).toEqual({ sqlite: './keyhole.db', vault: 'database', minFreeMegabytes: 64 });
    expect(parseConfig({ ...base, storage: {} }, {}).storage).toEqual({ sqlite: './keyhole.db', vault: 'database', minFreeMegabytes: 64 });
    expect(parseConfig({ ...base, storage: { sqlite: '/var/lib/keyhole/k.db', vault: 'keychain' } }, {}).storage).toEqual({ sqlite: '/var/lib/keyhole/k.db', vault: 'keychain', minFreeMegabytes: 64 });
  });

  it('takes a PostgreSQL URL from the environment (and no SQLite file then)', () => {
    const url = 'postgres://keyhole:pw@db.internal:5432/keyhole';
    expect(parseConfig({ ...base, storage: { postgres: '${DATABASE_URL}' } }, { DATABASE_URL: url }).storage).toEqual({ postgres: url, vault: 'database', minFreeMegabytes: 64 });
    expect(parseConfig({ ...base, storage: { postgres: 'postgresql://k@127.0.0.1/k?sslmode=require' } }, {}).storage.postgres).toBe('postgresql://k@127.0.0.1/k?sslmode=require');
  });

  it('keeps "sqlite" as an alias of "database" for storage.vault', () => {
    expect(parseConfig({ ...base, storage: { sqlite: './k.db', vault: 'sqlite' } }, {}).storage.vault).toBe('database');
    expect(parseConfig({ ...base, storage: { postgres: 'postgres://k@h/k', vault: 'sqlite' } }, {}).storage.vault).toBe('database');
  });

  it('refuses both storage.sqlite and storage.postgres', () => {
    expect(problems(() => parseConfig({ ...base, storage: { sqlite: './k.db', postgres: 'postgres://k@h/k' } }, {}))).toEqual([
      expect.stringMatching(/^storage: .*give either storage\.sqlite or storage\.postgres, not both/),
    ]);
  });

  it('refuses a storage.postgres that is not a PostgreSQL URL, and an unknown vault', () => {
    expect(problems(() => parseConfig({ ...base, storage: { postgres: 'mysql://k@h/k' } }, {}))).toEqual([
      expect.stringMatching(/^storage\.postgres: .*must be a PostgreSQL URL/),
    ]);
    expect(problems(() => parseConfig({ ...base, storage: { vault: 'disk' } }, {}))).toEqual([expect.stringMatching(/^storage\.vault: /)]);
  });

  it('refuses storage.vault "keychain" with storage.postgres: each machine has its own keychain', () => {
    expect(problems(() => parseConfig({ ...base, storage: { postgres: 'postgres://k@h/k', vault: 'keychain' } }, {}))).toEqual([
      'storage.vault: "keychain" cannot be used with storage.postgres: each machine has its own OS keychain, so other instances could not read the refresh tokens; use "database"',
    ]);
    expect(parseConfig({ ...base, storage: { postgres: 'postgres://k@h/k', vault: 'database' } }, {}).storage.vault).toBe('database');
  });

  it('takes storage.minFreeMegabytes (the /readyz disk threshold, default 64) and the instance count (default 1)', () => {
    expect(parseConfig({ ...base, storage: { sqlite: './k.db', minFreeMegabytes: 512 } }, {}).storage.minFreeMegabytes).toBe(512);
    expect(parseConfig(base, {}).instances).toBe(1);
    expect(parseConfig({ ...base, instances: 3 }, {}).instances).toBe(3);
    expect(problems(() => parseConfig({ ...base, instances: 0 }, {}))).toEqual([expect.stringMatching(/^instances: /)]);
    expect(problems(() => parseConfig({ ...base, storage: { minFreeMegabytes: -1 } }, {}))).toEqual([expect.stringMatching(/^storage\.minFreeMegabytes: /)]);
  });

  it('names a missing DATABASE_URL', () => {
    expect(problems(() => parseConfig({ ...base, storage: { postgres: '${DATABASE_URL}' } }, {})).join('\n')).toMatch(/DATABASE_URL/);
  });
});
