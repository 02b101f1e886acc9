/**
 * `*` globs (any run of characters, `/` included), used for tool names and argument values. A pattern without
 * `*` compiles to string equality, the common case.
 */
export type Matcher = (value: string) => boolean;

export function globToRegExp(glob: string, flags = ''): RegExp {
  return new RegExp(`^${glob.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[\\s\\S]*')}$`, flags);
}

export function compileGlob(glob: string): Matcher {
  if (!glob.includes('*')) return (value) => value === glob;
  if (glob === '*') return () => true;
  const re = globToRegExp(glob);
  return (value) => re.test(value);
}

/**
 * Maps a tool name to the entries whose pattern matches it, memoised (tool names are few; bounded anyway).
 * Returns the same frozen empty array for every unmatched tool, so callers can test `.length === 0`.
 */
export function toolIndex<T>(entries: ReadonlyArray<{ pattern: string; value: T }>, maxCached = 10_000): (tool: string) => readonly T[] {
  const compiled = entries.map((e) => ({ match: compileGlob(e.pattern), value: e.value }));
  const none: readonly T[] = Object.freeze([]);
  if (compiled.length === 0) return () => none;
  const cache = new Map<string, readonly T[]>();
  return (tool) => {
    let hit = cache.get(tool);
    if (hit === undefined) {
      const found = compiled.filter((c) => c.match(tool)).map((c) => c.value);
      hit = found.length ? found : none;
      if (cache.size >= maxCached) cache.clear();
      cache.set(tool, hit);
    }
    return hit;
  };
}
