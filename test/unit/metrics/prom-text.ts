/**
 * A minimal, strict parser of the Prometheus text exposition format 0.0.4, for tests (prom-client has none).
 * Throws on anything malformed: bad names, bad label syntax or escapes, unparseable values, a sample before its
 * family's TYPE, a repeated HELP/TYPE, a duplicated series, a histogram sample with a foreign suffix.
 * @see https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
 */
export interface Sample { name: string; labels: Record<string, string>; value: number }
export interface Family { name: string; type: string; help: string | undefined; samples: Sample[] }

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const SUFFIXES: Record<string, string[]> = { histogram: ['_bucket', '_sum', '_count'], summary: ['', '_sum', '_count'] };

/**
 * Values as Prometheus reads them (Go's strconv.ParseFloat): NaN and Inf in any letter case. prom-client 15.1.3
 * writes NaN as `Nan` (lib/util.js), which Prometheus accepts.
 */
function parseValue(s: string, line: number): number {
  if (/^\+?inf$/i.test(s)) return Infinity;
  if (/^-inf$/i.test(s)) return -Infinity;
  if (/^nan$/i.test(s)) return NaN;
  if (!/^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/.test(s)) throw new Error(`line ${line}: bad value ${JSON.stringify(s)}`);
  return Number(s);
}

function parseLabels(s: string, line: number): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < s.length) {
    const eq = s.indexOf('=', i);
    if (eq < 0) throw new Error(`line ${line}: label without "="`);
    const name = s.slice(i, eq);
    if (!LABEL_NAME.test(name)) throw new Error(`line ${line}: bad label name ${JSON.stringify(name)}`);
    if (s[eq + 1] !== '"') throw new Error(`line ${line}: label value must be quoted`);
    let j = eq + 2;
    let value = '';
    for (;;) {
      if (j >= s.length) throw new Error(`line ${line}: unterminated label value`);
      const ch = s[j]!;
      if (ch === '"') break;
      if (ch === '\\') {
        const next = s[j + 1];
        if (next === '\\') value += '\\';
        else if (next === '"') value += '"';
        else if (next === 'n') value += '\n';
        else throw new Error(`line ${line}: bad escape \\${next}`);
        j += 2;
      } else { value += ch; j++; }
    }
    if (name in labels) throw new Error(`line ${line}: label ${name} repeated`);
    labels[name] = value;
    i = j + 1;
    if (i < s.length) {
      if (s[i] !== ',') throw new Error(`line ${line}: expected "," between labels`);
      i++;
    }
  }
  return labels;
}

export function parsePrometheusText(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const seen = new Set<string>();
  const helps = new Set<string>();
  const typed = new Set<string>();
  const familyOf = (sample: string): Family | undefined => {
    for (const f of families.values()) {
      const suffixes = SUFFIXES[f.type] ?? [''];
      if (suffixes.some((sfx) => sample === f.name + sfx)) return f;
    }
    return undefined;
  };
  text.split('\n').forEach((raw, idx) => {
    const line = idx + 1;
    if (raw === '') return;
    if (raw.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(raw);
      if (!m) return; // a plain comment
      const [, kind, name, rest] = m as unknown as [string, string, string, string];
      if (!METRIC_NAME.test(name)) throw new Error(`line ${line}: bad metric name ${name}`);
      if (kind === 'HELP') {
        if (helps.has(name)) throw new Error(`line ${line}: HELP repeated for ${name}`);
        helps.add(name);
        const f = families.get(name);
        if (f) f.help = rest;
        else families.set(name, { name, type: 'untyped', help: rest, samples: [] });
        return;
      }
      if (!TYPES.has(rest)) throw new Error(`line ${line}: bad type ${rest}`);
      const f = families.get(name);
      if (typed.has(name) || (f && f.samples.length > 0)) throw new Error(`line ${line}: TYPE for ${name} after its samples or repeated`);
      typed.add(name);
      if (f) f.type = rest;
      else families.set(name, { name, type: rest, help: undefined, samples: [] });
      return;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$/.exec(raw);
    if (!m) throw new Error(`line ${line}: malformed sample ${JSON.stringify(raw)}`);
    const [, name, labelText, valueText] = m as unknown as [string, string, string | undefined, string];
    const labels = labelText ? parseLabels(labelText, line) : {};
    const key = `${name}{${Object.entries(labels).sort().map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}}`;
    if (seen.has(key)) throw new Error(`line ${line}: duplicate series ${key}`);
    seen.add(key);
    const f = familyOf(name);
    if (!f || !typed.has(f.name)) throw new Error(`line ${line}: sample ${name} before its TYPE`);
    f.samples.push({ name, labels, value: parseValue(valueText, line) });
  });
  return families;
}

/** The value of the one sample with exactly these labels; undefined when absent. */
export function sampleValue(families: Map<string, Family>, sample: string, labels: Record<string, string> = {}): number | undefined {
  for (const f of families.values()) {
    for (const s of f.samples) {
      if (s.name !== sample) continue;
      const a = Object.keys(s.labels), b = Object.keys(labels);
      if (a.length === b.length && b.every((k) => s.labels[k] === labels[k])) return s.value;
    }
  }
  return undefined;
}
