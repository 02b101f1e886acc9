/** What the admin routes share: dependencies, sessions, limiter and actions, built once per app. */
import type { KeyholeConfig } from '../config/schema.js';
import type { Store } from '../store/types.js';
import type { AuditLog } from '../store/repositories/audit-log.js';
import type { EventRecorder } from '../events/recorder.js';
import type { PinRegistry } from '../policy/pin-registry.js';
import type { GrantService } from '../grants/grant-service.js';
import type { PeopleService } from '../people/people-service.js';
import { AdminActions } from './admin-actions.js';
import { perInstance } from '../http/rate-limit.js';
import { AdminAttemptGuard, type AdminAttemptGuardOptions } from './failure-limiter.js';
import { AdminSessions, adminCookie, type AdminCookie, type AdminSessionOptions } from './session.js';

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
  /** People (issue 13), with `identity`: offboard and reinstate (the People page and API); absent: 404. */
  people?: { service: Pick<PeopleService, 'offboard' | 'reinstate'> };
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
  token: string;
  sessions: AdminSessions;
  cookie: AdminCookie;
  limiter: AdminAttemptGuard;
  actions: AdminActions;
  pageSize: number;
  /** Server names from the config (for the filter forms). */
  serverNames: string[];
}

export function createAdminContext(deps: AdminDeps, token: string, opts: AdminOptions = {}): AdminContext {
  const sessions = new AdminSessions(deps.store.adminSessions, opts.sessions);
  return {
    ...deps,
    token,
    sessions,
    cookie: adminCookie(deps.config.publicUrl, Math.floor(sessions.ttlMs / 1000)),
    limiter: new AdminAttemptGuard({ ...opts.attempts, perAddressPerMinute: perInstance(opts.maxFailuresPerMinute ?? 5, deps.config.instances) }),
    actions: new AdminActions(deps),
    pageSize: opts.pageSize ?? 50,
    serverNames: Object.keys(deps.config.servers),
  };
}
