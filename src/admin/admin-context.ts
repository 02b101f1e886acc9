/** What the admin routes share: dependencies, sessions, limiter and actions, built once per app. */
import type { KeyholeConfig } from '../config/schema.js';
import type { Store } from '../store/types.js';
import type { EventRecorder } from '../events/recorder.js';
import type { GrantRevoker } from '../lifecycle/grant-revoker.js';
import { AdminActions } from './admin-actions.js';
import { FailureLimiter } from './failure-limiter.js';
import { AdminSessions, adminCookie, type AdminCookie, type AdminSessionOptions } from './session.js';

export interface AdminDeps {
  config: KeyholeConfig;
  store: Store;
  events: EventRecorder;
  revoker: GrantRevoker;
  clock: () => number;
}

export interface AdminOptions {
  sessions?: AdminSessionOptions;
  /** Failed sign-ins (page) or bearer attempts (API) per address and minute before 429. Default 5. */
  maxFailuresPerMinute?: number;
  /** Rows per page on the HTML pages. Default 50. */
  pageSize?: number;
}

export interface AdminContext extends AdminDeps {
  token: string;
  sessions: AdminSessions;
  cookie: AdminCookie;
  limiter: FailureLimiter;
  actions: AdminActions;
  pageSize: number;
  /** Server names from the config (for the filter forms). */
  serverNames: string[];
}

export function createAdminContext(deps: AdminDeps, token: string, opts: AdminOptions = {}): AdminContext {
  const sessions = new AdminSessions(opts.sessions);
  return {
    ...deps,
    token,
    sessions,
    cookie: adminCookie(deps.config.publicUrl, Math.floor(sessions.ttlMs / 1000)),
    limiter: new FailureLimiter(opts.maxFailuresPerMinute ?? 5, 60_000),
    actions: new AdminActions(deps),
    pageSize: opts.pageSize ?? 50,
    serverNames: Object.keys(deps.config.servers),
  };
}
