/**
 * Where a JSON syntax error is, as line and column (1-based). V8 names a character position for most errors and
 * none for some ("Unexpected token … is not valid JSON"); then the longest prefix that is still a valid start
 * of a JSON text is found by bisection, and the error is the character after it.
 */

function isValidPrefix(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch (e) {
    const m = (e as Error).message;
    return /Unexpected end of JSON input/.test(m) || new RegExp(`at position ${text.length}\\b`).test(m);
  }
}

/** The character offset of the syntax error in `text`. */
export function jsonErrorOffset(text: string, error: Error): number {
  const at = /at position (\d+)/.exec(error.message);
  if (at) return Number(at[1]);
  if (/Unexpected end of JSON input/.test(error.message)) return text.length;
  let lo = 0; // a valid prefix length
  let hi = text.length; // not valid
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (isValidPrefix(text.slice(0, mid))) lo = mid;
    else hi = mid;
  }
  return lo;
}

export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - (before.lastIndexOf('\n') + 1) + 1;
  return { line, column };
}

/** "line 3, column 12: Expected ',' or '}' after property value" (V8's reason without the position). */
export function describeJsonError(text: string, error: Error): string {
  const { line, column } = lineAndColumn(text, jsonErrorOffset(text, error));
  const reason = error.message
    .replace(/ in JSON at position \d+.*$/s, '')
    .replace(/^(Unexpected token .*?), (\.\.\.)?".*$/s, '$1')
    .replace(/\n/g, '\\n');
  return `line ${line}, column ${column}: ${reason}`;
}
