/**
 * The SCIM filters Okta and Entra ID send to look a user up (RFC 7644 §3.4.2.2): `userName eq "…"` and
 * `externalId eq "…"` (also `emails.value eq "…"`, `id eq "…"`). Attribute names and the operator are
 * case-insensitive (§3.4.2.2); the value is a JSON string. Anything else is 400 `invalidFilter` (§3.4.2.2, §3.12).
 */
import { ScimError } from './scim-response.js';

export type ScimFilter = { attr: 'userName' | 'externalId' | 'email' | 'id'; value: string };

const ATTRS: Record<string, ScimFilter['attr']> = { username: 'userName', externalid: 'externalId', 'emails.value': 'email', emails: 'email', id: 'id' };

export function parseScimFilter(filter: string): ScimFilter {
  const m = /^\s*([A-Za-z.:0-9]+)\s+eq\s+("(?:[^"\\]|\\.)*")\s*$/i.exec(filter);
  const attr = m ? ATTRS[m[1]!.toLowerCase().replace('urn:ietf:params:scim:schemas:core:2.0:user:', '')] : undefined;
  if (!m || !attr) throw new ScimError(400, 'keyhole supports the filters userName eq "…", externalId eq "…", emails.value eq "…" and id eq "…"', 'invalidFilter');
  let value: unknown;
  try {
    value = JSON.parse(m[2]!);
  } catch {
    throw new ScimError(400, 'the filter value is not a valid string', 'invalidFilter');
  }
  return { attr, value: String(value) };
}
