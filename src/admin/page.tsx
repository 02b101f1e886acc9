/** Renders admin pages through the shared strict-CSP renderer (no scripts, nonce'd styles, no framing). */
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { JSX } from 'hono/jsx/jsx-runtime';
import { pageNonce, renderPage } from '../http/render-page.js';
import { AdminMessagePage } from '../../views/admin/message.js';
import { SignedInAs } from '../../views/admin/admin-layout.js';
import type { AdminSession } from './session.js';
import { AdminInputError } from './filters.js';

/**
 * Builds the page with a fresh nonce and renders it. The header of a signed-in page says who is signed in (the
 * session's person with admin SSO, "the admin token" otherwise), through a JSX context so no page has to pass it on.
 */
export function adminPage(c: Context, build: (nonce: string) => JSX.Element, status: ContentfulStatusCode = 200): Response {
  const nonce = pageNonce();
  const session = (c.get as (key: string) => AdminSession | undefined)('session');
  const who = session ? (session.displayName ?? 'the admin token') : undefined;
  return renderPage(c, <SignedInAs.Provider value={who}>{build(nonce)}</SignedInAs.Provider>, { nonce, status });
}

/** A short page for refusals and errors (400, 403, 404, 413, 429). `csrf` adds the signed-in navigation; `link` replaces the default one. */
export function adminMessage(c: Context, status: ContentfulStatusCode, title: string, message: string, csrf?: string, link?: { href: string; label: string }): Response {
  return adminPage(c, (nonce) => AdminMessagePage({ nonce, title, message, csrf, link }), status);
}

/**
 * Runs `parse` (filters, paging); an AdminInputError becomes the 400 "Invalid filter" page. Returns the parsed value
 * or that page: `if (parsed instanceof Response) return parsed;`.
 */
export function parseOrInvalidPage<T>(c: Context, csrf: string, parse: () => T): T | Response {
  try {
    return parse();
  } catch (e) {
    if (e instanceof AdminInputError) return adminMessage(c, 400, 'Invalid filter', e.message, csrf);
    throw e;
  }
}
