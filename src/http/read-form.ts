/**
 * Reads an `application/x-www-form-urlencoded` body (token, revoke and consent endpoints).
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-3.2 (token endpoint: form-encoded POST)
 */
import type { Context } from 'hono';
import { InvalidRequestError } from '../oauth/errors.js';
import { mediaType } from './media-type.js';

export async function readForm(c: Context): Promise<URLSearchParams> {
  const type = mediaType(c.req.header('content-type'));
  if (type !== 'application/x-www-form-urlencoded') throw new InvalidRequestError('the body must be application/x-www-form-urlencoded');
  const text = await c.req.text();
  const form = new URLSearchParams(text);
  // https://www.rfc-editor.org/rfc/rfc6749#section-3.1 — "Request and response parameters MUST NOT be included more than once."
  const seen = new Set<string>();
  for (const key of form.keys()) {
    if (seen.has(key)) throw new InvalidRequestError(`parameter ${key} is repeated`);
    seen.add(key);
  }
  return form;
}

/** Single-valued query parameters, refusing repeats (RFC 6749 §3.1). */
export function readQuery(url: URL): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of url.searchParams) {
    if (out.has(k)) throw new InvalidRequestError(`parameter ${k} is repeated`);
    out.set(k, v);
  }
  return out;
}
