/**
 * Secret redaction in tool output (issue 15, guardrails): replaces secrets in text with `[REDACTED:<kind>]` and
 * counts them per kind (never the values).
 *
 * Built-in kinds:
 * - `private_key`  PEM `-----BEGIN … PRIVATE KEY-----` … `-----END … PRIVATE KEY-----` (multi-line; a block cut
 *                  short is redacted through its base64 lines)
 * - `aws_access_key` `AKIA`/`ASIA` + 16 upper-case letters or digits
 * - `github_token` `ghp_ gho_ ghu_ ghs_ ghr_` + ≥36, `github_pat_` + ≥22
 * - `gitlab_token` `glpat-` + ≥20;  `slack_token` `xoxa- xoxb- xoxp- xoxr- xoxs-` + ≥10
 * - `jwt`          three base64url segments, the header starting `eyJ`
 * - `bearer`       the value after `Bearer ` when it holds a digit or a symbol (so prose such as "bearer tokens" stays)
 * - `secret`       the value after a `password`/`passwd`/`secret`/`token`/`api_key`/`access_key`/`private_key`/
 *                  `credential`-like key and `:` or `=`, if it looks random: ≥ 12 characters, letters AND digits,
 *                  Shannon entropy ≥ {@link ENTROPY_THRESHOLD} bits per character, and not a UUID (UUIDs are
 *                  identifiers far more often than secrets). Words, dates and `hunter2hunter2` stay.
 * - configured patterns, kind = their name.
 * Cost: one case-insensitive scan ({@link Redactor.mayContain}) decides whether any detector can match; only
 * then do the detectors run. Every regex is linear (no nested quantifiers); PEM bodies are bounded to 64 KiB.
 */
import type { GuardrailsConfig } from '../config/policy-schema.js';
import { compileRegex } from './regex.js';

export const ENTROPY_THRESHOLD = 3.0;
export type RedactionCounts = Record<string, number>;
/** The built-in kinds (configured patterns add their names). */
export const REDACTION_KINDS = ['private_key', 'aws_access_key', 'github_token', 'gitlab_token', 'slack_token', 'jwt', 'bearer', 'secret'] as const;

export interface Redactor {
  /** False when neither built-in detection nor a pattern is configured. */
  readonly active: boolean;
  /** The text with every secret replaced; the same string when nothing matched. Adds to `counts`. */
  redact(text: string, counts?: RedactionCounts): string;
  /**
   * A cheap, conservative test on raw JSON text (escapes included): false means no detector can match any
   * string inside it, so it needs no parsing. Any `\u` escape answers true.
   */
  mayContain(rawJson: string): boolean;
}

interface Detector { kind: string; re: RegExp; replace?: (match: string, ...groups: string[]) => string | null }

const KEYWORDS = 'password|passwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|credential';
/**
 * A superset of every built-in detector, case-sensitive with explicit letter classes (about twice as fast in V8
 * as the `i` flag): every keyword above contains `passw`, `secret`, `token`, `key` or `creden`; PEM headers contain
 * `KEY`. Any `\\u` escape also answers true (it could spell any of these).
 */
const PREFILTER = /[Pp][Aa][Ss][Ss][Ww]|[Ss][Ee][Cc][Rr][Ee][Tt]|[Tt][Oo][Kk][Ee][Nn]|[Kk][Ee][Yy]|[Cc][Rr][Ee][Dd][Ee][Nn]|[Bb][Ee][Aa][Rr][Ee][Rr]|AKIA|ASIA|gh[pousr]_|github_pat_|glpat-|xox[abprs]-|eyJ|\\u/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Shannon entropy in bits per character. */
export function shannonEntropy(s: string): number {
  const freq = new Map<string, number>();
  for (const ch of s) freq.set(ch, (freq.get(ch) ?? 0) + 1);
  let h = 0;
  const n = [...s].length;
  for (const c of freq.values()) {
    const p = c / n;
    h -= p * Math.log2(p);
  }
  return h;
}

export function looksRandom(value: string): boolean {
  return value.length >= 12 && /[A-Za-z]/.test(value) && /[0-9]/.test(value) && !UUID.test(value) && shannonEntropy(value) >= ENTROPY_THRESHOLD;
}

const BUILT_IN: Detector[] = [
  // The body never runs past the next "-----", so a BEGIN without an END costs up to the next marker only.
  { kind: 'private_key', re: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----(?:(?:[^-]|-(?!----)){0,65536}-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----|(?:\s*[A-Za-z0-9+/=]{8,})*)/g },
  { kind: 'aws_access_key', re: /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g },
  { kind: 'github_token', re: /\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b/g },
  { kind: 'gitlab_token', re: /(?<![A-Za-z0-9_-])glpat-[A-Za-z0-9_-]{20,255}/g },
  { kind: 'slack_token', re: /(?<![A-Za-z0-9_-])xox[abprs]-[A-Za-z0-9-]{10,255}/g },
  // Lookbehind, not \b: only the first `eyJ` of a base64url run may start a match (else "eyJa-eyJa-…" is quadratic).
  { kind: 'jwt', re: /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g },
  {
    kind: 'bearer',
    re: /\b(bearer[ \t]{1,8})([A-Za-z0-9._~+/-]{8,}=*)/gi,
    replace: (_m, prefix, value) => (/[^A-Za-z]/.test(value!) ? `${prefix}[REDACTED:bearer]` : null),
  },
  {
    kind: 'secret',
    // keyword, rest of the key (bounded), optional quote, ":" or "=", optional quote, value (judged by looksRandom).
    // The match starts AT the keyword (a leading `[\w.-]*` would rescan every word before it: quadratic).
    re: new RegExp(`((?:${KEYWORDS})[A-Za-z0-9_.-]{0,64}["']?[ \\t]{0,8}[:=][ \\t]{0,8}["']?)([^\\s"'\`,;&<>(){}\\[\\]]{12,512})`, 'gi'),
    replace: (_m, prefix, value) => (looksRandom(value!) ? `${prefix}[REDACTED:secret]` : null),
  },
];

export function createSecretRedactor(config: GuardrailsConfig | undefined): Redactor {
  const builtIn = config?.redactSecrets ?? false;
  const custom: Detector[] = (config?.patterns ?? []).map((p) => {
    return { kind: p.name, re: compileRegex(p.regex, 'g') };
  });
  const detectors = [...(builtIn ? BUILT_IN : []), ...custom];
  if (detectors.length === 0) return { active: false, redact: (t) => t, mayContain: () => false };

  const mayMatch = (text: string): boolean => (builtIn && PREFILTER.test(text)) || custom.some((d) => { d.re.lastIndex = 0; return d.re.test(text); });

  return {
    active: true,
    redact(text, counts) {
      if (!mayMatch(text)) return text;
      let out = text;
      for (const d of detectors) {
        d.re.lastIndex = 0;
        out = out.replace(d.re, (match: string, ...rest: unknown[]) => {
          if (match.length === 0) return match;
          let replacement: string | null = `[REDACTED:${d.kind}]`;
          if (d.replace) replacement = d.replace(match, ...(rest.filter((r) => typeof r === 'string' || r === undefined) as string[]));
          if (replacement === null) return match;
          if (counts) counts[d.kind] = (counts[d.kind] ?? 0) + 1;
          return replacement;
        });
      }
      return out;
    },
    mayContain(rawJson) {
      if (builtIn && PREFILTER.test(rawJson)) return true;
      // A configured pattern may rely on characters JSON escapes (quotes, newlines): any escape means "look".
      return custom.length > 0 && (rawJson.includes('\\') || mayMatch(rawJson));
    },
  };
}
