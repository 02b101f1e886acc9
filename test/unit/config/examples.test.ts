/** Every shipped example config must stay valid against the schema (with its ${ENV} names provided). */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../../../src/config/load-config.js';

function configsUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return configsUnder(p);
    return /^keyhole.*\.json$/.test(name) ? [p] : [];
  });
}

describe('examples/', () => {
  const files = configsUnder('examples');
  it('has example configs', () => expect(files.length).toBeGreaterThanOrEqual(3));
  for (const file of files) {
    it(`${file} is a valid keyhole config`, () => {
      const text = readFileSync(file, 'utf8');
      // A database URL must look like one (storage.postgres is validated as a PostgreSQL URL).
      const placeholder = (name: string) => (name.endsWith('DATABASE_URL') ? 'postgres://keyhole@127.0.0.1:5432/keyhole' : `placeholder-value-for-${name}-000000`);
      const env = Object.fromEntries([...text.matchAll(/\$\{([A-Z0-9_]+)\}/g)].map((m) => [m[1]!, placeholder(m[1]!)]));
      expect(() => parseConfig(JSON.parse(text), env)).not.toThrow();
    });
  }
});
