/**
 * Argument rules (issue 15): constraints on `tools/call` arguments, per server, compiled once.
 * - `tool` (name or `*` glob) picks the calls; `pointer` (RFC 6901) picks a value inside `params.arguments`.
 * - The value must be a string, a finite number or a boolean; numbers and booleans are matched by their JSON
 *   text (`42`, `true`). A missing value, null, an object or an array is refused (`missing` / `wrong_type`):
 *   a constraint cannot be dodged by leaving the argument out or wrapping it.
 * - `allow`: the value must match one pattern; `deny`: it must match none. Both may be given.
 * - `match`: `glob` (default; `*` = any run of characters, case-sensitive, whole value) or `regex` (searched,
 *   anchor it yourself; a leading `(?i)` becomes the `i` flag).
 * - ReDoS: the schema refuses nested quantifiers such as `(a+)+`, and a regex never sees more than
 *   {@link MAX_REGEX_INPUT} characters: a longer value under a regex rule is refused (`too_long`).
 * The first rule (in config order) that refuses decides. Batches: call `check` per `tools/call` message.
 */
import type { ArgumentRuleConfig } from '../config/policy-schema.js';
import { compileGlob, toolIndex, type Matcher } from './glob.js';
import { evaluateJsonPointer, parseJsonPointer } from './json-pointer.js';
import { compileRegex } from './regex.js';
import type { ArgumentRefusalData } from './jsonrpc-errors.js';

export const MAX_REGEX_INPUT = 4_096;

export type ArgumentDecision = { ok: true } | ({ ok: false } & ArgumentRefusalData);

export interface ArgumentRules {
  /** False when the server has no rules: `check` is then a constant. */
  readonly active: boolean;
  /** `args` is `params.arguments` of one `tools/call` (undefined when absent). */
  check(tool: string, args: unknown): ArgumentDecision;
}

interface CompiledRule {
  index: number;
  tool: string;
  pointer: string;
  tokens: string[];
  regex: boolean;
  allow: Matcher[] | null;
  deny: Matcher[] | null;
}

const ALLOW: ArgumentDecision = Object.freeze({ ok: true });

function compileMatcher(pattern: string, regex: boolean): Matcher {
  if (!regex) return compileGlob(pattern);
  const re = compileRegex(pattern);
  return (value) => re.test(value);
}

export function createArgumentRules(rules: readonly ArgumentRuleConfig[] | undefined): ArgumentRules {
  if (!rules || rules.length === 0) return { active: false, check: () => ALLOW };
  const compiled: CompiledRule[] = rules.map((r, index) => {
    if (!r.allow && !r.deny) throw new TypeError(`argumentRules[${index}] needs allow or deny`);
    const regex = r.match === 'regex';
    return {
      index,
      tool: r.tool,
      pointer: r.pointer,
      tokens: parseJsonPointer(r.pointer),
      regex,
      allow: r.allow ? r.allow.map((p) => compileMatcher(p, regex)) : null,
      deny: r.deny ? r.deny.map((p) => compileMatcher(p, regex)) : null,
    };
  });
  const rulesFor = toolIndex(compiled.map((c) => ({ pattern: c.tool, value: c })));

  return {
    active: true,
    check(tool, args) {
      const applicable = rulesFor(tool);
      for (let i = 0; i < applicable.length; i++) {
        const rule = applicable[i]!;
        const refuse = (reason: ArgumentRefusalData['reason']): ArgumentDecision => ({ ok: false, rule: { index: rule.index, tool: rule.tool, pointer: rule.pointer }, reason, tool });
        const raw = evaluateJsonPointer(args, rule.tokens);
        let value: string;
        if (typeof raw === 'string') value = raw;
        else if ((typeof raw === 'number' && Number.isFinite(raw)) || typeof raw === 'boolean') value = String(raw);
        else return refuse(raw === undefined ? 'missing' : 'wrong_type');
        if (rule.regex && value.length > MAX_REGEX_INPUT) return refuse('too_long');
        if (rule.allow && !rule.allow.some((m) => m(value))) return refuse('not_allowed');
        if (rule.deny && rule.deny.some((m) => m(value))) return refuse('denied');
      }
      return ALLOW;
    },
  };
}
