/**
 * RFC 6901 JSON Pointer: parse once, evaluate many times.
 * @see https://www.rfc-editor.org/rfc/rfc6901
 */
const SYNTAX = /^(?:\/(?:[^~/]|~[01])*)*$/;
/** Array index (§4): "0" or digits without a leading zero. "-" (past the end) never resolves to a value. */
const INDEX = /^(?:0|[1-9][0-9]*)$/;

export class JsonPointerError extends Error {
  override readonly name = 'JsonPointerError';
}

/** "" → [] (the whole document); "/a~1b/0" → ["a/b", "0"]. */
export function parseJsonPointer(pointer: string): string[] {
  // RFC 6901 §3: a pointer is empty or starts with "/"; "~" is only ever "~0" or "~1".
  if (!SYNTAX.test(pointer)) throw new JsonPointerError(`invalid JSON Pointer ${JSON.stringify(pointer)}`);
  if (pointer === '') return [];
  // §4: first ~1 → "/", then ~0 → "~" (so "~01" is "~1", not "/").
  return pointer.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** The value the tokens point at, or undefined when any step is missing. Own properties only. */
export function evaluateJsonPointer(doc: unknown, tokens: readonly string[]): unknown {
  let cur: unknown = doc;
  for (const token of tokens) {
    if (Array.isArray(cur)) {
      if (!INDEX.test(token)) return undefined;
      const i = Number(token);
      if (i >= cur.length) return undefined;
      cur = cur[i];
    } else if (cur !== null && typeof cur === 'object') {
      if (!Object.prototype.hasOwnProperty.call(cur, token)) return undefined;
      cur = (cur as Record<string, unknown>)[token];
    } else {
      return undefined;
    }
  }
  return cur;
}
