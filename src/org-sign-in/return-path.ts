/**
 * Where /identity/login sends the person back after signing in: only a path on keyhole itself (no open redirect).
 * Accepted: an absolute path (`/authorize?…`, `/account`), without a scheme, authority (`//evil`), backslash (browsers
 * read `/\evil` as `//evil`) or control characters. Anything else: the default.
 * @see https://cheatsheetseries.owasp.org/cheatsheets/Unvalidated_Redirects_and_Forwards_Cheat_Sheet.html
 */
export const DEFAULT_RETURN_PATH = '/account';
/** Bounded: the path travels sealed in a cookie (browsers drop cookies over 4 KiB). */
const MAX_RETURN_LENGTH = 2048;

export function safeReturnPath(value: string | null | undefined): string {
  if (!value || value.length > MAX_RETURN_LENGTH) return DEFAULT_RETURN_PATH;
  // eslint-disable-next-line no-control-regex
  if (!value.startsWith('/') || value.startsWith('//') || value.includes('\\') || /[\u0000-\u001f\u007f]/.test(value)) return DEFAULT_RETURN_PATH;
  try {
    const base = new URL('http://keyhole.invalid');
    const resolved = new URL(value, base);
    if (resolved.origin !== base.origin) return DEFAULT_RETURN_PATH;
    return resolved.pathname + resolved.search;
  } catch {
    return DEFAULT_RETURN_PATH;
  }
}
