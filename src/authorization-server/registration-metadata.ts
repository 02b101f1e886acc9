/**
 * Validation of dynamic registration metadata (RFC 7591 §2), bounded field by field so that an unauthenticated caller
 * cannot store much: every refusal names the field in `error_description`.
 * - Known fields: types, lengths, counts; URI fields (client_uri, logo_uri, …) are absolute http(s) URLs.
 * - Unknown fields are kept and echoed (RFC 7591 §3.2.1, docs/client-requirements.md C.11) within bounds: at most
 *   MAX_UNKNOWN_FIELDS, names of visible ASCII, each value's JSON at most MAX_UNKNOWN_VALUE_BYTES, all together at most
 *   MAX_UNKNOWN_TOTAL_BYTES.
 * - `application_type` (OpenID Connect Dynamic Client Registration 1.0 §2): `native` or `web`. When absent keyhole does
 *   NOT apply OpenID's default (`web`), since MCP clients omit it and register loopback redirects: it applies the
 *   native rules, then records and echoes what the accepted redirect URIs show (`web` if all are https, else `native`).
 * - Redirect URIs: the valid ones are kept and the others dropped (RFC 7591 §3.2.1 lets the server replace requested
 *   values; the response's `redirect_uris` says what was registered). Only when none is valid is the registration
 *   refused, naming the first bad URI and why. Rationale: clients such as Cursor list several URIs, some of them odd;
 *   refusing all would leave the user with no way to connect, while a dropped URI can never be used at /authorize.
 * @see https://www.rfc-editor.org/rfc/rfc7591#section-2
 * @see https://openid.net/specs/openid-connect-registration-1_0.html#ClientMetadata
 */
import { z } from 'zod';
import { InvalidClientMetadataError, InvalidRedirectUriError } from '../oauth/errors.js';
import { isNativeRedirect, redirectUriProblem } from '../oauth/redirect-uri.js';

/** Largest registration body keyhole reads (real payloads are well under 1 KiB). */
export const MAX_REGISTRATION_BYTES = 8 * 1024;
export const MAX_REDIRECT_URIS = 20;
export const MAX_FIELDS = 40;
export const MAX_UNKNOWN_FIELDS = 20;
export const MAX_UNKNOWN_VALUE_BYTES = 1_024;
export const MAX_UNKNOWN_TOTAL_BYTES = 4_096;

/** Fields only the authorization server assigns (RFC 7591 §3.2.1, RFC 7592 §3): dropped from the request. */
export const SERVER_ASSIGNED = new Set(['client_id', 'client_secret', 'client_id_issued_at', 'client_secret_expires_at', 'registration_access_token', 'registration_client_uri']);

const text = (max: number) => z.string().max(max, `must be at most ${max} characters`);
const webUrl = text(1_000).refine((u) => {
  try {
    const url = new URL(u);
    return (url.protocol === 'https:' || url.protocol === 'http:') && !/[\u0000-\u0020\u007f-\u009f]/.test(u);
  } catch {
    return false;
  }
}, 'must be an absolute http(s) URL');

export const registrationSchema = z.looseObject({
  redirect_uris: z.array(text(2_000)).min(1, 'at least one redirect URI is required').max(MAX_REDIRECT_URIS, `at most ${MAX_REDIRECT_URIS} redirect URIs`),
  token_endpoint_auth_method: z.enum(['none', 'client_secret_basic', 'client_secret_post']).optional(),
  // Grant types keyhole does not support (e.g. VS Code's device_code) are dropped, not refused: RFC 7591 §3.2.1.
  grant_types: z.array(text(200)).max(10, 'at most 10 grant types').optional(),
  response_types: z.array(z.literal('code')).max(1).optional(),
  application_type: z.enum(['native', 'web']).optional(),
  client_name: text(200).optional(),
  client_uri: webUrl.optional(),
  logo_uri: webUrl.optional(),
  policy_uri: webUrl.optional(),
  tos_uri: webUrl.optional(),
  jwks_uri: webUrl.optional(),
  scope: text(1_000).optional(),
  contacts: z.array(text(320)).max(10, 'at most 10 contacts').optional(),
  software_id: text(200).optional(),
  software_version: text(200).optional(),
});
const KNOWN = new Set(Object.keys(registrationSchema.shape));

export type RegistrationMetadata = z.infer<typeof registrationSchema>;

const SUPPORTED_GRANT_TYPES = ['authorization_code', 'refresh_token'] as const;

/**
 * The grant types keyhole registers: the supported ones asked for (both when none is asked: clients that omit
 * grant_types still refresh in practice; RFC 7591 §3.2.1 lets the server replace values). authorization_code is required.
 */
export function registeredGrantTypes(asked: readonly string[] | undefined): Array<(typeof SUPPORTED_GRANT_TYPES)[number]> {
  if (asked === undefined) return [...SUPPORTED_GRANT_TYPES];
  const kept = SUPPORTED_GRANT_TYPES.filter((g) => asked.includes(g));
  if (!kept.includes('authorization_code')) throw new InvalidClientMetadataError('grant_types: must include authorization_code (keyhole supports authorization_code and refresh_token)');
  return kept;
}

export interface AcceptedRegistration {
  meta: RegistrationMetadata;
  /** The request's fields minus the server-assigned ones (unknown fields included, within bounds). */
  clientFields: Record<string, unknown>;
  redirectUris: string[];
  /** Redirect URIs dropped as invalid (count only goes to events). */
  dropped: number;
  applicationType: 'native' | 'web';
}

function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? '');
}

/** Bounds on the fields keyhole does not know but echoes. */
function checkUnknownFields(raw: Record<string, unknown>): void {
  const unknown = Object.keys(raw).filter((k) => !KNOWN.has(k) && !SERVER_ASSIGNED.has(k));
  if (unknown.length > MAX_UNKNOWN_FIELDS) throw new InvalidClientMetadataError(`metadata: at most ${MAX_UNKNOWN_FIELDS} extension fields (got ${unknown.length})`);
  let total = 0;
  for (const k of unknown) {
    if (!/^[\x21-\x7e]{1,64}$/.test(k)) throw new InvalidClientMetadataError(`${JSON.stringify(k.slice(0, 64))}: field names are 1 to 64 visible ASCII characters`);
    const bytes = jsonBytes(raw[k]);
    if (bytes > MAX_UNKNOWN_VALUE_BYTES) throw new InvalidClientMetadataError(`${k}: the value is larger than ${MAX_UNKNOWN_VALUE_BYTES} bytes`);
    total += bytes;
  }
  if (total > MAX_UNKNOWN_TOTAL_BYTES) throw new InvalidClientMetadataError(`metadata: extension fields are larger than ${MAX_UNKNOWN_TOTAL_BYTES} bytes together`);
}

/** Validates a parsed registration body. Throws InvalidClientMetadataError / InvalidRedirectUriError naming the field. */
export function acceptRegistration(raw: Record<string, unknown>): AcceptedRegistration {
  if (raw.redirect_uris === undefined) throw new InvalidRedirectUriError('redirect_uris is required');
  if (Object.keys(raw).length > MAX_FIELDS) throw new InvalidClientMetadataError(`metadata: at most ${MAX_FIELDS} fields`);
  const parsed = registrationSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.map(String).join('.');
    if (field.startsWith('redirect_uris')) throw new InvalidRedirectUriError(`${field}: ${issue.message}`);
    throw new InvalidClientMetadataError(`${field || 'metadata'}: ${issue.message}`);
  }
  checkUnknownFields(raw);
  const meta = parsed.data;
  const declared = meta.application_type ?? 'unspecified';
  const redirectUris: string[] = [];
  let firstProblem: string | undefined;
  let dropped = 0;
  meta.redirect_uris.forEach((uri, i) => {
    const problem = redirectUriProblem(uri, declared);
    if (!problem) {
      if (!redirectUris.includes(uri)) redirectUris.push(uri);
    } else {
      dropped += 1;
      firstProblem ??= `redirect_uris.${i} ${JSON.stringify(uri.slice(0, 200))} ${problem}`;
    }
  });
  if (redirectUris.length === 0) throw new InvalidRedirectUriError(firstProblem ?? 'redirect_uris: no valid redirect URI');
  const applicationType = meta.application_type ?? (redirectUris.some((u) => isNativeRedirect(new URL(u))) ? 'native' : 'web');
  const clientFields = Object.fromEntries(Object.entries(raw).filter(([k]) => !SERVER_ASSIGNED.has(k)));
  return { meta, clientFields, redirectUris, dropped, applicationType };
}
