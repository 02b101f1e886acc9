/**
 * SCIM PATCH of a User (RFC 7644 §3.5.2, PatchOp), the shapes Okta, Entra ID and other provisioning tools send
 * (docs: /work/shared/TESTING-NOTES.md "What real IdPs send to a SCIM 2.0 endpoint"):
 * - Okta:  `{"op":"replace","value":{"active":false}}` (no path, the value an object of attributes);
 * - Entra: `{"op":"Replace","path":"active","value":false}`, sometimes `"value":"False"` (a string);
 * - others: `{"op":"add","value":{"active":false}}`.
 * The op word is compared case-insensitively (Entra capitalizes it). `add` and `replace` set a single-valued
 * attribute alike (RFC 7644 §3.5.2.1, §3.5.2.3); `remove` clears one (§3.5.2.2). Paths may carry the core schema
 * URN prefix (RFC 7644 §3.10); attributes keyhole does not keep (enterprise extension, title…) are ignored.
 *
 * A leaver must never stay active because of a word keyhole did not expect: an operation with an unknown `op` is a
 * 400 `invalidSyntax`, but a deactivation anywhere in the request (`active` false, in any shape) is still returned
 * and applied by the caller first.
 */
import { PATCH_SCHEMA, ScimError } from './scim-response.js';
import { emailOf, nameOf, scimBoolean } from './scim-user.js';

const CORE_PREFIX = 'urn:ietf:params:scim:schemas:core:2.0:user:';

export interface ScimPatch {
  active?: boolean;
  userName?: string | null;
  externalId?: string | null;
  email?: string | null;
  name?: string | null;
  /** The request's first error, raised by the caller after applying a deactivation. */
  error?: ScimError;
}

function str(v: unknown, attr: string): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v !== 'string') throw new ScimError(400, `${attr} must be a string`, 'invalidValue');
  const t = v.trim();
  if (t.length > 512 || /[\u0000-\u001f\u007f]/.test(t)) throw new ScimError(400, `${attr} is not a valid value`, 'invalidValue');
  return t === '' ? null : t;
}

/** Sets one attribute (path lower-cased, URN prefix removed) on `out`; unknown attributes are ignored. */
function set(out: ScimPatch, names: { given?: string | null; family?: string | null }, path: string, value: unknown, remove: boolean): void {
  const p = path.toLowerCase().startsWith(CORE_PREFIX) ? path.slice(CORE_PREFIX.length).toLowerCase() : path.toLowerCase();
  switch (p) {
    case 'active':
      if (!remove) out.active = scimBoolean(value);
      return;
    case 'username':
      if (remove) throw new ScimError(400, 'userName is required and cannot be removed', 'mutability');
      out.userName = str(value, 'userName');
      if (!out.userName) throw new ScimError(400, 'userName cannot be empty', 'invalidValue');
      return;
    case 'externalid':
      out.externalId = remove ? null : str(value, 'externalId');
      return;
    case 'displayname':
    case 'name.formatted':
      out.name = remove ? null : str(value, p);
      return;
    case 'name.givenname':
      names.given = remove ? null : str(value, 'name.givenName');
      return;
    case 'name.familyname':
      names.family = remove ? null : str(value, 'name.familyName');
      return;
    case 'name':
      out.name = remove ? null : nameOf(value);
      return;
    case 'emails':
      out.email = remove ? null : emailOf(value);
      return;
    default:
      // `emails[type eq "work"].value`, `emails[primary eq true].value` (Entra ID, Okta).
      if (/^emails\[[^\]]*\]\.value$/.test(p)) out.email = remove ? null : str(value, 'emails.value');
  }
}

/** Finds `active: false` anywhere in an operation's value or path, to deactivate even when the op is unexpected. */
function deactivates(op: Record<string, unknown>): boolean {
  try {
    const path = typeof op.path === 'string' ? op.path.toLowerCase().replace(CORE_PREFIX, '') : undefined;
    if (path === 'active') return scimBoolean(op.value) === false;
    if (path === undefined && op.value && typeof op.value === 'object' && !Array.isArray(op.value)) {
      const entry = Object.entries(op.value as Record<string, unknown>).find(([k]) => k.toLowerCase().replace(CORE_PREFIX, '') === 'active');
      return entry !== undefined && scimBoolean(entry[1]) === false;
    }
  } catch { /* not a boolean: no deactivation */ }
  return false;
}

export function parseScimPatch(body: Record<string, unknown>): ScimPatch {
  const out: ScimPatch = {};
  const names: { given?: string | null; family?: string | null } = {};
  // RFC 7644 §3.5.2: "The body of an HTTP PATCH request MUST contain the attribute "Operations"".
  const ops = body.Operations ?? body.operations;
  if (!Array.isArray(ops) || ops.length === 0) throw new ScimError(400, 'the PATCH body needs a non-empty "Operations" array', 'invalidSyntax');
  if (body.schemas !== undefined && !(Array.isArray(body.schemas) && body.schemas.includes(PATCH_SCHEMA))) {
    out.error ??= new ScimError(400, `schemas must contain ${PATCH_SCHEMA}`, 'invalidSyntax');
  }
  for (const raw of ops) {
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
      out.error ??= new ScimError(400, 'each operation must be an object', 'invalidSyntax');
      continue;
    }
    const op = raw as Record<string, unknown>;
    const word = typeof op.op === 'string' ? op.op.trim().toLowerCase() : '';
    if (word !== 'add' && word !== 'replace' && word !== 'remove') {
      if (deactivates(op)) out.active = false;
      out.error ??= new ScimError(400, `op must be add, replace or remove (got ${JSON.stringify(String(op.op ?? '')).slice(0, 40)})`, 'invalidSyntax');
      continue;
    }
    try {
      if (typeof op.path === 'string' && op.path.trim() !== '') {
        set(out, names, op.path.trim(), op.value, word === 'remove');
      } else if (word === 'remove') {
        throw new ScimError(400, 'remove needs a path', 'noTarget'); // RFC 7644 §3.5.2.2
      } else if (op.value && typeof op.value === 'object' && !Array.isArray(op.value)) {
        for (const [k, v] of Object.entries(op.value as Record<string, unknown>)) set(out, names, k, v, false);
      } else {
        throw new ScimError(400, 'an operation without a path needs an object value', 'invalidValue');
      }
    } catch (e) {
      if (!(e instanceof ScimError)) throw e;
      if (deactivates(op)) out.active = false;
      out.error ??= e;
    }
  }
  if (out.name === undefined && (names.given !== undefined || names.family !== undefined)) {
    const parts = [names.given, names.family].filter((x): x is string => typeof x === 'string' && x !== '');
    out.name = parts.length ? parts.join(' ') : null;
  }
  return out;
}
