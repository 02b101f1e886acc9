/**
 * Configured regexes (argument rules, guardrail patterns). JS has no inline flags: a leading `(?i)` becomes the
 * `i` flag. Throws on an invalid pattern (the config schema has already refused it with its field path).
 */
export function compileRegex(source: string, extraFlags = ''): RegExp {
  const ci = source.startsWith('(?i)');
  return new RegExp(ci ? source.slice(4) : source, (ci ? 'i' : '') + extraFlags);
}
