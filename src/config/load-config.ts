/**
 * Loads keyhole.json: `${ENV}` substitution, then zod validation. Every error names the field path and the reason.
 */
import { readFileSync } from 'node:fs';
import { configSchema, type KeyholeConfig } from './schema.js';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Replace `${NAME}` in every string of the parsed JSON. `$${NAME}` escapes to a literal `${NAME}`. */
export function substituteEnv(value: unknown, env: NodeJS.ProcessEnv, path: string[] = [], missing: string[] = []): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$?\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (match, name: string) => {
      if (match.startsWith('$$')) return match.slice(1);
      const v = env[name];
      if (v === undefined || v === '') {
        missing.push(`${path.join('.') || '(root)'}: environment variable ${name} is not set`);
        return '';
      }
      return v;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => substituteEnv(v, env, [...path, String(i)], missing));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substituteEnv(v, env, [...path, k], missing)]));
  }
  return value;
}

export function parseConfig(raw: unknown, env: NodeJS.ProcessEnv = process.env): KeyholeConfig {
  const missing: string[] = [];
  const substituted = substituteEnv(raw, env, [], missing);
  if (missing.length) throw new ConfigError(missing);
  const result = configSchema.safeParse(substituted);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`));
  }
  return result.data;
}

export function loadConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): KeyholeConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError([`${file}: cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ConfigError([`${file}: is not valid JSON (${(e as Error).message})`]);
  }
  return parseConfig(raw, env);
}
