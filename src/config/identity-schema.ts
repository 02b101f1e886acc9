/**
 * The `identity` block (issue 13): the organization's OpenID Connect provider (Okta, Entra ID, Google Workspace,
 * Keycloak…) that signs people in before consent, and the group policy fields that go with it. For schema.ts to plug in:
 * - top level: `identity` → {@link identitySchema} (optional; absent = keyhole behaves as before, the person is the
 *   upstream subject);
 * - per server: `access` → {@link serverAccessSchema} (`{ "groups": [...] }`: which groups may use this server);
 * - per keyhole scope: `groups` → {@link scopeGroupsSchema} (which groups may be granted this scope).
 *
 * keyhole is an OIDC relying party of `issuer` (code flow, PKCE S256, `nonce`, ID token validation), redirect URI
 * `<publicUrl>/identity/callback` (src/people/org-idp-client.ts, src/org-sign-in/).
 * Group names are compared exactly (case-sensitive), as the IdP sends them in `groupsClaim`.
 * @see https://openid.net/specs/openid-connect-core-1_0.html#CodeFlowAuth
 */
import { z } from 'zod';

const httpUrl = z.string().url().refine((u) => /^https?:\/\//.test(u), 'must be an http(s) URL');
const groupName = z.string().min(1).max(256);
const groupList = z.array(groupName).min(1, 'name at least one group (leave the field out to allow everyone)').max(500);

/** Eight hours: a working day without a second sign-in. */
export const DEFAULT_PERSON_SESSION_SECONDS = 8 * 3600;

export const identitySchema = z.strictObject({
  /** The IdP's issuer; its discovery document is `<issuer>/.well-known/openid-configuration`. */
  issuer: httpUrl,
  /** keyhole's client id at the IdP (a confidential "web" application with redirect `<publicUrl>/identity/callback`). */
  clientId: z.string().min(1),
  /** keyhole's client secret at the IdP, usually `${ORG_CLIENT_SECRET}` (client_secret_basic). */
  clientSecret: z.string().min(1),
  /** Scopes asked at sign-in; must include `openid`. Add `groups` (Okta) or `offline_access` where the IdP needs them. */
  scopes: z.array(z.string().min(1)).refine((s) => s.includes('openid'), 'must include "openid"').default(['openid', 'email', 'profile']),
  /** The ID token / userinfo claim holding the person's groups (an array of strings, or one string). */
  groupsClaim: z.string().min(1).default('groups'),
  /** Only members of at least one of these groups may use keyhole at all. Absent: every person the IdP signs in. */
  allowedGroups: groupList.optional(),
  /** Who may use /admin when signed in through the IdP (members of `groups`, or one of `emails`). */
  admins: z.strictObject({
    groups: groupList.optional(),
    emails: z.array(z.string().email()).min(1).max(500).optional(),
  }).refine((a) => a.groups || a.emails, 'name "groups" or "emails" (or leave "admins" out)').optional(),
  /** At most this often (seconds, ≥ 1), a token refresh re-checks the person at the IdP. */
  revalidateSeconds: z.number().int().min(1).max(7 * 86_400).default(900),
  /** SCIM 2.0 provisioning under /scim/v2, with this bearer token (usually `${KEYHOLE_SCIM_TOKEN}`). */
  scim: z.strictObject({
    token: z.string().min(24, 'must be at least 24 characters (use `openssl rand -base64 32`)'),
  }).optional(),
  /** Lifetime of keyhole's person-session cookie (seconds, 60 s … 7 days): how long a sign-in spares the next. */
  sessionSeconds: z.number().int().min(60).max(7 * 86_400).default(DEFAULT_PERSON_SESSION_SECONDS),
});

/** Per server: `"access": { "groups": [...] }`: only members of one of these groups may use the server. */
export const serverAccessSchema = z.strictObject({
  groups: groupList,
});

/** Per keyhole scope: `"groups": [...]`: only members of one of these groups may be granted the scope. */
export const scopeGroupsSchema = groupList;

export type IdentityConfig = z.infer<typeof identitySchema>;
export type ServerAccessConfig = z.infer<typeof serverAccessSchema>;
