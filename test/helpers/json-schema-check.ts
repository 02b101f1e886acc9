/**
 * A small JSON Schema (2020-12) checker for tests, covering the keywords z.toJSONSchema emits for keyhole's config:
 * type, properties, required, additionalProperties, propertyNames, items, anyOf, oneOf, enum, const, minLength,
 * maxLength, pattern, format "uri", minimum, maximum, minItems, maxItems. Unknown keywords fail loudly, so the
 * checker can never pass a document by ignoring a constraint. (ajv is not a dependency.)
 */
type Schema = Record<string, unknown>;

const KNOWN = new Set([
  '$schema', 'title', 'description', 'default', 'type', 'properties', 'required', 'additionalProperties', 'propertyNames',
  'items', 'anyOf', 'oneOf', 'enum', 'const', 'minLength', 'maxLength', 'pattern', 'format', 'minimum', 'maximum',
  'exclusiveMinimum', 'exclusiveMaximum', 'minItems', 'maxItems',
]);

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** Problems of `value` against `schema`, each with its JSON path; empty when it validates. */
export function jsonSchemaProblems(schema: Schema, value: unknown, path = '$'): string[] {
  for (const k of Object.keys(schema)) if (!KNOWN.has(k)) throw new Error(`json-schema-check: unsupported keyword ${k} at ${path}`);
  const problems: string[] = [];
  const fail = (m: string) => problems.push(`${path}: ${m}`);
  if (schema.type !== undefined) {
    const t = typeOf(value);
    const ok = schema.type === t || (schema.type === 'number' && t === 'integer');
    if (!ok) return [`${path}: expected ${String(schema.type)}, got ${t}`];
  }
  if (schema.anyOf && !(schema.anyOf as Schema[]).some((s) => jsonSchemaProblems(s, value, path).length === 0)) fail('matches none of anyOf');
  if (schema.oneOf && (schema.oneOf as Schema[]).filter((s) => jsonSchemaProblems(s, value, path).length === 0).length !== 1) fail('does not match exactly one of oneOf');
  if (schema.enum && !(schema.enum as unknown[]).includes(value)) fail(`not one of ${JSON.stringify(schema.enum)}`);
  if ('const' in schema && schema.const !== value) fail(`not ${JSON.stringify(schema.const)}`);
  if (typeof value === 'string') {
    if (typeof schema.minLength === 'number' && [...value].length < schema.minLength) fail(`shorter than ${schema.minLength}`);
    if (typeof schema.maxLength === 'number' && [...value].length > schema.maxLength) fail(`longer than ${schema.maxLength}`);
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(value)) fail(`does not match ${schema.pattern}`);
    if (schema.format === 'uri' && !URL.canParse(value)) fail('not a URI');
  }
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum) fail(`below ${schema.minimum}`);
    if (typeof schema.maximum === 'number' && value > schema.maximum) fail(`above ${schema.maximum}`);
  }
  if (Array.isArray(value)) {
    if (typeof schema.minItems === 'number' && value.length < schema.minItems) fail(`fewer than ${schema.minItems} items`);
    if (typeof schema.maxItems === 'number' && value.length > schema.maxItems) fail(`more than ${schema.maxItems} items`);
    if (schema.items) value.forEach((v, i) => problems.push(...jsonSchemaProblems(schema.items as Schema, v, `${path}[${i}]`)));
  }
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const obj = value as Record<string, unknown>;
    const props = (schema.properties ?? {}) as Record<string, Schema>;
    for (const r of (schema.required ?? []) as string[]) if (!(r in obj)) fail(`missing required ${r}`);
    for (const [k, v] of Object.entries(obj)) {
      if (schema.propertyNames) problems.push(...jsonSchemaProblems(schema.propertyNames as Schema, k, `${path}.${k} (name)`));
      if (k in props) problems.push(...jsonSchemaProblems(props[k]!, v, `${path}.${k}`));
      else if (schema.additionalProperties === false) fail(`unknown property ${k}`);
      else if (schema.additionalProperties && typeof schema.additionalProperties === 'object') problems.push(...jsonSchemaProblems(schema.additionalProperties as Schema, v, `${path}.${k}`));
    }
  }
  return problems;
}
