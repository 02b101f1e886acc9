/**
 * Loads keyhole.json: `${ENV}` substitution, then zod validation. Every error names the field path and the reason.
 */
import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { configSchema, type KeyholeConfig } from './schema.js';
import { describeJsonError } from './json-position.js';
import { storagePathProblem } from './storage-path.js';
import { describeUnknownKeys } from './unknown-keys.js';

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
  const substituted = substituteEnv(withoutSchemaKey(raw), env, [], missing);
  if (missing.length) throw new ConfigError(missing);
  const result = configSchema.safeParse(substituted);
  if (!result.success) throw new ConfigError(describeIssues(result.error.issues));
  return result.data;
}

/** `"$schema"` points editors at keyhole.schema.json; it is not configuration. */
function withoutSchemaKey(raw: unknown): unknown {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw) || !('$schema' in raw)) return raw;
  const { $schema: _ignored, ...rest } = raw as Record<string, unknown>;
  return rest;
}

/** One line per problem: the field path and the reason; an unknown key gets the closest known one. */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.flatMap((i) => {
    const where = i.path.map(String).join('.') || '(root)';
    if (i.code === 'unrecognized_keys') return describeUnknownKeys(configSchema, i.path, i.keys).map((m) => `${where}: ${m}`);
    return [`${where}: ${i.message}`];
  });
}

/** Reads, substitutes and validates `file`; then checks that the storage directory exists (unless `checkPaths` is false). */
export function loadConfigFile(file: string, env: NodeJS.ProcessEnv = process.env, opts: { checkPaths?: boolean } = {}): KeyholeConfig {
  const config = parseConfig(readConfigJson(file), env);
  const problem = opts.checkPaths === false ? undefined : storagePathProblem(config);
  if (problem) throw new ConfigError([problem]);
  return config;
}

/** The file's JSON, or a ConfigError naming the file and, for a syntax error, the line and column. */
export function readConfigJson(file: string): unknown {
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
    throw new ConfigError([`${file}: is not valid JSON: ${describeJsonError(text, e as Error)}`]);
  }
  return raw;
}
