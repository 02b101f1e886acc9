/**
 * "did you mean …?" for an unknown key in the config: the keys the schema knows at that path, and the closest one.
 * Walks zod 4 schema definitions (objects, records, arrays, optional/default/nullable wrappers, unions).
 */
import type { z } from 'zod';

type Def = { type: string; shape?: Record<string, z.ZodType>; innerType?: z.ZodType; valueType?: z.ZodType; element?: z.ZodType; options?: z.ZodType[]; in?: z.ZodType };

function defOf(schema: z.ZodType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

/** The object schemas reachable at `path` (several for a union). */
function objectsAt(schema: z.ZodType, path: readonly PropertyKey[]): z.ZodType[] {
  const def = defOf(schema);
  switch (def.type) {
    case 'optional':
    case 'default':
    case 'nullable':
    case 'prefault':
    case 'readonly':
      return objectsAt(def.innerType!, path);
    case 'pipe':
      return objectsAt(def.in!, path);
    case 'union':
      return (def.options ?? []).flatMap((o) => objectsAt(o, path));
  }
  if (path.length === 0) return def.type === 'object' ? [schema] : [];
  const [head, ...rest] = path;
  if (def.type === 'object') {
    const child = def.shape?.[String(head)];
    return child ? objectsAt(child, rest) : [];
  }
  if (def.type === 'record') return objectsAt(def.valueType!, rest);
  if (def.type === 'array') return objectsAt(def.element!, rest);
  return [];
}

/** The keys the schema accepts for the object at `path`. */
export function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  return [...new Set(objectsAt(schema, path).flatMap((o) => Object.keys(defOf(o).shape ?? {})))];
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

/** The known key closest to `key`, if it is close enough to be a typo (case differences count as close). */
export function closestKey(key: string, known: string[]): string | undefined {
  let best: { k: string; d: number } | undefined;
  for (const k of known) {
    const d = k.toLowerCase() === key.toLowerCase() ? 0.5 : distance(key.toLowerCase(), k.toLowerCase());
    if (!best || d < best.d) best = { k, d };
  }
  if (!best) return undefined;
  return best.d <= Math.max(2, Math.floor(key.length / 3)) ? best.k : undefined;
}

/** One line per unknown key: the reason, and the closest known key or the list of known keys. */
export function describeUnknownKeys(schema: z.ZodType, path: readonly PropertyKey[], keys: string[]): string[] {
  const known = knownKeysAt(schema, path);
  return keys.map((key) => {
    const guess = closestKey(key, known);
    if (guess) return `unknown key "${key}": did you mean "${guess}"?`;
    return known.length ? `unknown key "${key}" (known keys: ${known.join(', ')})` : `unknown key "${key}"`;
  });
}
