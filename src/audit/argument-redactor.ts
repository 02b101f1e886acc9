/**
 * Redacts tool arguments before they are stored (`"audit": { "arguments": "redacted" }`). Recursive and bounded:
 * - a member whose key names a secret (password, secret, token, api key, private key, credential, authorization,
 *   cookie, …) has its whole value replaced by `[REDACTED:key]` (booleans and null are kept);
 * - every string is passed through the built-in secret detectors of src/policy/secret-redactor.ts (PEM private
 *   keys, JWTs, GitHub/GitLab/Slack/AWS tokens, Bearer values, secret-like `key=value`), each match replaced by
 *   `[REDACTED:<kind>]`;
 * - strings longer than `maxStringLength` are cut, containers deeper than `maxDepth` and everything after
 *   `maxNodes` values become `[TRUNCATED]`, so a huge argument never costs more than a bounded walk.
 * The input is never modified.
 */
import { createSecretRedactor, type Redactor } from '../policy/secret-redactor.js';

export const TRUNCATED = '[TRUNCATED]';
export const REDACTED_BY_KEY = '[REDACTED:key]';

/** Key names that hold secrets. `tokens` (plural, e.g. `max_tokens`) is a count, not a secret. */
const SECRET_KEY = /pass(?:word|wd|phrase)?(?![a-z])|secret|token(?!s)|api[_-]?key|apikey|access[_-]?key|private[_-]?key|credential|authorization|cookie|session[_-]?id|^pin$|^otp$/i;

export interface ArgumentRedactorOptions {
  maxDepth?: number;
  maxNodes?: number;
  maxStringLength?: number;
}

export type ArgumentRedactor = (args: unknown) => unknown;

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

export function createArgumentRedactor(opts: ArgumentRedactorOptions = {}): ArgumentRedactor {
  const maxDepth = opts.maxDepth ?? 8;
  const maxNodes = opts.maxNodes ?? 500;
  const maxStringLength = opts.maxStringLength ?? 2_048;
  for (const [name, v] of Object.entries({ maxDepth, maxNodes, maxStringLength })) {
    if (!Number.isInteger(v) || v < 1) throw new TypeError(`createArgumentRedactor: ${name} must be a positive integer`);
  }
  const detectors: Redactor = createSecretRedactor({ redactSecrets: true, patterns: [] });

  return function redactArguments(args: unknown): unknown {
    let nodes = 0;
    const walk = (value: unknown, depth: number): unknown => {
      if (++nodes > maxNodes) return TRUNCATED;
      if (typeof value === 'string') {
        const cut = value.length > maxStringLength ? `${value.slice(0, maxStringLength)}…${TRUNCATED}` : value;
        return detectors.redact(cut);
      }
      if (value === null || typeof value !== 'object') return typeof value === 'number' || typeof value === 'boolean' ? value : null;
      if (depth >= maxDepth) return TRUNCATED;
      if (Array.isArray(value)) {
        const out: unknown[] = [];
        for (const item of value) {
          if (nodes >= maxNodes) { out.push(TRUNCATED); break; }
          out.push(walk(item, depth + 1));
        }
        return out;
      }
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(value)) {
        if (nodes >= maxNodes) { set(out, TRUNCATED, true); break; }
        const v = (value as Record<string, unknown>)[key];
        const redactWhole = isSecretKey(key) && v !== null && typeof v !== 'boolean' && v !== undefined;
        if (redactWhole) nodes++;
        set(out, key, redactWhole ? REDACTED_BY_KEY : walk(v, depth + 1));
      }
      return out;
    };
    return walk(args, 0);
  };
}

/** An own data property, even for `__proto__` (plain assignment would change the prototype). */
function set(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}
