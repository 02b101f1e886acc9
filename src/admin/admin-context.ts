/**
 * What the admin routes share: dependencies, sessions, limiter and actions, built once per app.
 * Two ways into the pages: the admin token (`admin.token`, server-side sessions, session.ts), or, with
 * `identity.admins`, admin SSO through the organization's IdP (the person session, sso-session.ts), in which case
 * the token signs in to the JSON API only.
 */
import { randomBytes } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { PersonSessions } from '../people/person-session.js';
import type { KeyholeConfig } from '../config/schema.js';
import type { Store } from '../store/types.js';
import type { AuditLog } from '../store/repositories/audit-log.js';
import type { EventRecorder } from '../events/recorder.js';
import type { PinRegistry } from '../policy/pin-registry.js';
import type { GrantService } from '../grants/grant-service.js';
import type { PeopleService } from '../people/people-service.js';
import { AdminActions } from './admin-actions.js';
import { perInstance } from '../http/rate-limit.js';
import { AdminAttemptGuard, type AdminAttemptGuardOptions } from '../http/failure-limiter.js';
import { AdminSessions, adminCookie, requireSession, type AdminCookie, type AdminSessionOptions, type SessionEnv } from './session.js';
import { requireSsoSession, signInRecorder, type AdminSso } from './sso-session.js';
import { clientAddress } from '../http/client-address.js';

export interface AdminDeps {
  config: KeyholeConfig;
  store: Store;
  events: EventRecorder;
  grants: Pick<GrantService, 'revoke'>;
  clock: () => number;
  /** Pinned tools (`pinTools`): the live snapshots (approvals are stored in `store.approvedTools`). */
  pinRegistry?: PinRegistry;
  /** The audit log (issue 14) behind `/admin/api/audit`; absent: those routes answer 404. */
  auditLog?: AuditLog;
  /** The tools each upstream listed last since start, and when (the Tools page). */
  listedTools?: (server: string) => { names: string[]; at: number } | undefined;
  /** People (issue 13), with `identity`: offboard and reinstate (the People page and API), and the person sessions for
   *  admin SSO (`identity.admins`); absent: the People routes answer 404. */
  people?: { service: Pick<PeopleService, 'offboard' | 'reinstate'>; sessions: Pick<PersonSessions, 'read' | 'end'> };
  /** Keys the admin SSO CSRF tokens (the same on every instance); absent: a random key per process. */
  csrfKey?: Buffer;
}

export interface AdminOptions {
  sessions?: AdminSessionOptions;
  /** Failed sign-ins (page) or bearer attempts (API) per address and minute before 429. Default 5. */
  maxFailuresPerMinute?: number;
  /** The failure budget shared by all addresses, its backoff and the trusted-address exemption (failure-limiter.ts). */
  attempts?: Omit<AdminAttemptGuardOptions, 'perAddressPerMinute'>;
  /** Rows per page on the HTML pages. Default 50. */
  pageSize?: number;
}

export interface AdminContext extends AdminDeps {
  /** `admin.token`: the JSON API (always) and the pages (without admin SSO). Absent: no JSON API. */
  token: string | undefined;
  /** Admin SSO, with `identity.admins`: the pages sign admins in through the organization's IdP. */
  sso: AdminSso | undefined;
  /** The pages' session check: admin token session, or the person session of an admin (SSO). */
  requireSession: MiddlewareHandler<SessionEnv>;
  /** Admin SSO: records `admin.signed_in` once per person session. */
  recordSsoSignIn: ReturnType<typeof signInRecorder> | undefined;
  sessions: AdminSessions;
  cookie: AdminCookie;
  limiter: AdminAttemptGuard;
  actions: AdminActions;
  pageSize: number;
  /** Server names from the config (for the filter forms). */
  serverNames: string[];
}

/** Admin SSO when the config has `identity.admins` (the person sessions must then be wired). */
export function adminSsoOf(deps: AdminDeps): AdminSso | undefined {
  const identity = deps.config.identity;
  if (!identity?.admins) return undefined;
  if (!deps.people) throw new TypeError('admin SSO (identity.admins) needs the person sessions');
  return { identity: { ...identity, admins: identity.admins }, sessions: deps.people.sessions, csrfKey: deps.csrfKey ?? randomBytes(32), events: deps.events };
}

export function createAdminContext(deps: AdminDeps, token: string | undefined, opts: AdminOptions = {}): AdminContext {
  const sessions = new AdminSessions(deps.store.adminSessions, opts.sessions);
  const cookie = adminCookie(deps.config.publicUrl, Math.floor(sessions.ttlMs / 1000));
  const sso = adminSsoOf(deps);
  const recordSsoSignIn = sso ? signInRecorder(sso, clientAddress) : undefined;
  return {
    ...deps,
    token,
    sso,
    recordSsoSignIn,
    requireSession: sso && recordSsoSignIn ? requireSsoSession(sso, recordSsoSignIn) : requireSession(sessions, cookie),
    sessions,
    cookie,
    limiter: new AdminAttemptGuard({
      ...opts.attempts,
      // each instance counts its own failures: limit / instances per instance (docs/architecture.md, "Several instances")
      perAddressPerMinute: perInstance(opts.maxFailuresPerMinute ?? 5, deps.config.instances),
      globalPerMinute: perInstance(opts.attempts?.globalPerMinute ?? 20, deps.config.instances),
    }),
    actions: new AdminActions(deps),
    pageSize: opts.pageSize ?? 50,
    serverNames: Object.keys(deps.config.servers),
  };
}
