/**
 * Renders a server-side page with a strict CSP: no scripts at all, styles only by nonce, no framing.
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-10.13 (clickjacking)
 * @see https://www.w3.org/TR/CSP3/#directive-frame-ancestors
 */
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { randomBytes } from 'node:crypto';
import type { JSX } from 'hono/jsx/jsx-runtime';

export function pageNonce(): string {
  return randomBytes(16).toString('base64');
}

export function renderPage(c: Context, page: JSX.Element, opts: { nonce: string; status?: ContentfulStatusCode; formAction?: string[]; referrerPolicy?: 'no-referrer' | 'same-origin' }): Response {
  const formAction = ["'self'", ...(opts.formAction ?? [])].join(' ');
  c.header(
    'Content-Security-Policy',
    `default-src 'none'; style-src 'nonce-${opts.nonce}'; img-src 'self' data:; form-action ${formAction}; frame-ancestors 'none'; base-uri 'none'`,
  );
  c.header('X-Frame-Options', 'DENY');
  c.header('X-Content-Type-Options', 'nosniff');
  // `same-origin` for pages whose forms post to keyhole: browsers then send keyhole's own Origin (not `null`) with the
  // POST, which the form handler checks; nothing leaks cross-origin either way.
  c.header('Referrer-Policy', opts.referrerPolicy ?? 'no-referrer');
  c.header('Cache-Control', 'no-store');
  return c.html(`<!doctype html>${page.toString()}`, opts.status ?? 200);
}
