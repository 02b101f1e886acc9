/**
 * Bearer challenges for the protected resource.
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3
 * @see https://www.rfc-editor.org/rfc/rfc9728#section-5.1 (resource_metadata parameter)
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-5.6.4 (quoted-string)
 */

/** RFC 6750 §3: error_description is limited to %x20-21 / %x23-5B / %x5D-7E; any other character becomes "?". */
const NOT_DESCRIPTION_CHAR = /[^\x20\x21\x23-\x5B\x5D-\x7E]/gu;
/** RFC 9110 §5.6.4 qdtext / quoted-pair: HTAB, SP and VCHAR only (obs-text and controls become "?"). */
const NOT_QUOTABLE_CHAR = /[^\t\x20-\x7E]/gu;

/** A challenge parameter value as an RFC 9110 quoted-string: controls and non-ASCII replaced, `"` `\` escaped. */
function quote(value: string): string {
  return `"${value.replace(NOT_QUOTABLE_CHAR, '?').replace(/["\\]/g, '\\$&')}"`;
}

/**
 * A human-readable error_description safe for `WWW-Authenticate`: only the characters RFC 6750 §3 allows, so
 * a tool name with controls, quotes or emoji can never make Node refuse the header (500).
 * https://www.rfc-editor.org/rfc/rfc6750#section-3
 */
export function sanitizeErrorDescription(text: string): string {
  return text.replace(NOT_DESCRIPTION_CHAR, '?');
}

export interface Challenge {
  error?: 'invalid_token' | 'insufficient_scope' | 'invalid_request';
  errorDescription?: string;
  resourceMetadata: string;
  scope?: string;
}

export function bearerChallenge(c: Challenge): string {
  const params: string[] = [];
  if (c.error) params.push(`error=${quote(c.error)}`);
  if (c.errorDescription) params.push(`error_description="${sanitizeErrorDescription(c.errorDescription)}"`); // RFC 6750 §3
  params.push(`resource_metadata=${quote(c.resourceMetadata)}`);
  if (c.scope) params.push(`scope=${quote(c.scope)}`);
  return `Bearer ${params.join(', ')}`;
}
