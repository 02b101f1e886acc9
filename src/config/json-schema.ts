/**
 * The JSON Schema of keyhole.json, generated from the zod schema (`keyhole config schema`, committed as
 * keyhole.schema.json for editors). Config strings may hold `${VAR}` placeholders that are substituted before
 * validation, so wherever the schema constrains a string (length, format, pattern, enum), it also accepts a
 * string with a placeholder. Checks zod runs in code (refinements such as "no trailing slash") are not in it.
 */
import { z } from 'zod';
import { configSchema } from './schema.js';

/** A string holding at least one `${NAME}` placeholder (JSON Schema patterns are unanchored). */
export const PLACEHOLDER_PATTERN = '\\$\\{[A-Za-z_][A-Za-z0-9_]*\\}';

const STRING_CONSTRAINTS = ['minLength', 'maxLength', 'format', 'pattern', 'enum', 'const'];
/** Annotations that stay on the outer schema when a string schema is wrapped. */
const ANNOTATIONS = ['default', 'description', 'title'];

type JsonSchema = { [key: string]: unknown };

function acceptPlaceholders(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(acceptPlaceholders);
  if (!node || typeof node !== 'object') return node;
  const out: JsonSchema = {};
  for (const [k, v] of Object.entries(node as JsonSchema)) {
    // Keys (propertyNames) are never substituted; `properties` maps names to schemas.
    if (k === 'propertyNames') out[k] = v;
    else if (k === 'properties' && v && typeof v === 'object') out[k] = Object.fromEntries(Object.entries(v).map(([p, s]) => [p, acceptPlaceholders(s)]));
    else out[k] = acceptPlaceholders(v);
  }
  if (out.type === 'string' && STRING_CONSTRAINTS.some((c) => c in out)) {
    const outer: JsonSchema = {};
    const inner: JsonSchema = {};
    for (const [k, v] of Object.entries(out)) (ANNOTATIONS.includes(k) ? outer : inner)[k] = v;
    return { ...outer, anyOf: [inner, { type: 'string', pattern: PLACEHOLDER_PATTERN }] };
  }
  return out;
}

export function configJsonSchema(): JsonSchema {
  const generated = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const schema = acceptPlaceholders(generated) as JsonSchema;
  const properties = schema.properties as JsonSchema;
  return {
    $schema: schema.$schema,
    title: 'keyhole configuration (keyhole.json)',
    description: 'Generated from src/config/schema.ts by `keyhole config schema`. Strings may hold ${ENV_VAR} placeholders.',
    ...schema,
    properties: { $schema: { type: 'string', description: 'This schema, for editors.' }, ...properties },
  };
}

/** The committed file's exact text. */
export function configJsonSchemaText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}
