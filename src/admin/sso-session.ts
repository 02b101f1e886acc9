/**
 * Admin SSO (issue 13 §4): with `identity.admins`, the admin pages sign admins in through the organization's IdP.
 * There is no admin password form then: the admin session IS the person session (src/people/person-session.ts, set by
 * /identity/callback), checked on every request:
 * - no valid person session (none, expired, signed out, or the person was offboarded: offboarding deletes their
 *   sessions and `read` refuses an offboarded person) → 303 to /identity/login?return=<this page> (for GET) or to
 *   /admin/login (anything else), so a blocked person never gets in;
 * - a person who is not an admin (`identity.admins.groups`, `identity.admins.emails`, against the groups and email of
 *   their latest sign-in) → a 403 page and an `admin.sign_in_refused` event with their person id;
 * - an admin → the session's actor is `person:<id>`, recorded on every action they take.
 * The person cookie is SameSite=Lax (it must survive the IdP's redirect back), so every state-changing admin form
 * still carries a CSRF token: HMAC-SHA256(key, "admin-csrf|" + session hash), which only keyhole can compute and which
 * changes with every sign-in; plus the Origin / Sec-Fetch-Site checks of csrf.ts.
 * @see https://cheatsheetseries.owasp.org/cheatsheets/Cross-Site_Request_Forgery_Prevention_Cheat_Sheet.html#signed-double-submit-cookie-recommended
 */
import { createHmac } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import type { IdentityConfig } from '../config/identity-schema.js';
import type { EventRecorder } from '../events/recorder.js';
import type { PersonSession, PersonSessions } from '../people/person-session.js';
import { isAdmin } from '../people/group-policy.js';
import type { AdminSession, SessionEnv } from './session.js';
import { adminMessage } from './page.js';

export const ORG_LOGIN_PATH = '/identity/login';

export interface AdminSso {
  identity: IdentityConfig & { admins: NonNullable<IdentityConfig['admins']> };
  sessions: Pick<PersonSessions, 'read' | 'end'>;
  /** Keys the CSRF tokens: the shared random key sealed in the database (src/vault/shared-keys.ts), the same on every instance. */
  csrfKey: Buffer;
  events: Pick<EventRecorder, 'record'>;
}

export type SsoCheck =
  | { kind: 'signed_out' }
  | { kind: 'not_admin'; signedIn: PersonSession }
  | { kind: 'admin'; signedIn: PersonSession; session: AdminSession };

/** The CSRF token of one person session for the admin pages. */
export function ssoCsrf(key: Buffer, sessionHash: string): string {
  return createHmac('sha256', key).update(`admin-csrf|${sessionHash}`).digest('base64url');
}

/** Who this browser is, for the admin pages. */
export async function checkSso(sso: AdminSso, c: Context): Promise<SsoCheck> {
  const signedIn = await sso.sessions.read(c);
  if (!signedIn) return { kind: 'signed_out' };
  if (!isAdmin(sso.identity, signedIn.person)) return { kind: 'not_admin', signedIn };
  const { person, session } = signedIn;
  return {
    kind: 'admin',
    signedIn,
    session: {
      key: session.hash,
      csrf: ssoCsrf(sso.csrfKey, session.hash),
      createdAt: session.createdAt * 1000,
      lastSeenAt: Date.now(),
      expiresAt: session.expiresAt * 1000,
      actor: `person:${person.id}`,
      personId: person.id,
      displayName: person.name && person.email ? `${person.name} (${person.email})` : (person.name ?? person.email ?? person.id),
    },
  };
}

/** Where a signed-out browser goes: the organization sign-in, back to `returnTo` afterwards. */
export function orgLoginUrl(returnTo: string): string {
  return `${ORG_LOGIN_PATH}?return=${encodeURIComponent(returnTo)}`;
}

/** The 403 for a signed-in person who is not an admin, recorded as `admin.sign_in_refused`. */
export async function refuseNonAdmin(sso: AdminSso, c: Context, signedIn: PersonSession): Promise<Response> {
  const { person } = signedIn;
  await sso.events.record({
    type: 'admin.sign_in_refused', outcome: 'failure', personId: person.id,
    detail: { via: 'sso', reason: 'not_admin', email: person.email, path: new URL(c.req.url).pathname.slice(0, 200) },
  });
  c.header('Cache-Control', 'no-store');
  const who = person.email ?? person.name ?? 'this account';
  return adminMessage(c, 403, 'Not an admin', `You are signed in as ${who}, which is not one of keyhole's admins. Ask an admin to add you to an admin group.`, undefined, { href: '/account', label: 'See your own access' });
}

/** Person sessions already recorded as an admin sign-in (bounded; a restart records the next use again). */
const MAX_REMEMBERED = 10_000;

/**
 * Records `admin.signed_in` (via `sso`, with the person id) the first time a person session is used on the admin
 * pages: the admin's sign-in, wherever they entered (/admin/login, a deep link, after signing in for /account).
 */
export function signInRecorder(sso: AdminSso, clientAddress: (c: Context) => string) {
  const seen = new Set<string>();
  return async (c: Context, check: Extract<SsoCheck, { kind: 'admin' }>): Promise<void> => {
    const key = check.signedIn.session.hash;
    if (seen.has(key)) return;
    if (seen.size >= MAX_REMEMBERED) seen.delete(seen.values().next().value as string);
    seen.add(key);
    const { person } = check.signedIn;
    await sso.events.record({ type: 'admin.signed_in', personId: person.id, detail: { via: 'sso', actor: check.session.actor, email: person.email, address: clientAddress(c) } });
  };
}

/** The pages' session check with admin SSO: the person session of an admin, else sign-in or 403 (see the file comment). */
export function requireSsoSession(sso: AdminSso, recordSignIn: ReturnType<typeof signInRecorder>): MiddlewareHandler<SessionEnv> {
  return async function requireAdminSso(c, next) {
    const check = await checkSso(sso, c);
    if (check.kind === 'signed_out') {
      c.header('Cache-Control', 'no-store');
      const url = new URL(c.req.url);
      return c.redirect(c.req.method === 'GET' ? orgLoginUrl(url.pathname + url.search) : '/admin/login', 303);
    }
    if (check.kind === 'not_admin') return refuseNonAdmin(sso, c, check.signedIn);
    await recordSignIn(c, check);
    c.set('session', check.session);
    await next();
  };
}
