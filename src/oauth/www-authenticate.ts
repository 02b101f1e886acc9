/**
 * Bearer challenges for the protected resource.
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3
 * @see https://www.rfc-editor.org/rfc/rfc9728#section-5.1 (resource_metadata parameter)
 */
function quote(value: string): string {
  return `"${value.replace(/["\\]/g, '\\$&')}"`;
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
  if (c.errorDescription) params.push(`error_description=${quote(c.errorDescription)}`);
  params.push(`resource_metadata=${quote(c.resourceMetadata)}`);
  if (c.scope) params.push(`scope=${quote(c.scope)}`);
  return `Bearer ${params.join(', ')}`;
}
