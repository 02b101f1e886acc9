/**
 * The admin surface: HTML pages under /admin (session cookie + CSRF) and the JSON API under /admin/api
 * (bearer admin token). The pages sign in with the admin token, or with `identity.admins` through the
 * organization's IdP (admin SSO, sso-session.ts). Without `admin.token` there is no JSON API (404); with neither
 * `admin.token` nor `identity.admins` nothing is mounted: /admin and /admin/api answer 404.
 */
import { Hono } from 'hono';
import { createAdminContext, type AdminDeps, type AdminOptions } from './admin-context.js';
import { apiRoutes } from './api-routes.js';
import { toolApprovalRoutes } from './tool-approval-routes.js';
import { signInRoutes } from './sign-in-routes.js';
import { grantsRoutes } from './grants-routes.js';
import { peopleRoutes } from './people-routes.js';
import { clientsRoutes } from './clients-routes.js';
import { eventsRoutes } from './events-routes.js';
import { activityRoutes } from './activity-routes.js';
import { toolsRoutes } from './tools-routes.js';
import { adminMessage } from './page.js';

export type { AdminDeps, AdminOptions } from './admin-context.js';

export function adminRoutes(deps: AdminDeps, opts: AdminOptions = {}): Hono {
  const app = new Hono();
  const token = deps.config.admin?.token;
  if (!token && !deps.config.identity?.admins) return app;
  const ctx = createAdminContext(deps, token, opts);
  if (token) {
    if (deps.pinRegistry) app.route('/', toolApprovalRoutes(ctx, { pinRegistry: deps.pinRegistry, approvedTools: deps.store.approvedTools }, token));
    app.route('/', apiRoutes(ctx, token));
  } else {
    app.all('/admin/api/*', (c) => c.json({ error: 'not_found', error_description: 'the admin JSON API needs admin.token in the configuration' }, 404));
  }
  app.route('/', signInRoutes(ctx));
  app.route('/', grantsRoutes(ctx));
  app.route('/', peopleRoutes(ctx));
  app.route('/', clientsRoutes(ctx));
  app.route('/', eventsRoutes(ctx));
  app.route('/', activityRoutes(ctx));
  app.route('/', toolsRoutes(ctx));
  app.all('/admin/*', (c) => adminMessage(c, 404, 'Not found', 'There is no admin page at this address.'));
  return app;
}
