import type { IncomingHttpHeaders } from 'node:http';

/**
 * How long a response stays fresh, in seconds, per its caching headers (RFC 9111 §4.2.1: s-maxage, max-age, then
 * Expires − Date; `no-store`/`no-cache` → 0), else `defaultSeconds`, never above `maxSeconds`.
 * @see https://www.rfc-editor.org/rfc/rfc9111#section-4.2.1
 */
export function freshnessSeconds(headers: IncomingHttpHeaders, nowMs: number, defaultSeconds: number, maxSeconds: number): number {
  const cc = String(headers['cache-control'] ?? '').toLowerCase();
  const directives = new Map(
    cc
      .split(',')
      .map((d) => d.trim())
      .filter(Boolean)
      .map((d) => {
        const [k = '', v] = d.split('=', 2);
        return [k.trim(), v?.trim().replace(/^"|"$/g, '')] as const;
      }),
  );
  const clamp = (n: number) => Math.max(0, Math.min(maxSeconds, Math.floor(n)));
  if (directives.has('no-store') || directives.has('no-cache')) return 0;
  const age = Number(headers.age);
  const used = Number.isFinite(age) && age > 0 ? age : 0;
  for (const k of ['s-maxage', 'max-age']) {
    const v = directives.get(k);
    if (v !== undefined && /^\d+$/.test(v)) return clamp(Number(v) - used);
  }
  if (headers.expires !== undefined) {
    const expires = Date.parse(String(headers.expires));
    // RFC 9111 §5.3: an invalid Expires (e.g. "0") means already expired.
    if (Number.isNaN(expires)) return 0;
    const date = headers.date ? Date.parse(String(headers.date)) : Number.NaN;
    return clamp((expires - (Number.isNaN(date) ? nowMs : date)) / 1000);
  }
  return clamp(defaultSeconds);
}
