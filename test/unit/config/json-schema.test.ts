/**
 * keyhole.schema.json: generated from the zod schema, committed, referenced by every example config, and
 * tolerant of ${VAR} placeholders wherever it constrains a string.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { configJsonSchema, configJsonSchemaText } from '../../../src/config/json-schema.js';
import { jsonSchemaProblems } from '../../helpers/json-schema-check.js';

function configsUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return configsUnder(p);
    return /^keyhole.*\.json$/.test(name) ? [p] : [];
  });
}

const minimal = { publicUrl: 'https://keyhole.example.com', servers: { crm: { upstream: 'https://mcp.example.com/mcp', oauth: { issuer: 'https://login.example.com', clientId: 'k' } } } };

describe('keyhole.schema.json', () => {
  const schema = configJsonSchema();

  it('is the committed file, byte for byte (regenerate: keyhole config schema > keyhole.schema.json)', () => {
    expect(readFileSync('keyhole.schema.json', 'utf8')).toBe(configJsonSchemaText());
  });

  it('accepts a minimal config and refuses an unknown key, a short admin token and a non-URL', () => {
    expect(jsonSchemaProblems(schema, minimal)).toEqual([]);
    expect(jsonSchemaProblems(schema, { ...minimal, publicUrll: 'x' })).toEqual(['$: unknown property publicUrll']);
    expect(jsonSchemaProblems(schema, { ...minimal, admin: { token: 'short' } })).toEqual(['$.admin.token: matches none of anyOf']);
    expect(jsonSchemaProblems(schema, { ...minimal, publicUrl: 'not a url' })).toEqual(['$.publicUrl: matches none of anyOf']);
  });

  it('accepts ${VAR} placeholders where a string is constrained (length, format, pattern, enum)', () => {
    const withPlaceholders = {
      ...minimal,
      publicUrl: '${PUBLIC_URL}',
      admin: { token: '${KEYHOLE_ADMIN_TOKEN}' }, // shorter than the 24-character minimum before substitution
      instanceName: '${INSTANCE}',
      storage: { vault: '${VAULT_BACKEND}' },
    };
    expect(jsonSchemaProblems(schema, withPlaceholders)).toEqual([]);
  });

  const files = configsUnder('examples');
  it('has example configs', () => expect(files.length).toBeGreaterThanOrEqual(5));
  for (const file of files) {
    it(`${file} points "$schema" at the committed schema and validates against it`, () => {
      const config = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
      expect(resolve(dirname(file), String(config.$schema))).toBe(resolve('keyhole.schema.json'));
      expect(jsonSchemaProblems(schema, config)).toEqual([]);
    });
  }
});
