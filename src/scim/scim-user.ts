/**
 * The SCIM User resource (RFC 7643 §4.1) of a person, and the fields keyhole reads from a User that Okta or Entra ID
 * sends (POST, PUT): `userName` (required, RFC 7643 §4.1.1), `externalId` (the IdP's id of the user, usually the
 * `sub` keyhole sees at sign-in), `name` (`formatted`, else `givenName familyName`), `displayName`, `emails` (the
 * primary one, else the first), `active`. Other attributes are accepted and ignored (keyhole stores no more).
 *
 * `active` as keyhole answers it: true only when the person is not offboarded (whoever offboarded them) and SCIM did
 * not write `active: false`.
 */
import type { PersonRecord, ScimFields } from '../store/types.js';
import { ScimError, USER_SCHEMA } from './scim-response.js';

const MAX_TEXT = 512;

export function scimUser(p: PersonRecord, baseUrl: string): Record<string, unknown> {
  return {
    schemas: [USER_SCHEMA],
    id: p.id,
    ...(p.externalId !== null ? { externalId: p.externalId } : {}),
    userName: p.userName,
    ...(p.name !== null ? { name: { formatted: p.name }, displayName: p.name } : {}),
    ...(p.email !== null ? { emails: [{ value: p.email, type: 'work', primary: true }] } : {}),
    active: p.status === 'active' && p.scimActive !== false,
    // RFC 7643 §3.1: meta.resourceType, created, location.
    meta: { resourceType: 'User', created: new Date(p.createdAt * 1000).toISOString(), location: `${baseUrl}/scim/v2/Users/${p.id}` },
  };
}

function text(v: unknown, attr: string): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') throw new ScimError(400, `${attr} must be a string`, 'invalidValue');
  const t = v.trim();
  if (t.length > MAX_TEXT) throw new ScimError(400, `${attr} is longer than ${MAX_TEXT} characters`, 'invalidValue');
  if (/[\u0000-\u001f\u007f]/.test(t)) throw new ScimError(400, `${attr} contains control characters`, 'invalidValue');
  return t === '' ? null : t;
}

/**
 * A SCIM boolean: true/false, or the strings "true"/"false" in any case (some Entra ID tenants send "False").
 * Anything else is 400 invalidValue.
 */
export function scimBoolean(v: unknown, attr = 'active'): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string' && /^(true|false)$/i.test(v.trim())) return v.trim().toLowerCase() === 'true';
  throw new ScimError(400, `${attr} must be a boolean`, 'invalidValue');
}

/** `name`: the formatted name, else given + family names. */
export function nameOf(v: unknown): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'object' || Array.isArray(v)) throw new ScimError(400, 'name must be an object', 'invalidValue');
  const n = v as Record<string, unknown>;
  const formatted = text(n.formatted, 'name.formatted');
  if (formatted) return formatted;
  const parts = [text(n.givenName, 'name.givenName'), text(n.familyName, 'name.familyName')].filter((x): x is string => x !== null);
  return parts.length ? parts.join(' ') : null;
}

/** `emails`: the primary value, else the first. */
export function emailOf(v: unknown): string | null {
  if (v === undefined || v === null) return null;
  if (!Array.isArray(v)) throw new ScimError(400, 'emails must be an array', 'invalidValue');
  const items = v.filter((e): e is Record<string, unknown> => typeof e === 'object' && e !== null && !Array.isArray(e));
  const chosen = items.find((e) => e.primary === true || e.primary === 'true' || e.primary === 'True') ?? items[0];
  return chosen ? text(chosen.value, 'emails.value') : null;
}

/** What a full User (POST, PUT) says; `userName` is required (RFC 7643 §4.1.1). */
export interface ScimUserInput extends Required<Pick<ScimFields, 'userName' | 'externalId' | 'email' | 'name'>> {
  userName: string;
  /** Absent in the body: true (RFC 7643 §4.1.1 leaves the default to the provider). */
  active: boolean;
}

export function parseScimUser(body: Record<string, unknown>): ScimUserInput {
  const userName = text(body.userName, 'userName');
  if (!userName) throw new ScimError(400, 'userName is required', 'invalidValue');
  const name = nameOf(body.name) ?? text(body.displayName, 'displayName');
  return {
    userName,
    externalId: text(body.externalId, 'externalId'),
    email: emailOf(body.emails) ?? (userName.includes('@') ? userName : null),
    name,
    active: body.active === undefined || body.active === null ? true : scimBoolean(body.active),
  };
}
