/**
 * The admin surface: HTML pages under /admin (session cookie + CSRF) and the JSON API under /admin/api
 * (bearer admin token). Without `admin.token` in the config nothing is mounted: /admin and /admin/api answer 404.
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
  if (!token) return app;
  const ctx = createAdminContext(deps, token, opts);
  if (deps.pinRegistry) app.route('/', toolApprovalRoutes(ctx, { pinRegistry: deps.pinRegistry, approvedTools: deps.store.approvedTools }));
  app.route('/', apiRoutes(ctx));
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
